"""A random forest whose numbers do not depend on ``n_jobs``, with a lean prediction loop."""

from __future__ import annotations

import logging
import numbers
import threading
from math import ceil

import numpy as np
from scipy.sparse import issparse
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier
from sklearn.tree._classes import CRITERIA_CLF, DENSE_SPLITTERS
from sklearn.tree._tree import (  # pylint: disable=no-name-in-module  # Cython
    DepthFirstTreeBuilder,
    Tree,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

# Where long steps say how far they are (the CLI shows it on a terminal).
progress = logging.getLogger("titanic.progress")
# A fit of at least this many rows x trees is grown in parts, each part's end logged: on
# 586,000 rows, 300 trees take minutes.
LONG_FIT = 20_000_000
TREES_PER_PART = 25
# One random generator per thread, re-seeded for each tree: making a new one costs about 0.16 ms,
# more than a small tree's splits; re-seeding gives the same sequence as a new one.
_GENERATORS = threading.local()


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

    def fit(self, X: object, y: object, sample_weight: object = None) -> RandomForest:  # noqa: N803
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
        rows = getattr(X, "shape", (0,))[0]
        parameters = self.get_params(deep=False)
        trees: int = parameters["n_estimators"]
        if parameters["warm_start"] or rows * trees < LONG_FIT:
            return super().fit(X, y, sample_weight)
        if hasattr(self, "estimators_"):
            del self.estimators_  # a new fit starts afresh, as without warm_start
        try:
            for grown in range(TREES_PER_PART, trees + TREES_PER_PART, TREES_PER_PART):
                self.set_params(n_estimators=min(grown, trees), warm_start=True)
                super().fit(X, y, sample_weight)
                progress.info("  %d of %d trees grown on %d rows", min(grown, trees), trees, rows)
        finally:
            self.set_params(n_estimators=trees, warm_start=False)
        return self

    def _validate_estimator(self, default=None) -> None:
        """Check the tree template, and note once per fit the parameters every tree gets."""
        super()._validate_estimator(default)
        self._tree_parameters = {
            **self.estimator_.get_params(deep=False),
            **{name: getattr(self, name) for name in self.estimator_params},
        }

    def _make_estimator(self, append: bool = True, random_state: object = None) -> object:
        """Return a new tree, as scikit-learn makes it, without reading parameters per tree.

        scikit-learn clones the template and sets its parameters through ``get_params`` for
        every tree, which reads the tree's signature each time; here the tree is made from the
        parameters noted once per fit, and gets the same seed, drawn the same way.
        """
        template = type(self.estimator_)
        tree = (ForestTree if template is DecisionTreeClassifier else template)(
            **self._tree_parameters
        )
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
        return self.predict_proba_of_trees(X, len(self.estimators_))

    def predict_proba_of_trees(self, X: object, n_trees: int) -> np.ndarray:  # noqa: N803
        """Return the mean class probabilities of the first ``n_trees`` trees.

        A forest of ``n`` trees grown with this forest's parameters, seed and rows is its first
        ``n`` trees, so this equals that smaller forest's ``predict_proba``, bit for bit.
        """
        check_is_fitted(self)
        rows = self._validate_X_predict(X)
        trees = self.estimators_[:n_trees]
        total = np.zeros((rows.shape[0], self.n_classes_), dtype=np.float64)
        for tree in trees:
            total += tree.predict_proba(rows, check_input=False)
        total /= len(trees)
        return total


class ForestTree(DecisionTreeClassifier):  # pylint: disable=too-many-ancestors
    """A tree of :class:`RandomForest`: grown on labels and weights the forest has checked.

    scikit-learn's forest checks the labels and encodes them once per fit, and makes each
    tree's sample weights itself (bootstrap counts); its trees then check both again, which
    on a few hundred rows cost about a third of growing the tree. This tree grows the same
    nodes, from the same seed and builder, without those checks. A tree fitted on its own
    (``check_input``), or with a setting this path does not cover (``class_weight``,
    ``max_leaf_nodes``, ``monotonic_cst``, sparse rows, several outputs), is scikit-learn's.
    """

    def _fit(  # pylint: disable=too-many-locals
        self,
        X: object,  # noqa: N803 (scikit-learn's name)
        y: object,
        sample_weight: object = None,
        check_input: bool = True,
        missing_values_in_feature_mask: object = None,
    ) -> ForestTree:
        labels = np.asarray(y)
        unchecked = (
            check_input,
            issparse(X),
            labels.ndim != 2 or labels.shape[1] != 1,
            self.class_weight is not None,
            self.max_leaf_nodes is not None,
            self.monotonic_cst is not None,
            not isinstance(self.criterion, str) or not isinstance(self.splitter, str),
        )
        if any(unchecked):
            return super()._fit(X, y, sample_weight, check_input, missing_values_in_feature_mask)
        rows = np.asarray(X)
        n_samples, self.n_features_in_ = rows.shape
        self.n_outputs_ = 1
        classes, encoded = np.unique(labels[:, 0], return_inverse=True)
        self.classes_ = classes
        self.n_classes_ = np.array([classes.shape[0]], dtype=np.intp)
        targets = np.ascontiguousarray(encoded.reshape(-1, 1), dtype=np.float64)
        weights = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        min_samples_leaf = _count(self.min_samples_leaf, n_samples)
        min_samples_split = max(
            2 * min_samples_leaf,
            self.min_samples_split
            if isinstance(self.min_samples_split, numbers.Integral)
            else max(2, ceil(self.min_samples_split * n_samples)),
        )
        self.max_features_ = _features_per_split(self.max_features, self.n_features_in_)
        total_weight = n_samples if weights is None else np.sum(weights)
        min_weight_leaf = self.min_weight_fraction_leaf * total_weight
        splitter = DENSE_SPLITTERS[self.splitter](
            CRITERIA_CLF[self.criterion](self.n_outputs_, self.n_classes_),
            self.max_features_,
            min_samples_leaf,
            min_weight_leaf,
            _seeded(self.random_state),
            None,
        )
        self.tree_ = Tree(self.n_features_in_, self.n_classes_, self.n_outputs_)
        DepthFirstTreeBuilder(
            splitter,
            min_samples_split,
            min_samples_leaf,
            min_weight_leaf,
            np.iinfo(np.int32).max if self.max_depth is None else self.max_depth,
            self.min_impurity_decrease,
        ).build(self.tree_, rows, targets, weights, missing_values_in_feature_mask)
        self.n_classes_ = self.n_classes_[0]
        self._prune_tree()
        return self


def _seeded(seed: object) -> np.random.RandomState:
    """Return this thread's generator re-seeded with an integer ``seed``, else scikit-learn's."""
    if not isinstance(seed, numbers.Integral):
        return check_random_state(seed)
    generator = getattr(_GENERATORS, "generator", None)
    if generator is None:
        generator = _GENERATORS.generator = np.random.RandomState()
    generator.seed(int(seed))
    return generator


def _count(setting: float, n_samples: int) -> int:
    """Return a row count given as a number, or as a fraction of the rows (rounded up)."""
    if isinstance(setting, numbers.Integral):
        return int(setting)
    return ceil(setting * n_samples)


def _features_per_split(setting: str | float | None, n_features: int) -> int:
    """Return how many features each split draws: ``max_features`` as scikit-learn reads it."""
    if isinstance(setting, str):
        return max(1, int((np.sqrt if setting == "sqrt" else np.log2)(n_features)))
    if setting is None:
        return n_features
    if isinstance(setting, numbers.Integral):
        return int(setting)
    return max(1, int(setting * n_features)) if setting > 0.0 else 0
