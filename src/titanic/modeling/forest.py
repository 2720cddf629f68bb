"""A random forest whose numbers do not depend on ``n_jobs``."""

from __future__ import annotations

import copy

import numpy as np
from sklearn.ensemble import RandomForestClassifier


class RandomForest(RandomForestClassifier):
    """scikit-learn's random forest, with predictions independent of ``n_jobs``.

    The trees are grown on ``n_jobs`` cores, each from its own seed, so the fitted forest is
    the same whatever ``n_jobs``. scikit-learn's ``predict_proba`` also sums the trees'
    probabilities on ``n_jobs`` threads, in whatever order they finish, so the sums can differ
    in their last bit from one run to the next; here they are summed in the trees' order, as
    with ``n_jobs=1``. Predicting is cheap next to growing the trees.
    """

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
        single = copy.copy(self)
        single.n_jobs = 1
        return RandomForestClassifier.predict_proba(single, X)
