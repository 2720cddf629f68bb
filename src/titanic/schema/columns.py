"""The Kaggle columns and pandera schemas, without I/O, so that modelling can import them."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import pandera.pandas as pa

TARGET = "Survived"
ID_COLUMN = "PassengerId"
Role = Literal["train", "test"]
# Upper bounds far above the real data (oldest 80, largest fare 512.33, at most 8 siblings
# and 9 parents/children) that still refuse inf, 1e308 and typing slips.
MAX_AGE = 120
MAX_FARE = 10_000
MAX_RELATIVES = 20

_FEATURE_COLUMNS = {
    ID_COLUMN: pa.Column(int, unique=True),
    "Pclass": pa.Column(int, pa.Check.isin([1, 2, 3])),
    "Name": pa.Column(str),
    "Sex": pa.Column(str, pa.Check.isin(["male", "female"])),
    "Age": pa.Column(float, [pa.Check.ge(0), pa.Check.le(MAX_AGE)], nullable=True),
    "SibSp": pa.Column(int, [pa.Check.ge(0), pa.Check.le(MAX_RELATIVES)]),
    "Parch": pa.Column(int, [pa.Check.ge(0), pa.Check.le(MAX_RELATIVES)]),
    "Ticket": pa.Column(str),
    "Fare": pa.Column(float, [pa.Check.ge(0), pa.Check.le(MAX_FARE)], nullable=True),
    "Cabin": pa.Column(str, nullable=True),
    "Embarked": pa.Column(str, pa.Check.isin(["C", "Q", "S"]), nullable=True),
}
SCHEMAS: dict[Role, pa.DataFrameSchema] = {
    # strict=False and ordered=False: real files may carry extra columns, in any order.
    "train": pa.DataFrameSchema(
        {**_FEATURE_COLUMNS, TARGET: pa.Column(int, pa.Check.isin([0, 1]))},
        coerce=True,
        strict=False,
        ordered=False,
    ),
    "test": pa.DataFrameSchema(_FEATURE_COLUMNS, coerce=True, strict=False, ordered=False),
}
FEATURE_COLUMNS = tuple(_FEATURE_COLUMNS)


def split_features_target(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Return the feature columns and the label of a training frame."""
    return frame.drop(columns=[TARGET]), frame[TARGET]
