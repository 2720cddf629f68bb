"""The contract of metrics.json: what every run writes and what the sweep and the CLI read back.

The metric names live here once, in :data:`METRIC_NAMES`: the held-out metrics, the
cross-validation scorers and the sweep's comparison columns all derive from it.
This module imports neither pandas nor scikit-learn, so a cached sweep can read the files cheaply.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, NotRequired, TypeVar

from pydantic import AfterValidator, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

METRIC_NAMES = ("accuracy", "precision", "recall", "f1", "roc_auc")
# The cross-validated metrics that the sweep's comparison page and the CLI's sweep table show.
COMPARED_CV_METRICS = ("accuracy", "f1", "roc_auc")
FLAT_METRIC_NAMES = METRIC_NAMES + tuple(
    f"cv_{name}_{part}" for name in COMPARED_CV_METRICS for part in ("mean", "std")
)

V = TypeVar("V")


def _every_metric(values: dict[str, V]) -> dict[str, V]:
    missing = [name for name in METRIC_NAMES if name not in values]
    if missing:
        raise ValueError(f"missing metric(s): {', '.join(missing)}")
    return values


# A value for each of METRIC_NAMES (checked when a document is parsed).
PerMetric = Annotated[dict[str, V], AfterValidator(_every_metric)]


class MeanStd(TypedDict):
    """Mean and sample standard deviation of one metric across the folds."""

    mean: float
    std: float


class ConfusionMatrix(TypedDict):
    """Counts of actual (rows) against predicted (columns) outcomes."""

    labels: list[str]
    rows_actual_columns_predicted: list[list[int]]


class Importance(TypedDict):
    """Drop in held-out accuracy when one raw column is shuffled."""

    feature: str
    importance_mean: float
    importance_std: float


class RowCounts(TypedDict):
    """How many labelled rows were used for training and held out."""

    train: int
    validation: int


class BaselineScore(TypedDict):
    """Accuracy of one baseline on the model's held-out split and on its folds."""

    name: str
    validation_accuracy: float
    cv_accuracy: MeanStd
    cv_accuracy_folds: list[float]


class Gain(TypedDict):
    """The model's accuracy minus the best rule's, fold by fold (same folds): mean and std."""

    rule: str
    mean: float
    std: float


class NestedSummary(TypedDict):
    """Nested cross-validation: outer-fold accuracies and the setting each inner search chose."""

    accuracy: MeanStd
    folds: list[float]
    chosen: list[dict[str, Any]]
    inner_folds: int
    n_estimators: int
    grid: dict[str, list[Any]]


class DiagnosticRowsSummary(TypedDict):
    """Rows the diagnostics read when the data exceed their budget (titanic.modeling.scale)."""

    train_rows: int
    cv_rows: int
    validation_rows: int
    importance_rows: int
    reason: str


class MetricsSummary(TypedDict):
    """The ``metrics`` field of metrics.json, keyed by metric name where it is per metric.

    ``baselines`` and ``gain_over_best_rule`` are absent from files written before they
    existed; ``nested_cross_validation`` is null when ``selection.enabled`` is false;
    ``diagnostic_rows`` is present only when the diagnostics read a sample of the rows.
    """

    validation: PerMetric[float]
    cross_validation: PerMetric[MeanStd]
    cross_validation_folds: PerMetric[list[float]]
    confusion_matrix: ConfusionMatrix
    permutation_importance: list[Importance]
    rows: RowCounts
    baselines: NotRequired[list[BaselineScore]]
    gain_over_best_rule: NotRequired[Gain]
    nested_cross_validation: NotRequired[NestedSummary | None]
    diagnostic_rows: NotRequired[DiagnosticRowsSummary]


class MetricsDocument(TypedDict):
    """The whole of metrics.json: metrics, resolved parameters, data and run provenance."""

    metrics: MetricsSummary
    parameters: dict[str, Any]
    data: dict[str, Any]
    provenance: dict[str, Any]


_DOCUMENT = TypeAdapter(MetricsDocument)


def parse_document(text: str) -> MetricsDocument:
    """Parse and check the text of a metrics.json file.

    Raises
    ------
    ValueError
        When the text is not JSON or does not follow :class:`MetricsDocument`
        (pydantic's ``ValidationError`` is a ``ValueError``).
    """
    return _DOCUMENT.validate_python(json.loads(text))


def flat_metrics(summary: MetricsSummary) -> dict[str, float]:
    """Return one number per column of :data:`FLAT_METRIC_NAMES`, e.g. ``cv_accuracy_mean``."""
    flat = {name: float(summary["validation"][name]) for name in METRIC_NAMES}
    for name in COMPARED_CV_METRICS:
        flat[f"cv_{name}_mean"] = float(summary["cross_validation"][name]["mean"])
        flat[f"cv_{name}_std"] = float(summary["cross_validation"][name]["std"])
    return flat
