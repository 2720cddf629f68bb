"""The whole analysis as one call: split, fit, evaluate, cross-validate, explain, predict.

The CLI, ``main.py`` and ``report.qmd`` all call :func:`run_analysis`, so the numbers they show
are computed once, in one place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.pipeline import Pipeline

from titanic.config import Settings
from titanic.dataset import TARGET, Dataset, split_features_target
from titanic.features import raw_columns
from titanic.metrics import METRIC_NAMES, Importance, MetricsDocument, MetricsSummary
from titanic.modeling.evaluate import (
    classification_metrics,
    confusion,
    cross_validation_scores,
    permutation_importances,
    roc_points,
    summarise_cross_validation,
)
from titanic.modeling.predict import predict_survival
from titanic.modeling.train import (
    Split,
    build_model,
    check_enough_rows,
    fit_model,
    split_train_validation,
)
from titanic.provenance import run_metadata

logger = logging.getLogger(__name__)


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

    def summary(self) -> MetricsSummary:
        """Return the validation metrics, CV summary and confusion matrix as JSON-ready values."""
        return {
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
        }


def run_analysis(settings: Settings, dataset: Dataset) -> Analysis:
    """Split the labelled rows, fit on the training part and evaluate on the held-out part.

    Parameters
    ----------
    settings : Settings
        The validated parameters.
    dataset : Dataset
        The validated data.

    Returns
    -------
    Analysis
        Fitted model, validation metrics, cross-validation scores and permutation importance.
    """
    seed = settings.random_state
    check_enough_rows(dataset.train[TARGET], settings.split, dataset.train_url)
    split = split_train_validation(dataset.train, settings.split, seed)
    pipeline = build_model(settings.features, settings.model, seed)
    logger.info(
        "cross-validating on %d rows, %d folds", len(split.x_train), settings.split.cv_folds
    )
    cv_scores = cross_validation_scores(
        pipeline,
        split.x_train,
        split.y_train,
        settings.split.cv_folds,
        seed,
        n_jobs=settings.model.n_jobs,
    )
    model = fit_model(pipeline, split.x_train, split.y_train)
    predictions = predict_survival(model, split.x_validation)
    predicted = predictions["Survived"].to_numpy()
    probability = predictions["probability"].to_numpy()
    importance = permutation_importances(
        model,
        split.x_validation,
        split.y_validation,
        raw_columns(settings.features),
        settings.evaluation.permutation_repeats,
        seed,
        n_jobs=settings.model.n_jobs,
    )
    return Analysis(
        split=split,
        model=model,
        metrics=classification_metrics(split.y_validation, predicted, probability),
        confusion_matrix=confusion(split.y_validation, predicted),
        roc_curve=roc_points(split.y_validation, probability),
        cv_scores=cv_scores,
        importance=importance,
    )


def fit_on_all_rows(settings: Settings, dataset: Dataset) -> Pipeline:
    """Fit the pipeline on every labelled row, for predicting the unlabelled test file."""
    features, target = split_features_target(dataset.train)
    check_enough_rows(target, settings.split, dataset.train_url)
    pipeline = build_model(settings.features, settings.model, settings.random_state)
    return fit_model(pipeline, features, target)


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
