"""Nested cross-validation: the accuracy to expect of the whole procedure "choose, then fit".

Plain cross-validation scores settings that were themselves chosen by cross-validation on the
same rows, so it is optimistic. Here the inner folds of each outer training part choose the
hyper-parameters, and the outer fold, never seen by that choice, scores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV

from titanic.modeling.evaluate import fold_splitter


@dataclass(frozen=True)
class NestedResult:
    """Outer-fold accuracies and the setting each outer fold's inner search chose."""

    scores: pd.Series
    chosen: list[dict[str, Any]]

    @property
    def mean(self) -> float:
        """Mean outer-fold accuracy."""
        return float(self.scores.mean())

    @property
    def std(self) -> float:
        """Sample standard deviation of the outer-fold accuracies."""
        return float(self.scores.std(ddof=1))


def grid_for_pipeline(grid: dict[str, list[Any]], step: str = "classifier") -> dict[str, list]:
    """Prefix the model's parameter names with the pipeline step: ``classifier__max_depth``."""
    return {f"{step}__{key}": list(values) for key, values in grid.items()}


def nested_cross_validation(
    estimator: BaseEstimator,
    grid: dict[str, list[Any]],
    features: pd.DataFrame,
    target: pd.Series,
    outer_folds: int,
    inner_folds: int,
    random_state: int,
    n_jobs: int = 1,
) -> NestedResult:
    """Score the choice of hyper-parameters on folds that the choice never saw.

    Parameters
    ----------
    estimator : BaseEstimator
        The unfitted model (cloned for every search).
    grid : dict
        Parameter grid in the estimator's own names (``classifier__max_depth``).
    features, target : DataFrame, Series
        The rows to evaluate on.
    outer_folds, inner_folds : int
        Stratified, shuffled folds; the outer ones are those of plain cross-validation with the
        same ``random_state``.
    random_state : int
        Seeds both splitters.
    n_jobs : int
        Inner fits run at once (-1: every available core); the result does not depend on it.

    Returns
    -------
    NestedResult
        One accuracy per outer fold (index 1..outer_folds) and the setting chosen in each.
    """
    outer = fold_splitter(outer_folds, random_state)
    inner = fold_splitter(inner_folds, random_state)
    scores, chosen = [], []
    for train_index, test_index in outer.split(features, target):
        search = GridSearchCV(
            clone(estimator), grid, cv=inner, scoring="accuracy", refit=True, n_jobs=n_jobs
        )
        search.fit(features.iloc[train_index], target.iloc[train_index])
        scores.append(
            float(
                accuracy_score(target.iloc[test_index], search.predict(features.iloc[test_index]))
            )
        )
        chosen.append(dict(search.best_params_))
    index = pd.RangeIndex(1, outer_folds + 1, name="fold")
    return NestedResult(pd.Series(scores, index=index, name="accuracy"), chosen)
