"""What the model is measured against: one-line rules and the seed's original model.

Every baseline is a scikit-learn classifier, so it is fitted and scored on exactly the split and
the folds of the model itself (:func:`titanic.modeling.evaluate.cross_validate_model`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.validation import check_is_fitted

from titanic.features import TitleExtractor
from titanic.modeling.evaluate import fold_splitter
from titanic.modeling.train import Split

# The seed notebook's forest: 20 trees, scikit-learn's defaults otherwise.
SEED_TREES = 20
RULES = ("gender", "women_and_children")
# Display names of the baselines: the one-line rules, then the seed's model.
RULE_NAMES = ("majority class", "gender rule", "women and children first")
SEED_MODEL_NAME = "seed model"


class RuleClassifier(ClassifierMixin, BaseEstimator):
    """A fixed rule that learns nothing: ``gender`` (women survive) or ``women_and_children``.

    Parameters
    ----------
    rule : {"gender", "women_and_children"}, default="gender"
        ``women_and_children`` also saves every passenger younger than ``child_age``; a
        passenger of unknown age counts as an adult.
    child_age : float, default=13
        Age below which a passenger is a child.
    """

    def __init__(self, rule: str = "gender", child_age: float = 13):
        self.rule = rule
        self.child_age = child_age

    def fit(self, X, y=None):  # noqa: N803
        """Check the rule and record the classes (the rule itself learns nothing)."""
        del X
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {', '.join(RULES)}, got {self.rule!r}")
        self.classes_ = np.unique(np.asarray(y)) if y is not None else np.array([0, 1])
        return self

    def predict(self, X):  # noqa: N803
        """Return 1 (survived) for the passengers the rule saves, else 0."""
        check_is_fitted(self)
        saved = X["Sex"].eq("female")
        if self.rule == "women_and_children":
            saved = saved | pd.to_numeric(X["Age"], errors="coerce").lt(self.child_age)
        return saved.to_numpy(dtype=int)

    def predict_proba(self, X):  # noqa: N803
        """Return the rule's verdict as probabilities 0 or 1 (columns: died, survived)."""
        survived = self.predict(X).astype(float)
        return np.column_stack([1 - survived, survived])


def seed_model(random_state: int) -> Pipeline:
    """Return the seed notebook's model, made leakage-free.

    A reconstruction of the course's starting notebook: title, sex, class, age, fare and port
    into a 20-tree forest. The notebook imputed and encoded on all rows before splitting; here
    every step is fitted inside the pipeline, on training rows only. Titles are kept as they
    are (``min_count=1``), as the notebook did.
    """
    columns = ColumnTransformer(
        [
            ("title", make_pipeline(TitleExtractor(min_count=1), _encoder()), ["Name"]),
            ("categories", make_pipeline(SimpleImputer(strategy="most_frequent"), _encoder()),
             ["Sex", "Embarked"]),
            ("numbers", SimpleImputer(strategy="median"), ["Pclass", "Age", "Fare"]),
        ]
    )  # fmt: skip
    forest = RandomForestClassifier(n_estimators=SEED_TREES, random_state=random_state)
    return Pipeline([("features", columns), ("classifier", forest)])


def _encoder() -> OneHotEncoder:
    return OneHotEncoder(handle_unknown="ignore", sparse_output=False)


def baseline_models(child_age: float, random_state: int) -> dict[str, BaseEstimator]:
    """Return the baselines by display name, each unfitted.

    Parameters
    ----------
    child_age : float
        The "women and children first" rule's age threshold.
    random_state : int
        The run's seed (the seed model's forest).
    """
    return {
        RULE_NAMES[0]: DummyClassifier(strategy="most_frequent"),
        RULE_NAMES[1]: RuleClassifier("gender"),
        RULE_NAMES[2]: RuleClassifier("women_and_children", child_age),
        SEED_MODEL_NAME: seed_model(random_state),
    }


@dataclass(frozen=True)
class BaselineScores:
    """Held-out accuracy per baseline, and accuracy per fold (rows) and baseline (columns)."""

    validation: dict[str, float]
    folds: pd.DataFrame


def baseline_accuracies(
    models: dict[str, BaseEstimator],
    split: Split,
    folds: int,
    random_state: int,
    n_jobs: int = 1,
) -> BaselineScores:
    """Score every baseline like the model: the held-out split, then the same folds.

    Parameters
    ----------
    models : dict
        Baselines by name (:func:`baseline_models`).
    split : Split
        The model's training and held-out rows.
    folds : int
        Number of stratified folds on the training rows (``split.cv_folds``).
    random_state : int
        The run's seed, which fixes the folds exactly as for the model.
    n_jobs : int
        Folds scored at once (-1: every available core); the scores do not depend on it.

    Returns
    -------
    BaselineScores
        Held-out accuracy per baseline, and the accuracy per fold and baseline.
    """
    validation, per_fold = {}, {}
    for name, model in models.items():
        fitted = clone(model).fit(split.x_train, split.y_train)
        validation[name] = float(
            accuracy_score(split.y_validation, fitted.predict(split.x_validation))
        )
        per_fold[name] = cross_val_score(
            clone(model),
            split.x_train,
            split.y_train,
            cv=fold_splitter(folds, random_state),
            scoring="accuracy",
            n_jobs=n_jobs,
        )
    index = pd.RangeIndex(1, folds + 1, name="fold")
    return BaselineScores(validation, pd.DataFrame(per_fold, index=index))
