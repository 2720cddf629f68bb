"""Metrics on the validation rows, stratified k-fold cross-validation, permutation importance."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.inspection import permutation_importance
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline

from titanic.metrics import METRIC_NAMES, MeanStd

CV_SCORERS = METRIC_NAMES


def classification_metrics(
    y_true: pd.Series, y_pred: np.ndarray, y_probability: np.ndarray
) -> dict[str, float]:
    """Return accuracy, precision, recall, F1 and ROC AUC of binary predictions."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
        "roc_auc": float(roc_auc_score(y_true, y_probability)),
    }


def confusion(y_true: pd.Series, y_pred: np.ndarray) -> pd.DataFrame:
    """Return the confusion matrix with named rows (actual) and columns (predicted)."""
    labels = ["died", "survived"]
    matrix = confusion_matrix(y_true, y_pred, labels=[0, 1])
    return pd.DataFrame(
        matrix,
        index=pd.Index(labels, name="actual"),
        columns=pd.Index(labels, name="predicted"),
    )


def roc_points(y_true: pd.Series, y_probability: np.ndarray) -> pd.DataFrame:
    """Return the ROC curve as false- and true-positive rates per threshold."""
    false_positive, true_positive, thresholds = roc_curve(y_true, y_probability)
    return pd.DataFrame(
        {
            "false_positive_rate": false_positive,
            "true_positive_rate": true_positive,
            "threshold": thresholds,
        }
    )


def cross_validation_scores(
    pipeline: Pipeline,
    features: pd.DataFrame,
    target: pd.Series,
    folds: int,
    random_state: int,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Score a fresh clone of the pipeline on stratified, shuffled folds of the given rows.

    Each fold refits every feature step on its own training part, so no statistic of the
    held-out fold leaks into it. ``n_jobs`` folds run at once (-1: every available core);
    the scores do not depend on it.

    Returns
    -------
    DataFrame
        One row per fold, one column per metric in :data:`CV_SCORERS`.
    """
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    results = cross_validate(
        clone(pipeline), features, target, cv=splitter, scoring=CV_SCORERS, n_jobs=n_jobs
    )
    scores = pd.DataFrame({name: results[f"test_{name}"] for name in CV_SCORERS})
    scores.index = pd.RangeIndex(1, folds + 1, name="fold")
    return scores


def summarise_cross_validation(scores: pd.DataFrame) -> dict[str, MeanStd]:
    """Return mean and standard deviation of each cross-validated metric."""
    return {
        str(name): {"mean": float(scores[name].mean()), "std": float(scores[name].std(ddof=1))}
        for name in scores.columns
    }


def permutation_importances(
    model: Pipeline,
    features: pd.DataFrame,
    target: pd.Series,
    columns: list[str],
    repeats: int,
    random_state: int,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Drop in accuracy when each raw input column is shuffled, on the given (held-out) rows.

    Importance is measured on raw columns (``Name``, ``Age``...), so one number covers every
    feature engineered from a column, and the scale is directly accuracy points. ``n_jobs``
    columns are shuffled and scored at once (-1: every available core), with equal results.

    Returns
    -------
    DataFrame
        ``feature``, ``importance_mean`` and ``importance_std``, most important first.
    """
    result = permutation_importance(
        model,
        features[columns],
        target,
        n_repeats=repeats,
        random_state=random_state,
        scoring="accuracy",
        n_jobs=n_jobs,
    )
    table = pd.DataFrame(
        {
            "feature": columns,
            "importance_mean": result.importances_mean,
            "importance_std": result.importances_std,
        }
    )
    return table.sort_values("importance_mean", ascending=False, kind="stable").reset_index(
        drop=True
    )
