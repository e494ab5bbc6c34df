"""Generate the sample churn data set: a reference period, four production weeks, late labels.

Deterministic: the same seed gives the same bytes (numpy's PCG64 streams, fixed CSV
formatting, no library-dependent writers). Run ``python sample_data/generate.py`` to rewrite
the files next to this script; sample_data/README.md says what each file holds and why.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

SEED = 20261127
REFERENCE_ROWS = 20_000
WEEK_ROWS = 5_000
REFERENCE_START = datetime(2026, 1, 1)
REFERENCE_END = datetime(2026, 6, 29)  # production week 1 starts here
LABEL_COVERAGE = 0.95  # share of production rows whose outcome is ever labelled

COUNTRIES = ["US", "CA", "MX", "BR", "UK", "DE", "FR", "ES", "IT", "NL", "IN", "AU"]
REFERENCE_COUNTRY_WEIGHTS = [0.28, 0.06, 0.04, 0.06, 0.12, 0.10, 0.08, 0.06, 0.05, 0.05, 0.05, 0.05]
# Week 3: a launch in India and Brazil floods the sign-ups.
WEEK3_COUNTRY_WEIGHTS = [0.14, 0.03, 0.04, 0.22, 0.06, 0.05, 0.04, 0.03, 0.03, 0.02, 0.30, 0.04]
REGION = {
    "US": "north_america",
    "CA": "north_america",
    "MX": "latin_america",
    "BR": "latin_america",
    "UK": "europe",
    "DE": "europe",
    "FR": "europe",
    "ES": "europe",
    "IT": "europe",
    "NL": "europe",
    "IN": "asia_pacific",
    "AU": "asia_pacific",
}
GENDERS = ["female", "male", "non_binary"]
GENDER_WEIGHTS = [0.49, 0.49, 0.02]
AGE_GROUPS = [(18, "18-24"), (25, "25-34"), (35, "35-49"), (50, "50-64"), (65, "65+")]

# The disparity fairness checks should find: younger customers and men churn more at the
# same behaviour (logit offsets), and the youngest group's outcomes are noisier.
AGE_GROUP_EFFECT = {"18-24": 1.6, "25-34": 0.7, "35-49": 0.0, "50-64": -0.3, "65+": 0.3}
GENDER_EFFECT = {"female": 0.0, "male": 1.1, "non_binary": 0.4}
AGE_GROUP_LABEL_NOISE = {"18-24": 0.16, "25-34": 0.04, "35-49": 0.03, "50-64": 0.03, "65+": 0.05}

TARGET_COLUMNS = ["customer_id", "event_timestamp", "churned"]
"""churn_targets.csv: the reference's entity rows and labels alone, as a label table looks when
the features come from the feature store (docs/data.md, docs/experiments.md)."""
COLUMNS = [
    "customer_id",
    "event_timestamp",
    "age",
    "tenure_days",
    "total_orders",
    "avg_order_value",
    "days_since_last_order",
    "support_tickets",
    "country",
    "gender",
    "age_group",
    "region",
]


@dataclass
class Batch:
    """Column arrays of one generated batch (``customer_id`` may hold NaN for missing ids)."""

    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.columns["customer_id"])


@dataclass(frozen=True)
class Drift:
    age_shift: float = 0.0
    order_value_factor: float = 1.0
    recency_factor: float = 1.0
    recency_shift: float = 0.0
    extra_tickets: float = 0.0
    country_weights: tuple[float, ...] = tuple(REFERENCE_COUNTRY_WEIGHTS)


def customers(
    rng: np.random.Generator, n: int, first_id: int, start: datetime, days: float, drift: Drift = Drift()
) -> Batch:
    """Draw ``n`` customers' behaviour; ``drift`` moves the input distributions."""
    age = np.clip(np.round(rng.normal(41 + drift.age_shift, 13, n)), 18, 90).astype(int)
    tenure = np.clip(np.round(rng.gamma(2.0, 380, n)), 1, 3650).astype(int)
    engagement = rng.gamma(3.0, 1 / 3.0, n)
    total_orders = rng.poisson(1 + tenure / 45 * engagement)
    order_value = np.round(rng.lognormal(np.log(58), 0.45, n) * drift.order_value_factor, 2)
    recency = np.round(
        rng.exponential(22 / np.sqrt(engagement + 0.05), n) * drift.recency_factor + drift.recency_shift
    ).astype(int)
    tickets = rng.poisson(0.9 + 0.6 * (engagement < 0.6) + drift.extra_tickets, n)
    weights = np.array(drift.country_weights)
    country = rng.choice(COUNTRIES, n, p=weights / weights.sum())
    gender = rng.choice(GENDERS, n, p=GENDER_WEIGHTS)
    offsets = np.sort(rng.uniform(0, days * 86400, n))
    timestamps = np.array([start + timedelta(seconds=int(s)) for s in offsets])
    return Batch(
        {
            "customer_id": np.arange(first_id, first_id + n, dtype=float),
            "event_timestamp": timestamps,
            "age": age,
            "tenure_days": tenure,
            "total_orders": total_orders,
            "avg_order_value": order_value,
            "days_since_last_order": recency,
            "support_tickets": tickets,
            "country": country,
            "gender": gender,
            "age_group": np.array([age_group(a) for a in age]),
            "region": np.array([REGION[c] for c in country]),
        }
    )


def age_group(age: int) -> str:
    label = AGE_GROUPS[0][1]
    for lower, name in AGE_GROUPS:
        if age >= lower:
            label = name
    return label


def reference_logit(c: dict[str, np.ndarray]) -> np.ndarray:
    """How churn depended on behaviour during the reference period."""
    behaviour = (
        0.07 * (c["days_since_last_order"] - 25)
        - 0.0015 * (c["tenure_days"] - 700)
        + 0.75 * (c["support_tickets"] - 1)
        - 0.06 * (c["total_orders"] - 15)
        - 0.006 * (c["avg_order_value"] - 60)
    )
    return (
        -1.1
        + 2.5 * behaviour
        + np.array([AGE_GROUP_EFFECT[g] for g in c["age_group"]])
        + np.array([GENDER_EFFECT[g] for g in c["gender"]])
    )


def concept_drift_logit(c: dict[str, np.ndarray]) -> np.ndarray:
    """Week 4: a competitor's premium offer. Big spenders leave; recency matters less and
    support tickets no longer predict churn."""
    behaviour = (
        0.025 * (c["days_since_last_order"] - 25)
        - 0.0008 * (c["tenure_days"] - 700)
        - 0.03 * (c["total_orders"] - 15)
        + 0.03 * (c["avg_order_value"] - 60)
    )
    return (
        -1.3
        + 2.5 * behaviour
        + np.array([AGE_GROUP_EFFECT[g] for g in c["age_group"]])
        + np.array([GENDER_EFFECT[g] for g in c["gender"]])
    )


def outcomes(
    rng: np.random.Generator, batch: Batch, logit: Callable[[dict[str, np.ndarray]], np.ndarray]
) -> np.ndarray:
    probability = 1 / (1 + np.exp(-logit(batch.columns)))
    churned = (rng.uniform(size=len(batch)) < probability).astype(int)
    noise = np.array([AGE_GROUP_LABEL_NOISE[g] for g in batch.columns["age_group"]])
    flipped = rng.uniform(size=len(batch)) < noise
    return np.where(flipped, 1 - churned, churned)


def inject_quality_faults(rng: np.random.Generator, batch: Batch) -> None:
    """Week 2's upstream bug: 1.5% of rows lose their customer id, 1% get impossible ages."""
    n = len(batch)
    missing = rng.choice(n, int(n * 0.015), replace=False)
    batch.columns["customer_id"][missing] = np.nan
    wrong_age = rng.choice(n, int(n * 0.01), replace=False)
    batch.columns["age"][wrong_age] = rng.choice([-1, 0, 150, 212], len(wrong_age))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def format_cell(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else (str(int(value)) if float(value).is_integer() else f"{value:.2f}")
    return str(value)


def batch_rows(batch: Batch, extra: dict[str, np.ndarray] | None = None) -> list[list[str]]:
    columns = [batch.columns[name] for name in COLUMNS] + list((extra or {}).values())
    return [[format_cell(column[i]) for column in columns] for i in range(len(batch))]


def generate(out: Path, seed: int = SEED) -> list[Path]:
    """Write every sample file into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    written = []

    reference = customers(
        streams[0], REFERENCE_ROWS, 100_000, REFERENCE_START, (REFERENCE_END - REFERENCE_START).days
    )
    reference_churn = outcomes(streams[0], reference, reference_logit)
    path = out / "churn_reference.csv"
    write_csv(path, [*COLUMNS, "churned"], batch_rows(reference, {"churned": reference_churn}))
    written.append(path)
    path = out / "churn_targets.csv"
    write_csv(
        path, TARGET_COLUMNS, [row[:2] + row[-1:] for row in batch_rows(reference, {"c": reference_churn})]
    )
    written.append(path)

    weeks = {
        1: Drift(),
        2: Drift(age_shift=3.0, order_value_factor=1.12),
        3: Drift(
            recency_factor=2.2,
            recency_shift=12,
            extra_tickets=1.5,
            country_weights=tuple(WEEK3_COUNTRY_WEIGHTS),
        ),
        4: Drift(),
    }
    label_rows: list[list[str]] = []
    for week, drift in weeks.items():
        rng = streams[week]
        start = REFERENCE_END + timedelta(days=7 * (week - 1))
        batch = customers(rng, WEEK_ROWS, 200_000 + 10_000 * week, start, 7, drift)
        churn = outcomes(rng, batch, concept_drift_logit if week == 4 else reference_logit)
        if week == 2:
            inject_quality_faults(rng, batch)
        path = out / f"churn_week_{week}.csv"
        write_csv(path, COLUMNS, batch_rows(batch))
        written.append(path)
        labelled = rng.uniform(size=len(batch)) < LABEL_COVERAGE
        delays = rng.uniform(14, 45, len(batch))
        for i in range(len(batch)):
            customer_id = batch.columns["customer_id"][i]
            if labelled[i] and not np.isnan(customer_id):
                event_time = batch.columns["event_timestamp"][i]
                label_rows.append(
                    [
                        format_cell(customer_id),
                        format_cell(event_time),
                        str(churn[i]),
                        format_cell(event_time + timedelta(seconds=int(delays[i] * 86400))),
                    ]
                )
    label_rows.sort(key=lambda row: (row[3], row[0]))
    path = out / "churn_labels.csv"
    write_csv(path, ["customer_id", "event_timestamp", "churned", "labelled_at"], label_rows)
    written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent, help="output folder")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    for path in generate(args.out, args.seed):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
