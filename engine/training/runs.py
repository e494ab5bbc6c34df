"""Listing, showing and comparing runs, fast with thousands of them.

For the workspace's own store the runs are read straight from MLflow's SQLite tables in four
bulk queries (runs, latest metrics, params, tags) and filtered and sorted in memory with the
extended filter syntax (run_filter.py): 5,000 runs take milliseconds, where
``mlflow.search_runs`` builds one ORM object per row. A remote tracking server is read page
by page through ``MlflowClient.search_runs`` and filtered the same way.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput
from engine.identifiers import check_limit
from engine.tracking_store import open_read_only
from engine.training.run_filter import parse_filter, parse_key
from engine.types.training import Comparison, Run, best_index


class Runs:
    def __init__(self, tracking_uri: str, local_store: Path | None) -> None:
        self._tracking_uri = tracking_uri
        self._local_store = local_store

    def search(
        self,
        experiment: str | None = None,
        filter_text: str = "",
        order_by: str = "",
        limit: int | None = 100,
    ) -> list[Run]:
        """Runs matching ``filter_text``, sorted by ``order_by`` (default newest first)."""
        predicate = parse_filter(filter_text)
        orderings = _parse_order(order_by)
        runs = [run for run in self._load(experiment) if predicate(run)]
        runs.sort(key=lambda run: -(run.start_time or 0))
        for kind, name, descending in reversed(orderings):
            present = [run for run in runs if run.value(kind, name) is not None]
            missing = [run for run in runs if run.value(kind, name) is None]
            present.sort(key=lambda run: run.value(kind, name), reverse=descending)
            runs = present + missing
        return runs[: check_limit(limit)] if limit is not None else runs

    @staticmethod
    def check_filter(text: str) -> None:
        """Raise ``InvalidInput`` naming the problem if ``text`` is not a valid filter; the console
        checks what is typed into its filter box with it, the CLI gets the same error from
        ``search``."""
        parse_filter(text)

    def get(self, reference: str) -> Run:
        """A run by id, unique id prefix (6+ characters) or unique run name."""
        runs = self._load(None)
        matches = [r for r in runs if r.run_id == reference]
        if not matches and len(reference) >= 6:
            matches = [r for r in runs if r.run_id.startswith(reference)]
        if not matches:
            matches = [r for r in runs if r.run_name == reference]
        if len(matches) != 1:
            what = "no run" if not matches else f"{len(matches)} runs"
            raise InvalidInput(
                f"{what} matches {reference!r}; expected a run id, a unique id prefix or run name"
            )
        return matches[0]

    def compare(self, references: list[str]) -> Comparison:
        if len(references) < 2:
            raise InvalidInput("compare needs at least two runs")
        runs = [self.get(reference) for reference in references]
        param_names = sorted({name for run in runs for name in run.params})
        params = {name: [run.params.get(name) for run in runs] for name in param_names}
        metric_names = sorted({name for run in runs for name in run.metrics})
        metrics = {name: [run.metrics.get(name) for run in runs] for name in metric_names}
        best = {
            name: index for name, values in metrics.items() if (index := best_index(name, values)) is not None
        }
        differing = {name for name, values in params.items() if len(set(values)) > 1}
        return Comparison(runs, params, differing, metrics, best)

    def close_orphans(self) -> list[str]:
        """Mark FAILED the runs of the workspace's own store left RUNNING by a process that died
        while training (only the owner trains, so when it opens none can still be running).
        A remote tracking server is left alone: other machines may be training there."""
        if self._local_store is None or not self._local_store.exists():
            return []
        connection = open_read_only(self._local_store)
        try:
            orphans = [
                row[0]
                for row in connection.execute(
                    "SELECT run_uuid FROM runs WHERE status = 'RUNNING' AND lifecycle_stage = 'active'"
                )
            ]
        finally:
            connection.close()
        if orphans:
            from engine.training.tracking import client

            store = client(self._tracking_uri)
            for run_id in orphans:
                store.set_tag(run_id, "mlops.stopped", "the process running it stopped before it finished")
                store.set_terminated(run_id, "FAILED")
        return orphans

    def _load(self, experiment: str | None) -> list[Run]:
        if self._local_store is not None:
            return _load_local(self._local_store, experiment) if self._local_store.exists() else []
        return self._load_remote(experiment)

    def _load_remote(self, experiment: str | None) -> list[Run]:
        from engine.training.tracking import client

        store = client(self._tracking_uri)
        experiments = {e.experiment_id: e.name for e in store.search_experiments()}
        ids = [i for i, name in experiments.items() if experiment is None or name == experiment]
        runs, token = [], None
        while ids:
            page = store.search_runs(ids, max_results=1000, page_token=token)
            for item in page:
                info, data = item.info, item.data
                runs.append(
                    Run(
                        run_id=info.run_id,
                        run_name=info.run_name,
                        status=info.status,
                        start_time=info.start_time,
                        end_time=info.end_time,
                        experiment_id=info.experiment_id,
                        experiment=experiments[info.experiment_id],
                        metrics=dict(data.metrics),
                        params=dict(data.params),
                        tags=dict(data.tags),
                    )
                )
            token = page.token
            if not token:
                break
        return runs


def _load_local(database: Path, experiment: str | None) -> list[Run]:
    connection = open_read_only(database)
    try:
        where = "r.lifecycle_stage = 'active'" + (" AND e.name = ?" if experiment else "")
        rows = connection.execute(
            "SELECT r.run_uuid, r.name, r.status, r.start_time, r.end_time, r.experiment_id, e.name"
            f" FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id WHERE {where}",
            [experiment] if experiment else [],
        ).fetchall()
        values: dict[str, dict[str, dict[str, Any]]] = {
            kind: defaultdict(dict) for kind in ("metrics", "params", "tags")
        }
        for kind, table in (("metrics", "latest_metrics"), ("params", "params"), ("tags", "tags")):
            for run_id, key, value in connection.execute(f"SELECT run_uuid, key, value FROM {table}"):
                values[kind][run_id][key] = value
    finally:
        connection.close()
    return [
        Run(
            run_id=run_id,
            run_name=name,
            status=status,
            start_time=start,
            end_time=end,
            experiment_id=str(experiment_id),
            experiment=experiment_name,
            metrics=values["metrics"].get(run_id, {}),
            params=values["params"].get(run_id, {}),
            tags=values["tags"].get(run_id, {}),
        )
        for run_id, name, status, start, end, experiment_id, experiment_name in rows
    ]


def _parse_order(text: str) -> list[tuple[str, str, bool]]:
    orderings = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        words = item.split()
        descending = len(words) > 1 and words[-1].upper() == "DESC"
        if len(words) > 1 and words[-1].upper() in ("ASC", "DESC"):
            item = " ".join(words[:-1])
        kind, name = parse_key(item)
        orderings.append((kind, name, descending))
    return orderings
