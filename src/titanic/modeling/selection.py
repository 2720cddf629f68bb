"""Nested cross-validation: the accuracy to expect of the whole procedure "choose, then fit".

Plain cross-validation scores settings that were themselves chosen by cross-validation on the
same rows, so it is optimistic. Here the inner folds of each outer training part choose the
hyper-parameters, and the outer fold, never seen by that choice, scores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import accuracy_score
from sklearn.model_selection import ParameterGrid
from sklearn.pipeline import Pipeline

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
    fold_models: Sequence[Pipeline] | None = None,
) -> NestedResult:
    """Score the choice of hyper-parameters on folds that the choice never saw.

    The choice is scikit-learn's ``GridSearchCV`` (accuracy, first best on a tie, refit on the
    outer training part), with the same numbers. When the estimator is a Pipeline and the grid
    only sets its last step (the forest), each inner training part's features are computed
    once and shared by every grid point, instead of once per grid point.

    Parameters
    ----------
    estimator : BaseEstimator
        The unfitted model (cloned for every fit).
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
        Outer folds run at once (-1: every available core); the result does not depend on it.
    fold_models : sequence of Pipeline, optional
        Plain cross-validation's models, fitted on the same outer training parts. Where the
        setting an outer fold chooses is that model's but for fewer trees, its first trees are
        the refitted forest (:meth:`RandomForest.predict_proba_of_trees`), so it is not fitted
        again.

    Returns
    -------
    NestedResult
        One accuracy per outer fold (index 1..outer_folds) and the setting chosen in each.
    """
    outer = fold_splitter(outer_folds, random_state)
    inner = fold_splitter(inner_folds, random_state)
    candidates = list(ParameterGrid(grid))
    search = _SharedSearch(estimator, candidates, inner)
    results = Parallel(n_jobs=n_jobs)(
        delayed(search.score_outer_fold)(
            features, target, train_index, test_index, fold_models[fold] if fold_models else None
        )
        for fold, (train_index, test_index) in enumerate(outer.split(features, target))
    )
    index = pd.RangeIndex(1, outer_folds + 1, name="fold")
    scores = [score for score, _ in results]
    chosen = [dict(choice) for _, choice in results]
    return NestedResult(pd.Series(scores, index=index, name="accuracy"), chosen)


class _SharedSearch:
    """The inner grid search of one outer fold, sharing the features between grid points."""

    def __init__(self, estimator: BaseEstimator, candidates: list[dict[str, Any]], inner):
        self.estimator = estimator
        self.candidates = candidates
        self.inner = inner
        last = estimator.steps[-1][0] if isinstance(estimator, Pipeline) else None
        self.shared = last is not None and all(
            key.startswith(f"{last}__") for candidate in candidates for key in candidate
        )

    def score_outer_fold(
        self,
        features: pd.DataFrame,
        target: pd.Series,
        train_index: np.ndarray,
        test_index: np.ndarray,
        fitted: Pipeline | None = None,
    ) -> tuple[float, dict[str, Any]]:
        """Choose on the inner folds of the training part; return the test fold's accuracy."""
        x_train, y_train = features.iloc[train_index], target.iloc[train_index]
        splits = list(self.inner.split(x_train, y_train))
        parts = [
            (x_train.iloc[fit], y_train.iloc[fit], x_train.iloc[score], y_train.iloc[score])
            for fit, score in splits
        ]
        scores = self._shared_scores(parts) if self.shared else self._plain_scores(parts)
        # GridSearchCV's choice: the best mean over the inner folds, the first on a tie.
        best = self.candidates[int(np.argmax(np.average(scores, axis=1)))]
        refit = clone(self.estimator).set_params(**best)
        x_test = features.iloc[test_index]
        if fitted is not None and _first_trees_of(fitted, refit):
            trees = refit.steps[-1][1].n_estimators
            forest = fitted.steps[-1][1]
            probabilities = forest.predict_proba_of_trees(fitted[:-1].transform(x_test), trees)
            predicted = forest.classes_.take(np.argmax(probabilities, axis=1))
        else:
            predicted = refit.fit(x_train, y_train).predict(x_test)
        return float(accuracy_score(target.iloc[test_index], predicted)), best

    def _plain_scores(self, parts: list[tuple]) -> np.ndarray:
        """Fit and score every grid point on every inner split, as GridSearchCV does."""
        return np.array(
            [
                [
                    accuracy_score(
                        y_score,
                        clone(self.estimator)
                        .set_params(**candidate)
                        .fit(x_fit, y_fit)
                        .predict(x_score),
                    )
                    for x_fit, y_fit, x_score, y_score in parts
                ]
                for candidate in self.candidates
            ]
        )

    def _shared_scores(self, parts: list[tuple]) -> np.ndarray:
        """Score every grid point on every inner split, the feature steps fitted once a split.

        This is what ``Pipeline.fit`` and ``predict`` do: ``fit_transform`` of the feature
        steps on the fitting rows, ``transform`` of the scored rows, then the last step.
        """
        scores = np.empty((len(self.candidates), len(parts)))
        for split, (x_fit, y_fit, x_score, y_score) in enumerate(parts):
            steps = clone(self.estimator)
            engineer, (name, model) = steps[:-1], steps.steps[-1]
            fit_features = engineer.fit_transform(x_fit, y_fit)
            score_features = engineer.transform(x_score)
            for row, candidate in enumerate(self.candidates):
                own = {key.removeprefix(f"{name}__"): value for key, value in candidate.items()}
                fitted = clone(model).set_params(**own).fit(fit_features, y_fit)
                scores[row, split] = accuracy_score(y_score, fitted.predict(score_features))
        return scores


def _first_trees_of(fitted: Pipeline, unfitted: Pipeline) -> bool:
    """Whether ``unfitted``, fitted on ``fitted``'s rows, would be its first trees.

    True when both are pipelines whose plain parameters (numbers, strings, None) agree but for
    the forest's number of trees, and the fitted forest has at least as many and can predict
    with its first trees alone.
    """
    if not isinstance(fitted, Pipeline) or not isinstance(unfitted, Pipeline):
        return False
    forest, trees = fitted.steps[-1][1], f"{unfitted.steps[-1][0]}__n_estimators"
    ours, theirs = _plain_parameters(fitted), _plain_parameters(unfitted)
    return (
        hasattr(forest, "predict_proba_of_trees")
        and isinstance(theirs.get(trees), int)
        and theirs[trees] <= len(getattr(forest, "estimators_", ()))
        and {k: v for k, v in ours.items() if k != trees}
        == {k: v for k, v in theirs.items() if k != trees}
    )


def _plain_parameters(estimator: BaseEstimator) -> dict[str, Any]:
    """Return the deep parameters whose values are plain data, not estimators or step lists."""
    plain = (type(None), bool, int, float, str)
    return {
        key: value
        for key, value in estimator.get_params(deep=True).items()
        if isinstance(value, plain)
        or (isinstance(value, tuple | list) and all(isinstance(item, plain) for item in value))
    }
