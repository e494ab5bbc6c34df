"""The model catalogue: scikit-learn classifiers by name, with defaults and search spaces.

Every model is one sklearn ``Pipeline`` with its preprocessing inside, so the object trained
is the object later converted to ONNX and served. Choices follow what converts and serves
faithfully (DESIGN, library facts): categorical columns one-hot encoded in a
``ColumnTransformer`` (one ONNX input per column); numeric columns scaled only for the
linear model (trees need no scaling, and scaling breaks float32 parity); missing numbers
imputed inside the pipeline for models whose ONNX converters drop sklearn's learned NaN
routing (forests, gradient boosting); histogram gradient boosting keeps its native NaN
handling.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidInput
from engine.types.training import SearchSpace

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    defaults: dict[str, Any]
    search_space: SearchSpace
    scale_numeric: bool = False
    impute_numeric: bool = True
    estimator: Callable[[dict[str, Any]], Any] = field(repr=False, default=lambda params: None)

    def build(self, params: dict[str, Any], numeric: list[str], categorical: list[str]) -> Pipeline:
        """The full pipeline for these columns, with ``params`` over the defaults."""
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        numeric_steps: list[tuple[str, Any]] = []
        if self.impute_numeric:
            numeric_steps.append(("impute", SimpleImputer(strategy="median")))
        if self.scale_numeric:
            numeric_steps.append(("scale", StandardScaler()))
        numeric_part: Any = Pipeline(numeric_steps) if numeric_steps else "passthrough"
        categorical_part = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        columns = ColumnTransformer(
            [("numeric", numeric_part, numeric), ("categorical", categorical_part, categorical)],
            verbose_feature_names_out=False,
        )
        return Pipeline([("prepare", columns), ("model", self.estimator({**self.defaults, **params}))])

    def parse_params(self, raw: dict[str, str]) -> dict[str, Any]:
        """``--param name=value`` strings typed like the default (or the search space) says."""
        typed: dict[str, Any] = {}
        for name, text in raw.items():
            if name not in self.defaults:
                raise InvalidInput(
                    f"--param {name}: {self.name} has no parameter {name!r}; expected one of "
                    f"{', '.join(sorted(self.defaults))}"
                )
            typed[name] = _typed(name, text, self.defaults[name])
        return typed

    def check_params(self, params: dict[str, Any], option: str = "--param") -> None:
        """Each of ``params`` (typed) within scikit-learn's own constraints for the estimator
        (``_parameter_constraints``), checked before fitting: a worker process or ``fit`` would
        otherwise refuse it as an ``InvalidParameterError`` after the run had started."""
        from sklearn.utils._param_validation import InvalidParameterError

        for name, value in params.items():
            estimator = self.estimator({**self.defaults, name: value})
            try:
                estimator._validate_params()
            except InvalidParameterError as error:
                # "The 'n_estimators' parameter of X must be an int in the range [1, inf). Got -5 instead."
                said = re.search(r" must be (.*)\. Got .* instead\.$", str(error))
                expected = said.group(1) if said else str(error)
                raise InvalidInput(
                    f"{option} {name}={value}: expected {expected} ({type(estimator).__name__})"
                ) from None


def _typed(name: str, text: str, default: Any) -> Any:
    if text.lower() == "none":
        return None
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if isinstance(default, int) or (default is None and text.lstrip("-").isdigit()):
            return int(text)
        if isinstance(default, float) or default is None:
            return float(text)
    except ValueError:
        kind = "an integer" if isinstance(default, int) and not isinstance(default, bool) else "a number"
        kind = "true or false" if isinstance(default, bool) else kind
        raise InvalidInput(f"--param {name}={text}: expected {kind} (default {default!r})") from None
    return text


def _logistic(params: dict[str, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(**params)


def _forest(params: dict[str, Any]) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(**params)


def _boosting(params: dict[str, Any]) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(**params)


def _hist_boosting(params: dict[str, Any]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(**params)


CATALOGUE: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "logistic_regression",
            "L2-regularised logistic regression on scaled numbers and one-hot categories",
            {"C": 1.0, "max_iter": 1000, "class_weight": None},
            {"C": (0.01, 100.0, "log"), "class_weight": [None, "balanced"]},
            scale_numeric=True,
            estimator=_logistic,
        ),
        ModelSpec(
            "random_forest",
            "Random forest of decision trees",
            {"n_estimators": 200, "max_depth": 10, "min_samples_leaf": 1, "n_jobs": 1, "random_state": 42},
            {
                "n_estimators": [100, 200, 400],
                "max_depth": [5, 10, 20, None],
                "min_samples_leaf": (1, 20, "int"),
            },
            estimator=_forest,
        ),
        ModelSpec(
            "gradient_boosting",
            "Gradient-boosted decision trees (scikit-learn's exact implementation)",
            {"n_estimators": 150, "learning_rate": 0.1, "max_depth": 3, "random_state": 42},
            {
                "n_estimators": [100, 150, 300],
                "learning_rate": (0.01, 0.3, "log"),
                "max_depth": (2, 6, "int"),
            },
            estimator=_boosting,
        ),
        ModelSpec(
            "hist_gradient_boosting",
            "Histogram gradient boosting; handles missing numbers natively",
            {"max_iter": 200, "learning_rate": 0.1, "max_leaf_nodes": 31, "random_state": 42},
            {
                "max_iter": [100, 200, 400],
                "learning_rate": (0.01, 0.3, "log"),
                "max_leaf_nodes": (15, 63, "int"),
            },
            impute_numeric=False,
            estimator=_hist_boosting,
        ),
    )
}


def model_spec(name: str) -> ModelSpec:
    if name not in CATALOGUE:
        raise InvalidInput(
            f"--model {name!r} is not in the catalogue; expected one of {', '.join(CATALOGUE)}"
        )
    return CATALOGUE[name]
