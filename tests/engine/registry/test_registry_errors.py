"""A mistyped model, version, run or dataset is refused before MLflow is imported: the import takes
seconds, and a typo should not wait for it (a fresh process, so nothing imported it yet)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT, SAMPLE

REFUSE_WITHOUT_IMPORTING = """
import json, sys
from engine.errors import InvalidInput
from engine.facade import Engine
answers = []
with Engine.open(sys.argv[1]) as engine:
    engine.datasets.ingest(sys.argv[2], "production")  # a week: the columns, no label
    run_id = engine.runs.search()[0].run_id
    for attempt in (
        lambda: engine.registry.promote("nope", 1),
        lambda: engine.registry.promote("churn", 9),
        lambda: engine.registry.register("no-such-run", "churn"),
        lambda: engine.registry.register("no-such-run", "bad name"),
        lambda: engine.registry.model("nope"),
        lambda: engine.evaluation.evaluate("no-such-run", log=False),
        lambda: engine.evaluation.evaluate(run_id, "production", log=False),
    ):
        try:
            attempt()
        except InvalidInput as error:
            answers.append(str(error))
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"sklearn", "mlflow"})
print(json.dumps({"answers": answers, "heavy": heavy}))
"""


def test_registry_typos_are_refused_before_mlflow_is_imported(registry_workspace: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            REFUSE_WITHOUT_IMPORTING,
            str(registry_workspace),
            str(SAMPLE / "churn_week_1.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["answers"] == [
        "no registered model 'nope'; registered models: churn",
        "churn has no version 9; its versions are 1, 2",
        "no run matches 'no-such-run'; expected a run id, a unique id prefix or run name",
        "--name 'bad name': expected letters, digits, _, - or . starting with a letter",
        "no registered model 'nope'; registered models: churn",
        "no run matches 'no-such-run'; expected a run id, a unique id prefix or run name",
        "production@v1 has no column 'churned' (the target); evaluation needs labelled rows",
    ]
    assert outcome["heavy"] == []
