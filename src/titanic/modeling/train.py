"""Build the leakage-free pipeline, split the training rows and fit."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from titanic.config import FeatureSettings, ModelSettings, SplitSettings
from titanic.errors import DataError
from titanic.features import build_preprocessor
from titanic.modeling.forest import RandomForest
from titanic.schema.columns import TARGET, split_features_target


@dataclass(frozen=True)
class Split:
    """Training and validation rows, features and labels apart."""

    x_train: pd.DataFrame
    x_validation: pd.DataFrame
    y_train: pd.Series
    y_validation: pd.Series


def build_model(features: FeatureSettings, model: ModelSettings, random_state: int) -> Pipeline:
    """Return the unfitted pipeline: feature engineering, then a random forest.

    Parameters
    ----------
    features : FeatureSettings
        Feature groups and rare-title threshold.
    model : ModelSettings
        RandomForestClassifier hyper-parameters, passed through under their own names.
    random_state : int
        The run's seed.
    """
    forest = RandomForest(**model.model_dump(), random_state=random_state)
    return Pipeline([("features", build_preprocessor(features)), ("classifier", forest)])


def rows_needed_per_class(split: SplitSettings) -> int:
    """Return the fewest rows of each class that leave ``cv_folds`` in training, one held out."""
    needed = split.cv_folds + 1
    while math.floor(needed * (1 - split.test_size)) < split.cv_folds:
        needed += 1
    return needed


def check_enough_rows(target: pd.Series, split: SplitSettings, source: str) -> None:
    """Refuse labels too few for the held-out split and the cross-validation folds.

    Each class needs ``split.cv_folds`` rows in the training part and one in the held-out part.

    Parameters
    ----------
    target : pd.Series
        The labels (0 or 1) of the training file.
    split : SplitSettings
        The held-out fraction and the number of folds.
    source : str
        The training file's address, for the message.

    Raises
    ------
    DataError
        With the number of rows, the settings, the rows each class needs and each class's count.
    """
    needed = rows_needed_per_class(split)
    counts = {label: int((target == label).sum()) for label in (0, 1)}
    if min(counts.values()) >= needed:
        return
    rows = f"{len(target)} labelled row{'' if len(target) == 1 else 's'}"
    have = ", ".join(f"class {label} has {count}" for label, count in counts.items())
    raise DataError(
        f"{rows} {'is' if len(target) == 1 else 'are'} too few for split.test_size ="
        f" {split.test_size:g} and split.cv_folds = {split.cv_folds}: each class of {TARGET}"
        f" needs at least {needed} rows ({split.cv_folds} in the training part for the folds,"
        f" 1 held out); {have}",
        source,
        column=TARGET,
    )


def split_train_validation(frame: pd.DataFrame, split: SplitSettings, random_state: int) -> Split:
    """Hold out ``split.test_size`` of the labelled rows, stratified on the label if asked."""
    features, target = split_features_target(frame)
    x_train, x_validation, y_train, y_validation = train_test_split(
        features,
        target,
        test_size=split.test_size,
        random_state=random_state,
        stratify=target if split.stratify else None,
    )
    return Split(x_train, x_validation, y_train, y_validation)


def fit_model(pipeline: Pipeline, features: pd.DataFrame, target: pd.Series) -> Pipeline:
    """Fit the pipeline on the given rows only and return it."""
    return pipeline.fit(features, target)
