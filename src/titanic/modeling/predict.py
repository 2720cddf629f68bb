"""Predict survival for unlabelled passengers and shape a Kaggle submission."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from titanic.schema.columns import ID_COLUMN, TARGET


def predict_survival(model: Pipeline, passengers: pd.DataFrame) -> pd.DataFrame:
    """Return ``PassengerId``, the predicted ``Survived`` (0/1) and its probability.

    Parameters
    ----------
    model : Pipeline
        A fitted pipeline from :func:`titanic.modeling.train.build_model`.
    passengers : DataFrame
        Raw rows with the feature columns (as in test.csv).
    """
    probabilities = model.predict_proba(passengers)
    # What the classifier's predict returns (the likelier class), without transforming and
    # predicting the rows a second time.
    predicted = model.classes_.take(np.argmax(probabilities, axis=1))
    return pd.DataFrame(
        {
            ID_COLUMN: passengers[ID_COLUMN].to_numpy(),
            TARGET: predicted.astype(int),
            "probability": probabilities[:, 1],
        }
    )


def submission_frame(predictions: pd.DataFrame) -> pd.DataFrame:
    """Keep the two columns Kaggle expects: PassengerId, Survived."""
    return predictions[[ID_COLUMN, TARGET]].reset_index(drop=True)
