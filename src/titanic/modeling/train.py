"""Build the leakage-free pipeline, split the training rows and fit."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from titanic.config import FeatureSettings, ModelSettings, SplitSettings
from titanic.dataset import split_features_target
from titanic.features import build_preprocessor


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
    forest = RandomForestClassifier(**model.model_dump(), random_state=random_state)
    return Pipeline([("features", build_preprocessor(features)), ("classifier", forest)])


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
