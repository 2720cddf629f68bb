"""Metrics on the validation rows, stratified k-fold cross-validation, permutation importance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import check_random_state

from titanic.features import Branch, fitted_branches
from titanic.metrics import METRIC_NAMES, MeanStd

CV_SCORERS = METRIC_NAMES
# Shuffled copies of the held-out rows predicted at once, at most (about 24 MB of features per
# 100,000 rows): large enough that the forest's per-call costs vanish, small enough for memory.
BATCH_ROWS = 100_000


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


def fold_splitter(folds: int, random_state: int) -> StratifiedKFold:
    """Return the stratified, shuffled folds that the model, the baselines and nested CV share."""
    return StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)


@dataclass(frozen=True)
class CrossValidation:
    """Scores per fold and metric, and each fold's model, fitted on the fold's training part."""

    scores: pd.DataFrame
    models: list[Pipeline]


def cross_validate_model(
    pipeline: Pipeline,
    features: pd.DataFrame,
    target: pd.Series,
    folds: int,
    random_state: int,
    n_jobs: int = 1,
) -> CrossValidation:
    """Score a fresh clone of the pipeline on stratified, shuffled folds of the given rows.

    Each fold refits every feature step on its own training part, so no statistic of the
    held-out fold leaks into it. The scores are scikit-learn's ``cross_validate`` with the
    scorers :data:`CV_SCORERS`, bit for bit; each fold's rows are transformed and predicted
    once for all of them. ``n_jobs`` folds run at once (-1: every available core); the scores
    do not depend on it.

    Returns
    -------
    CrossValidation
        One row of scores per fold (index 1..folds), one column per metric in
        :data:`CV_SCORERS`, and the fitted fold models (for nested cross-validation).
    """
    splitter = fold_splitter(folds, random_state)

    def fit_and_score(train_index: np.ndarray, test_index: np.ndarray) -> tuple:
        model = clone(pipeline).fit(features.iloc[train_index], target.iloc[train_index])
        truth = target.iloc[test_index]
        probabilities = model.predict_proba(features.iloc[test_index])
        predicted = model.classes_.take(np.argmax(probabilities, axis=1))
        # The scorers' own calls: default arguments, the positive class's probability.
        scores = {
            "accuracy": accuracy_score(truth, predicted),
            "precision": precision_score(truth, predicted),
            "recall": recall_score(truth, predicted),
            "f1": f1_score(truth, predicted),
            "roc_auc": roc_auc_score(truth, probabilities[:, 1]),
        }
        return model, [float(scores[name]) for name in CV_SCORERS]

    fitted = Parallel(n_jobs=n_jobs)(
        delayed(fit_and_score)(train_index, test_index)
        for train_index, test_index in splitter.split(features, target)
    )
    scores = pd.DataFrame(
        [row for _, row in fitted],
        columns=list(CV_SCORERS),
        index=pd.RangeIndex(1, folds + 1, name="fold"),
    )
    return CrossValidation(scores, [model for model, _ in fitted])


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

    The numbers are scikit-learn's ``permutation_importance`` with the same seed, bit for bit;
    only the work differs: the features of the unshuffled columns are computed once, only the
    feature groups that read the shuffled column are transformed again, and the shuffled
    copies are predicted together, in batches of at most :data:`BATCH_ROWS` rows.

    Parameters
    ----------
    model : Pipeline
        Fitted, its features numeric. When it is a ColumnTransformer of feature groups and
        then a classifier, only the groups reading the shuffled column are transformed again;
        otherwise every feature step is.
    features, target : DataFrame, Series
        The rows to shuffle and their labels.
    columns : list of str
        The raw columns to shuffle, one at a time (the model reads these only).
    repeats : int
        Shuffles per column.
    random_state : int
        The run's seed.
    n_jobs : int
        Columns scored at once (-1: every available core).

    Returns
    -------
    DataFrame
        ``feature``, ``importance_mean`` and ``importance_std``, most important first.
    """
    rows = features[columns]
    engineer, branches = _feature_groups(model, rows)
    classifier = model[-1]
    engineered = engineer.transform(rows)
    names = getattr(engineered, "columns", None)
    unshuffled = np.asarray(engineered)
    baseline = float(accuracy_score(target, classifier.predict(engineered)))
    # One seed for every column, drawn as scikit-learn draws it: each column's shuffles start
    # from the same state.
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max + 1)

    def shuffled_scores(column: str) -> list[float]:
        positions = shuffled_positions(len(rows), repeats, seed)
        reading = [branch for branch in branches if column in branch.columns]
        scores: list[float] = []
        per_batch = max(1, BATCH_ROWS // len(rows))
        for first in range(0, repeats, per_batch):
            batch = positions[first : first + per_batch]
            matrix = np.tile(unshuffled, (len(batch), 1))
            copies = _shuffled_copies(rows, column, batch, reading)
            for branch in reading:
                matrix[:, branch.output] = branch.transformer.transform(copies[branch.columns])
            batch_features = matrix if names is None else pd.DataFrame(matrix, columns=names)
            predicted = classifier.predict(batch_features)
            scores.extend(
                float(accuracy_score(target, predicted[start : start + len(rows)]))
                for start in range(0, len(matrix), len(rows))
            )
        return scores

    shuffled = Parallel(n_jobs=n_jobs)(delayed(shuffled_scores)(column) for column in columns)
    importances = baseline - np.array(shuffled)
    table = pd.DataFrame(
        {
            "feature": columns,
            "importance_mean": np.mean(importances, axis=1),
            "importance_std": np.std(importances, axis=1),
        }
    )
    return table.sort_values("importance_mean", ascending=False, kind="stable").reset_index(
        drop=True
    )


def _feature_groups(model: Pipeline, rows: pd.DataFrame) -> tuple[Any, list[Branch]]:
    """Return the model's feature steps and its groups: which columns each reads and writes."""
    if len(model) == 2 and isinstance(model[0], ColumnTransformer):
        return model[0], fitted_branches(model[0])
    # Any other shape: one group, every feature step, reading every column, writing every output.
    engineer = model[:-1] if len(model) > 1 else FunctionTransformer()
    return engineer, [Branch(engineer, list(rows.columns), slice(None))]


def shuffled_positions(rows: int, repeats: int, seed: int) -> list[np.ndarray]:
    """Return, per repeat, the row each position takes its value from, as scikit-learn shuffles.

    scikit-learn shuffles one index array in place at every repeat and applies it to the
    column shuffled so far, so a repeat's order is the previous one's, shuffled again.
    """
    generator = check_random_state(seed)
    shuffling = np.arange(rows)
    order = np.arange(rows)
    positions = []
    for _ in range(repeats):
        generator.shuffle(shuffling)
        order = order[shuffling]
        positions.append(order)
    return positions


def _shuffled_copies(
    rows: pd.DataFrame, column: str, positions: list[np.ndarray], reading: list[Branch]
) -> pd.DataFrame:
    """Stack one copy of the raw columns that ``reading`` needs per shuffle of ``column``."""
    needed = list(dict.fromkeys(name for branch in reading for name in branch.columns))
    copies = rows[needed].iloc[np.tile(np.arange(len(rows)), len(positions))]
    copies = copies.reset_index(drop=True)
    copies[column] = rows[column].iloc[np.concatenate(positions)].reset_index(drop=True)
    return copies
