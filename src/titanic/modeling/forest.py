"""A random forest whose numbers do not depend on ``n_jobs``, with a lean prediction loop."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from numpy.typing import ArrayLike
from sklearn.ensemble import RandomForestClassifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

# Where long steps say how far they are (the CLI shows it on a terminal).
progress = logging.getLogger("titanic.progress")
# A fit of at least this many rows x trees is grown in parts, each part's end logged: on
# 586,000 rows, 300 trees take minutes.
LONG_FIT = 20_000_000
TREES_PER_PART = 25
# Fewer rows than this and the trees are grown on one thread whatever ``n_jobs``: a tree on the
# shipped 891 rows grows in about a millisecond, and handing each to a thread cost more than the
# second core gave (300 trees: 0.36 s on one thread, 0.56 s on two; on 5,000 rows 0.75 s
# and 0.66 s, on 20,000 rows 1.8 s and 1.2 s; docs/benchmarks.md).
THREADED_ROWS = 5_000


class RandomForest(RandomForestClassifier):
    """scikit-learn's random forest, with predictions independent of ``n_jobs``.

    The trees are grown on ``n_jobs`` cores, each from its own seed, so the fitted forest is
    the same whatever ``n_jobs``. scikit-learn's ``predict_proba`` also sums the trees'
    probabilities on ``n_jobs`` threads, in whatever order they finish, so the sums can differ
    in their last bit from one run to the next; here they are summed in the trees' order, as
    with ``n_jobs=1``, in a plain loop: scikit-learn's parallel helper sets up the
    configuration and the warning filters again for every tree, which cost more than the
    trees' own predictions on a few hundred rows.
    """

    def fit(self, X: ArrayLike, y: object, sample_weight: object = None) -> RandomForest:  # noqa: N803
        """Grow the forest; a long fit grows it in parts of 25 trees and logs each part.

        The parts are scikit-learn's ``warm_start``, which draws the seeds of the trees already
        grown before adding new ones, so the trees are those of a single fit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training rows.
        y : array-like of shape (n_samples,)
            Their labels.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the rows.

        Returns
        -------
        RandomForest
            This forest, fitted.
        """
        rows = np.shape(X)[0]
        trees: int = self.n_estimators
        threads = {} if rows >= THREADED_ROWS else {"n_jobs": 1}
        if self.warm_start or rows * trees < LONG_FIT:
            with self._parameters(**threads):
                return super().fit(X, y, sample_weight)
        if hasattr(self, "estimators_"):
            del self.estimators_  # a new fit starts afresh, as without warm_start
        with self._parameters(**threads, n_estimators=trees, warm_start=False):
            for grown in range(TREES_PER_PART, trees + TREES_PER_PART, TREES_PER_PART):
                self.set_params(n_estimators=min(grown, trees), warm_start=True)
                super().fit(X, y, sample_weight)
                progress.info("  %d of %d trees grown on %d rows", min(grown, trees), trees, rows)
        return self

    @contextmanager
    def _parameters(self, **during: object) -> Iterator[None]:
        """Set parameters for a fit; restore them after it, even after an error."""
        before = {name: getattr(self, name) for name in during}
        self.set_params(**during)
        try:
            yield
        finally:
            self.set_params(**before)

    def _validate_estimator(self, *default) -> None:
        """Check the tree template, and note once per fit the parameters every tree gets."""
        super()._validate_estimator(*default)
        self._tree_parameters = {
            **self.estimator_.get_params(),
            **{name: getattr(self, name) for name in self.estimator_params},
        }

    def _make_estimator(self, append: bool = True, random_state: object = None) -> object:
        """Return a new tree, as scikit-learn makes it, without reading parameters per tree.

        scikit-learn clones the template and sets its parameters through ``get_params`` for
        every tree, which reads the tree's signature each time; here the tree is made from the
        parameters noted once per fit, and gets the same seed, drawn the same way.
        """
        tree = type(self.estimator_)(**self._tree_parameters)
        if random_state is not None:
            tree.random_state = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        if append:
            self.estimators_.append(tree)
        return tree

    def predict_proba(self, X: object) -> np.ndarray:  # noqa: N803 (scikit-learn's name)
        """Return the class probabilities, summed over the trees in order (one thread).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The rows to predict.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The mean of the trees' class probabilities.
        """
        return self.predict_proba_of_trees(X)

    def predict_proba_of_trees(
        self,
        X: object,  # noqa: N803
        n_trees: int | None = None,
    ) -> np.ndarray:
        """Return the mean class probabilities of the first ``n_trees`` trees (None: all).

        A forest of ``n`` trees grown with this forest's parameters, seed and rows is its first
        ``n`` trees, so this equals that smaller forest's ``predict_proba``, bit for bit.
        """
        check_is_fitted(self)
        rows = self._validate_X_predict(X)
        trees = self.estimators_[:n_trees]
        total = np.zeros((rows.shape[0], self.n_classes_))
        for tree in trees:
            total += tree.predict_proba(rows, check_input=False)
        total /= len(trees)
        return total
