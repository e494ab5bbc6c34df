"""Pipeline files are checked whole before anything runs; each mistake is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.pipelines.definition import load_pipeline
from tests.conftest import REPO_ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipe.toml"
    path.write_text(text)
    return path


def test_the_sample_pipeline_is_a_chain_with_inputs_linked() -> None:
    pipeline = load_pipeline(REPO_ROOT / "sample_data" / "churn_pipeline.toml")
    assert (pipeline.name, pipeline.experiment) == ("churn", "churn-pipeline")
    assert [(s.name, s.kind, s.needs, s.source) for s in pipeline.steps] == [
        ("load", "load", (), ""),
        ("validate", "validate", ("load",), "load"),
        ("train", "train", ("validate",), "load"),
        ("evaluate", "evaluate", ("train",), "train"),
        ("gate", "gate", ("evaluate",), "evaluate"),
        ("register", "register", ("gate",), "train"),
    ]
    assert len(pipeline.digest) == 64


def test_needs_order_the_steps_whatever_the_file_order(tmp_path: Path) -> None:
    pipeline = load_pipeline(
        write(
            tmp_path,
            """
[steps.fit]
kind = "train"
target = "churned"
needs = ["check"]
[steps.check]
kind = "validate"
suite = "s"
needs = ["data"]
[steps.data]
kind = "load"
dataset = "churn"
needs = []
""",
        )
    )
    assert [step.name for step in pipeline.steps] == ["data", "check", "fit"]
    assert pipeline.step("fit").source == "data"
    assert pipeline.name == "pipe"  # from the file name when not given


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = 'x'", "no steps; expected at least one [steps.NAME] table"),
        ("[steps.load]\ndataset = 'a'\n[steps.x]\nkind = 'deploy'", "kind 'deploy' is not a step kind"),
        ("[steps.thing]\ndataset = 'a'", "step 'thing': no kind; set kind = one of load"),
        ("[steps.load]\ndataset = 'a'\nrows = 3", "unknown key 'rows' for a load step; expected dataset"),
        ("[steps.load]\ndataset = 'a'\n[steps.validate]", "a validate step needs 'suite'"),
        (
            "[steps.load]\ndataset = 'a'\nquery = 'SELECT 1'",
            "needs exactly one of dataset, query or entities",
        ),
        ("[steps.load]\nquery = 'SELECT 1'", 'a query load needs output = "NAME"'),
        ("[steps.load]\nentities = 'churn'\noutput = 'x'", "an entities load needs feature_views"),
        (
            "[steps.load]\ndataset = 'a'\n[steps.train]\ntarget = 'y'\nneeds = ['nope']",
            "needs 'nope', which is not a step",
        ),
        (
            "[steps.a]\nkind='load'\ndataset='d'\nneeds=['b']\n[steps.b]\nkind='load'\ndataset='d'\nneeds=['a']",
            "steps a, b need each other in a cycle",
        ),
        ("[steps.train]\ntarget = 'y'", "step 'train' (train) needs a load step upstream"),
        (
            "[steps.a]\nkind='load'\ndataset='d'\n[steps.b]\nkind='load'\ndataset='e'\nneeds=[]\n"
            "[steps.train]\ntarget='y'\nneeds=['a','b']",
            "has 2 load steps upstream (a, b); narrow its needs to one",
        ),
        (
            "[steps.load]\ndataset='d'\n[steps.train]\ntarget='y'\ntest_size=1.5",
            "test_size 1.5; expected a number between 0 and 1",
        ),
        (
            "[steps.load]\ndataset='d'\n[steps.train]\ntarget='y'\nsplit='k-fold'",
            "split 'k-fold'; expected 'random' or 'time'",
        ),
        ("[steps.load]\ndataset='d'\n[steps.train]\ntarget='y'\nparams=3", "params must be a table"),
        (
            "[steps.load]\ndataset='d'\n[steps.train]\ntarget='y'\n[steps.evaluate]\n"
            "[steps.gate]\nrequire=['f1 >> 0.7']",
            "require[0] 'f1 >> 0.7' is not a condition; expected METRIC OP NUMBER",
        ),
        (
            "[steps.load]\ndataset='d'\n[steps.train]\ntarget='y'\n[steps.evaluate]\n"
            "[steps.gate]\npromotion_gates=false",
            "a gate needs promotion_gates = true, require",
        ),
        (
            "[steps.load]\ndataset='d'\n[steps.train]\ntarget='y'\n[steps.evaluate]\n"
            "[steps.gate]\npromotion_gates='yes'",
            "promotion_gates 'yes'; expected true or false",
        ),
        (
            "[steps.load]\ndataset='d'\n[steps.train]\ntarget='y'\n[steps.evaluate]\n[steps.gate]\n"
            "beats_champion = { model_name = 'm', margin = -1 }",
            "beats_champion.margin -1; expected a number above -1",
        ),
        (
            "[steps.load]\ndataset='d'\n[steps.train]\ntarget='y'\n[steps.register]\nmodel_name='m'",
            "register step 'register' must come after a gate step",
        ),
        ("[steps.load]\ndataset='d'\nneeds='x'", "needs must be a list of step names"),
        ("name = 'has space'\n[steps.load]\ndataset='d'", "name 'has space'; expected a name"),
        ("[steps.load]\ndataset = 'a'\n[steps", "pipe.toml is not valid TOML"),
    ],
)
def test_mistakes_are_one_line_naming_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_pipeline(write(tmp_path, text))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"pipeline file .*nope\.toml does not exist"):
        load_pipeline(tmp_path / "nope.toml")
