"""The whole analysis as one call: split, fit, evaluate, cross-validate, explain, predict.

The CLI, ``main.py`` and ``report.qmd`` all call :func:`run_analysis`, so the numbers they show
are computed once, in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from joblib import effective_n_jobs, parallel_config
from sklearn.pipeline import Pipeline

from titanic.config import SelectionSettings, Settings
from titanic.dataset import Dataset
from titanic.features import raw_columns
from titanic.fingerprint import frames_sha256
from titanic.io.memo import ContentCache
from titanic.metrics import (
    METRIC_NAMES,
    BaselineScore,
    Gain,
    Importance,
    MetricsDocument,
    MetricsSummary,
    NestedSummary,
)
from titanic.modeling.baselines import (
    RULE_NAMES,
    BaselineScores,
    baseline_accuracies,
    baseline_models,
)
from titanic.modeling.evaluate import (
    classification_metrics,
    confusion,
    cross_validate_model,
    permutation_importances,
    roc_points,
    summarise_cross_validation,
)
from titanic.modeling.predict import predict_survival
from titanic.modeling.scale import (
    REFIT_ROWS,
    DiagnosticRows,
    plan_diagnostics,
    refits_for_predictions,
    sample_rows,
)
from titanic.modeling.selection import NestedResult, grid_for_pipeline, nested_cross_validation
from titanic.modeling.train import (
    Split,
    build_model,
    check_enough_rows,
    fit_model,
    split_train_validation,
)
from titanic.processes import forked_call
from titanic.provenance import run_metadata
from titanic.schema.columns import TARGET, split_features_target

logger = logging.getLogger(__name__)
# Which step runs, and how big it is: the CLI shows these by default (a sign of life on big data).
progress = logging.getLogger("titanic.progress")

# More than one core (model.n_jobs): the baselines and the nested search run in a forked copy of
# this process (it starts at once, with the stack imported and the data in memory), and forests
# of at least THREADED_ROWS rows grow their trees on threads. The loops over folds, shuffled
# columns and grid points run one at a time: on threads they were slower on 2 cores, their work
# on a few hundred rows being Python that holds the GIL (docs/benchmarks.md).
PARALLEL_BACKEND = "threading"


@dataclass(frozen=True)
class Analysis:
    """Everything a run produces, before anything is written."""

    split: Split
    model: Pipeline
    metrics: dict[str, float]
    confusion_matrix: pd.DataFrame
    roc_curve: pd.DataFrame
    cv_scores: pd.DataFrame
    importance: pd.DataFrame
    baselines: BaselineScores
    nested: NestedResult | None
    selection: SelectionSettings
    # Rows read by the diagnostics (every row up to a budget): titanic.modeling.scale.
    diagnostic_rows: DiagnosticRows | None = None

    def best_rule(self) -> str:
        """Return the rule (not the seed model) with the best mean accuracy across the folds."""
        rules = [name for name in self.baselines.folds.columns if name in RULE_NAMES]
        return str(self.baselines.folds[rules].mean().idxmax())

    def gain_over_best_rule(self) -> Gain:
        """Return the model's accuracy minus the best rule's, fold by fold: mean and std."""
        rule = self.best_rule()
        gains = self.cv_scores["accuracy"] - self.baselines.folds[rule]
        return {"rule": rule, "mean": float(gains.mean()), "std": float(gains.std(ddof=1))}

    def baselines_summary(self) -> list[BaselineScore]:
        """Return each baseline's held-out accuracy and its accuracy across the folds."""
        return [
            {
                "name": str(name),
                "validation_accuracy": self.baselines.validation[name],
                "cv_accuracy": {
                    "mean": float(self.baselines.folds[name].mean()),
                    "std": float(self.baselines.folds[name].std(ddof=1)),
                },
                "cv_accuracy_folds": self.baselines.folds[name].tolist(),
            }
            for name in self.baselines.folds.columns
        ]

    def nested_summary(self) -> NestedSummary | None:
        """Return the nested cross-validation's outcome, or None when it was switched off."""
        if self.nested is None:
            return None
        return {
            "accuracy": {"mean": self.nested.mean, "std": self.nested.std},
            "folds": self.nested.scores.tolist(),
            "chosen": [  # model keys, as in selection.grid: max_depth, not classifier__max_depth
                {key.split("__")[-1]: value for key, value in choice.items()}
                for choice in self.nested.chosen
            ],
            "inner_folds": self.selection.inner_folds,
            "n_estimators": self.selection.n_estimators,
            "grid": self.selection.grid,
        }

    def summary(self) -> MetricsSummary:
        """Return the validation metrics, CV summary and confusion matrix as JSON-ready values."""
        summary: MetricsSummary = {
            "validation": self.metrics,
            "cross_validation": summarise_cross_validation(self.cv_scores),
            "cross_validation_folds": {
                name: self.cv_scores[name].tolist() for name in METRIC_NAMES
            },
            "confusion_matrix": {
                "labels": [str(label) for label in self.confusion_matrix.columns],
                "rows_actual_columns_predicted": self.confusion_matrix.to_numpy().tolist(),
            },
            "permutation_importance": [
                Importance(feature=str(feature), importance_mean=mean, importance_std=std)
                for feature, mean, std in zip(
                    self.importance["feature"].tolist(),
                    self.importance["importance_mean"].tolist(),
                    self.importance["importance_std"].tolist(),
                    strict=True,
                )
            ],
            "rows": {"train": len(self.split.x_train), "validation": len(self.split.x_validation)},
            "baselines": self.baselines_summary(),
            "gain_over_best_rule": self.gain_over_best_rule(),
            "nested_cross_validation": self.nested_summary(),
        }
        # Only when a diagnostic read a sample: data within the budget (the shipped rows) leave
        # metrics.json as it was before the budget existed.
        if self.diagnostic_rows is not None and self.diagnostic_rows.adapted:
            summary["diagnostic_rows"] = self.diagnostic_rows.summary()
        return summary


def run_analysis(
    settings: Settings, dataset: Dataset, cache: ContentCache | None = None
) -> Analysis:
    """Split the labelled rows, fit on the training part and evaluate on the held-out part.

    Parameters
    ----------
    settings : Settings
        The validated parameters.
    dataset : Dataset
        The validated data.
    cache : ContentCache, optional
        Where the baselines and the nested search are kept, keyed on what they read: a run
        that changes only the model's number of trees, its cores or a key the search's grid
        sets takes them from there.

    Returns
    -------
    Analysis
        Fitted model, validation metrics, cross-validation scores and permutation importance;
        the same whatever ``model.n_jobs``.
    """
    with parallel_config(backend=PARALLEL_BACKEND):
        return _analyse(settings, dataset, cache or ContentCache(None))


def _analyse(settings: Settings, dataset: Dataset, cache: ContentCache) -> Analysis:
    seed = settings.random_state
    check_enough_rows(dataset.train[TARGET], settings.split, dataset.train_url)
    split = split_train_validation(dataset.train, settings.split, seed)
    rows = plan_diagnostics(len(split.x_train), len(split.x_validation))
    if rows.adapted:
        logger.warning("%s", rows.reason())
    # The diagnostics' rows: every row within the budget, else a stratified sample.
    cv_x, cv_y = sample_rows(split.x_train, split.y_train, rows.cv_rows, seed)
    shuffled_x, shuffled_y = sample_rows(
        split.x_validation, split.y_validation, rows.importance_rows, seed
    )
    diagnostic_split = Split(cv_x, split.x_validation, cv_y, split.y_validation)
    pipeline = build_model(settings.features, settings.model, seed)
    steps = 5 if settings.selection.enabled else 4
    folds = settings.split.cv_folds
    trees = settings.model.n_estimators
    with ExitStack() as stack:
        second = None
        if effective_n_jobs(settings.model.n_jobs) > 1:
            logger.info("the baselines and the nested search run in a second process")
            second = stack.enter_context(
                forked_call(
                    "the baselines and nested cross-validation",
                    _model_free_diagnostics,
                    settings,
                    diagnostic_split,
                    cache,
                )
            )
        progress.info(
            "step 1/%d: cross-validation, %d forests of %d trees on %d rows",
            steps, folds, trees, len(cv_x),
        )  # fmt: skip
        cross_validation = cross_validate_model(pipeline, cv_x, cv_y, folds, seed)
        progress.info(
            "step 2/%d: the model, %d trees on %d rows", steps, trees, len(split.x_train)
        )
        model = fit_model(pipeline, split.x_train, split.y_train)
        predictions = predict_survival(model, split.x_validation)
        columns = raw_columns(settings.features)
        repeats = settings.evaluation.permutation_repeats
        progress.info(
            "step 3/%d: permutation importance, %d columns x %d shuffles of %d held-out rows",
            steps, len(columns), repeats, len(shuffled_x),
        )  # fmt: skip
        importance = permutation_importances(model, shuffled_x, shuffled_y, columns, repeats, seed)
        progress.info("step 4/%d: baselines on the same %d folds", steps, folds)
        if settings.selection.enabled:
            progress.info(
                "step 5/%d: nested cross-validation, %d outer x %d inner folds on %d rows",
                steps, folds, settings.selection.inner_folds, len(cv_x),
            )  # fmt: skip
        baselines, nested = (
            second.result()
            if second
            else _model_free_diagnostics(
                settings, diagnostic_split, cache, cross_validation.models
            )
        )
    predicted = predictions["Survived"].to_numpy()
    probability = predictions["probability"].to_numpy()
    return Analysis(
        split=split,
        model=model,
        metrics=classification_metrics(split.y_validation, predicted, probability),
        confusion_matrix=confusion(split.y_validation, predicted),
        roc_curve=roc_points(split.y_validation, probability),
        cv_scores=cross_validation.scores,
        importance=importance,
        baselines=baselines,
        nested=nested,
        selection=settings.selection,
        diagnostic_rows=rows,
    )


def _model_free_diagnostics(
    settings: Settings,
    split: Split,
    cache: ContentCache,
    fold_models: Sequence[Pipeline] | None = None,
) -> tuple[BaselineScores, NestedResult | None]:
    """Return the baselines' scores and the nested search's (None when switched off).

    Neither needs the model or its scores, so with more than one core they run in a second
    process while this one cross-validates, fits and explains the model; ``fold_models`` (plain
    cross-validation's, when already fitted) spare the nested search some refits and change
    none of its numbers. Taken from ``cache`` when computed before on the same content.
    """

    def compute() -> tuple[BaselineScores, NestedResult | None]:
        seed = settings.random_state
        baselines = baseline_accuracies(
            baseline_models(settings.evaluation.child_age, seed),
            split,
            settings.split.cv_folds,
            seed,
        )
        if not settings.selection.enabled:
            return baselines, None
        return baselines, nested_estimate(settings, split, fold_models)

    return cache.get("baselines and nested search", model_free_inputs(settings, split), compute)


def model_free_inputs(settings: Settings, split: Split) -> dict[str, object]:
    """Return all the baselines and the nested search read, as a cache key's inputs.

    Their rows, the seed, the folds, the children's age, the features, the selection, and the
    model's parameters but three that reach neither: ``n_estimators`` (the search grows
    ``selection.n_estimators`` trees), ``n_jobs`` (the same numbers on any number of cores)
    and the keys the grid sets on every forest it fits (``selection.grid``).
    """
    unread = {"n_estimators", "n_jobs", *settings.selection.grid}
    return {
        "rows": frames_sha256(
            [split.x_train, split.y_train, split.x_validation, split.y_validation]
        ),
        "random_state": settings.random_state,
        "cv_folds": settings.split.cv_folds,
        "child_age": settings.evaluation.child_age,
        "features": settings.features.model_dump(mode="json"),
        "selection": settings.selection.model_dump(mode="json"),
        "model": settings.model.model_dump(mode="json", exclude=unread),
    }


def nested_estimate(
    settings: Settings, split: Split, fold_models: Sequence[Pipeline] | None = None
) -> NestedResult:
    """Nested cross-validation of the model on the training rows, over ``selection.grid``.

    The outer folds are the plain cross-validation's; the forests have
    ``selection.n_estimators`` trees. ``fold_models``: plain cross-validation's models on the
    same rows, whose first trees stand in for a refit with the model's own setting.
    """
    seed = settings.random_state
    model = settings.model.model_copy(update={"n_estimators": settings.selection.n_estimators})
    logger.info(
        "nested cross-validation: %d outer x %d inner folds over %s",
        settings.split.cv_folds,
        settings.selection.inner_folds,
        settings.selection.grid,
    )
    return nested_cross_validation(
        build_model(settings.features, model, seed),
        grid_for_pipeline(settings.selection.grid),
        split.x_train,
        split.y_train,
        settings.split.cv_folds,
        settings.selection.inner_folds,
        seed,
        fold_models=fold_models,
    )


def fit_on_all_rows(settings: Settings, dataset: Dataset) -> Pipeline:
    """Fit the pipeline on every labelled row, for predicting the unlabelled test file."""
    features, target = split_features_target(dataset.train)
    check_enough_rows(target, settings.split, dataset.train_url)
    pipeline = build_model(settings.features, settings.model, settings.random_state)
    return fit_model(pipeline, features, target)


@dataclass(frozen=True)
class PredictionModel:
    """The pipeline that predicts the test passengers, and the labelled rows it was fitted on.

    Attributes
    ----------
    pipeline : Pipeline
        The fitted pipeline.
    fitted_rows, labelled_rows : int
        Rows it was fitted on, out of the labelled rows there are.
    refitted : bool
        Whether it was refitted on every labelled row (else it is the evaluated model).
    """

    pipeline: Pipeline
    fitted_rows: int
    labelled_rows: int
    refitted: bool

    def reason(self) -> str:
        """Say, in one sentence for the report, which model predicts the test passengers."""
        if self.refitted:
            return (
                "The pipeline was refitted on every labelled passenger"
                f" ({self.labelled_rows:,} rows) to predict them."
            )
        return (
            f"The data hold {self.labelled_rows:,} labelled rows, more than the {REFIT_ROWS:,}"
            " up to which the report refits the pipeline on every one of them, so the model"
            f" evaluated above, fitted on the {self.fitted_rows:,} training rows, predicted"
            " them; `titanic predict` always refits on every labelled row."
        )


def model_for_predictions(
    settings: Settings, dataset: Dataset, analysis: Analysis
) -> PredictionModel:
    """Return the pipeline refitted on every labelled row, or the evaluated one beyond a budget.

    The budget is :data:`titanic.modeling.scale.REFIT_ROWS`; the report says which it used.
    """
    labelled = len(dataset.train)
    if refits_for_predictions(labelled):
        return PredictionModel(fit_on_all_rows(settings, dataset), labelled, labelled, True)
    logger.warning(
        "%d labelled rows: the test passengers are predicted by the evaluated model, not a refit",
        labelled,
    )
    return PredictionModel(analysis.model, len(analysis.split.x_train), labelled, False)


def metrics_document(
    settings: Settings, dataset: Dataset, analysis: Analysis, root: Path
) -> MetricsDocument:
    """Return the content of metrics.json: metrics, parameters, data provenance, environment."""
    return {
        "metrics": analysis.summary(),
        "parameters": settings.to_dict(),
        "data": dataset.provenance(),
        "provenance": run_metadata(root),
    }
