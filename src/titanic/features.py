"""Feature engineering as scikit-learn transformers, assembled into one ColumnTransformer.

Everything that learns from data (title groups, ticket frequencies, medians, encoders) learns in
``fit``, so inside a Pipeline it sees only the training rows of each split or fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.validation import check_is_fitted, validate_data

from titanic.config import FEATURE_REGISTRY, FeatureSettings

RARE_TITLE = "Rare"
UNKNOWN_DECK = "U"
# French and abbreviated forms of the common titles, as they appear in the passenger list.
TITLE_SYNONYMS = {"Mlle": "Miss", "Ms": "Miss", "Mme": "Mrs"}
TITLE_PATTERN = r",\s*([^.,]+)\."


def _as_frame(estimator: BaseEstimator, X, *, reset: bool = False) -> pd.DataFrame:  # noqa: N803
    """Validate ``X`` (any dtype, NaN allowed); return it as a DataFrame with its index.

    ``reset=True`` (in ``fit``) records the input's columns; otherwise they are checked. A
    DataFrame is returned as it is, its columns' own dtypes kept: converting it to one object
    array, as ``check_array`` does, walks every string of every column in Python.
    """
    if isinstance(X, pd.DataFrame):
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        if X.empty:
            raise ValueError(f"{type(estimator).__name__} needs at least one row and column")
        return X  # the callers read the columns by position and never write to them
    values = validate_data(estimator, X, reset=reset, dtype=None, ensure_all_finite=False)
    return pd.DataFrame(values)


def extract_title(names: pd.Series) -> pd.Series:
    """Return the title in ``"Surname, Title. Given names"``; an empty string when absent."""
    titles = names.astype(str).str.extract(TITLE_PATTERN, expand=False).str.strip()
    return titles.replace(TITLE_SYNONYMS).fillna("")


class TitleExtractor(TransformerMixin, BaseEstimator):
    """Extract the title from ``Name``; titles rarer than ``min_count`` become ``"Rare"``.

    Parameters
    ----------
    min_count : int, default=10
        Titles seen fewer times than this in the training rows are grouped.

    Attributes
    ----------
    titles_ : list of str
        The titles kept as their own category.
    """

    def __init__(self, min_count: int = 10):
        self.min_count = min_count

    def fit(self, X, y=None):  # noqa: N803
        """Learn which titles are frequent enough to keep."""
        del y
        self._learn(extract_title(_as_frame(self, X, reset=True).iloc[:, 0]))
        return self

    def fit_transform(self, X, y=None, **fit_params):  # noqa: N803
        """Fit, then return the same rows' ``title``, each title extracted once."""
        del y, fit_params
        titles = extract_title(_as_frame(self, X, reset=True).iloc[:, 0])
        self._learn(titles)
        return self._grouped(titles)

    def transform(self, X):  # noqa: N803
        """Return one column ``title``."""
        check_is_fitted(self)
        return self._grouped(extract_title(_as_frame(self, X).iloc[:, 0]))

    def _learn(self, titles: pd.Series) -> None:
        if self.min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {self.min_count}")
        counts = titles.value_counts()
        self.titles_ = sorted(
            str(title) for title, count in counts.items() if count >= self.min_count
        )

    def _grouped(self, titles: pd.Series) -> pd.DataFrame:
        return pd.DataFrame({"title": titles.where(titles.isin(self.titles_), RARE_TITLE)})

    def get_feature_names_out(self, input_features=None):
        """Return ``["title"]``."""
        del input_features
        return np.asarray(["title"], dtype=object)


class FamilySize(TransformerMixin, BaseEstimator):
    """From counts of relatives aboard (``SibSp``, ``Parch``): family size and travelling alone.

    ``family_size`` is one plus the sum of the count columns, however many there are.
    """

    def fit(self, X, y=None):  # noqa: N803
        """Record the input columns (nothing to learn)."""
        del y
        validate_data(self, X)
        return self

    def transform(self, X):  # noqa: N803
        """Return ``family_size`` and ``is_alone``."""
        check_is_fitted(self)
        values = validate_data(self, X, reset=False)
        family_size = values.sum(axis=1) + 1
        return np.column_stack([family_size, (family_size == 1).astype(float)])

    def get_feature_names_out(self, input_features=None):
        """Return ``["family_size", "is_alone"]``."""
        del input_features
        return np.asarray(["family_size", "is_alone"], dtype=object)


class CabinDeck(TransformerMixin, BaseEstimator):
    """The deck letter of ``Cabin`` (``"U"`` when unknown), one category of the encoder."""

    def fit(self, X, y=None):  # noqa: N803
        """Record the input column (nothing to learn)."""
        del y
        _as_frame(self, X, reset=True)
        return self

    def transform(self, X):  # noqa: N803
        """Return one column ``deck``."""
        check_is_fitted(self)
        cabins = _as_frame(self, X).iloc[:, 0]
        decks = cabins.astype("string").str.strip().str[0].str.upper()
        return pd.DataFrame({"deck": decks.fillna(UNKNOWN_DECK).astype(object)})

    def get_feature_names_out(self, input_features=None):
        """Return ``["deck"]``."""
        del input_features
        return np.asarray(["deck"], dtype=object)


class TicketFeatures(TransformerMixin, BaseEstimator):
    """How many training passengers share the ticket, and whether it has a letter prefix.

    Attributes
    ----------
    ticket_counts_ : dict
        Passengers per ticket among the training rows.
    """

    def fit(self, X, y=None):  # noqa: N803
        """Count the passengers per ticket among the training rows."""
        del y
        tickets = _as_frame(self, X, reset=True).iloc[:, 0].astype(str).str.strip()
        self.ticket_counts_ = tickets.value_counts().to_dict()
        return self

    def transform(self, X):  # noqa: N803
        """Return ``ticket_frequency`` (at least 1) and ``ticket_has_prefix``."""
        check_is_fitted(self)
        tickets = _as_frame(self, X).iloc[:, 0].astype(str).str.strip()
        frequency = tickets.map(self.ticket_counts_).fillna(1)  # an unseen ticket: its own
        has_prefix = tickets.str.contains(r"[A-Za-z]")
        return np.column_stack([frequency.to_numpy(float), has_prefix.to_numpy(float)])

    def get_feature_names_out(self, input_features=None):
        """Return ``["ticket_frequency", "ticket_has_prefix"]``."""
        del input_features
        return np.asarray(["ticket_frequency", "ticket_has_prefix"], dtype=object)


def surname(names: pd.Series) -> pd.Series:
    """Return the surname in ``"Surname, Title. Given names"`` (what comes before the comma)."""
    return names.astype(str).str.partition(",")[0].str.strip().str.lower()


class GroupSurvival(TransformerMixin, BaseEstimator):
    """Survival rate of a passenger's companions, learned from training labels only.

    Companions are the passengers on the same ticket or, when no other labelled passenger
    shares it, with the same surname and fare. ``fit`` counts the survivors per group among the
    training rows. ``fit_transform`` (what a Pipeline calls on the training rows) leaves each
    row's own label out of its group (leave-one-out), so no row describes itself; ``transform``
    (held-out rows, folds, new passengers) uses every training label of the group.

    Parameters
    ----------
    prior : float, default=0.5
        ``group_survival`` of a passenger without labelled companions.

    Attributes
    ----------
    ticket_stats_, family_stats_ : dict
        Per group key, the number of training survivors and of training rows.
    """

    def __init__(self, prior: float = 0.5):
        self.prior = prior

    @staticmethod
    def _keys(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        tickets = frame.iloc[:, 1].astype(str).str.strip()
        fares = pd.to_numeric(frame.iloc[:, 2], errors="coerce").round(2)
        # A missing fare gives no family key (groups leave it out). Said, not left to
        # astype(str): pandas 3 keeps a missing value missing, pandas 2 writes "nan".
        families = (surname(frame.iloc[:, 0]) + "|" + fares.astype(str)).where(fares.notna())
        return tickets, families

    def fit(self, X, y=None):  # noqa: N803
        """Count survivors and rows per ticket and per surname and fare among training rows."""
        self._learn(_as_frame(self, X, reset=True), y)
        return self

    def _learn(self, frame: pd.DataFrame, y: object) -> tuple[pd.Series, pd.Series]:
        """Count the groups' survivors and rows; return each row's two group keys."""
        if y is None:
            raise ValueError("GroupSurvival learns from the labels: fit it with y")
        labels = pd.Series(np.asarray(y, dtype=float), index=frame.index)
        keys = self._keys(frame)
        self.ticket_stats_ = _survivors_and_rows(labels, keys[0])
        self.family_stats_ = _survivors_and_rows(labels, keys[1])
        return keys

    def _encode(self, keys: tuple[pd.Series, pd.Series], own: np.ndarray | None) -> np.ndarray:
        tickets, families = keys
        counted = 0 if own is None else 1
        own_labels = np.zeros(len(tickets)) if own is None else own
        survivors, size = _group_stats(tickets, self.ticket_stats_)
        # Without another labelled passenger on the ticket, the family's group stands in.
        use_family = size - counted < 1
        family_survivors, family_size = _group_stats(families, self.family_stats_)
        survivors = np.where(use_family, family_survivors, survivors)
        size = np.where(use_family, family_size, size)
        others = size - counted
        known = others >= 1
        with np.errstate(divide="ignore", invalid="ignore"):
            rates = (survivors - own_labels * counted) / others
        return np.column_stack([np.where(known, rates, self.prior), known.astype(float)])

    def fit_transform(self, X, y=None, **fit_params):  # noqa: N803
        """Fit, then encode the training rows, each without its own label (leave-one-out)."""
        del fit_params
        keys = self._learn(_as_frame(self, X, reset=True), y)
        return self._encode(keys, np.asarray(y, dtype=float))

    def transform(self, X):  # noqa: N803
        """Return ``group_survival`` and ``group_known`` from the training labels."""
        check_is_fitted(self)
        return self._encode(self._keys(_as_frame(self, X)), None)

    def get_feature_names_out(self, input_features=None):
        """Return ``["group_survival", "group_known"]``."""
        del input_features
        return np.asarray(["group_survival", "group_known"], dtype=object)


def _survivors_and_rows(labels: pd.Series, keys: pd.Series) -> dict:
    """Return, per group key (missing keys left out), its survivors (float) and rows (int)."""
    counts = labels.groupby(keys).agg(["sum", "size"])
    return {
        key: (float(survivors), int(rows))
        for key, survivors, rows in zip(
            counts.index, counts["sum"].tolist(), counts["size"].tolist(), strict=True
        )
    }


def _group_stats(keys: pd.Series, stats: dict) -> tuple[np.ndarray, np.ndarray]:
    """Return the training survivors (floats) and rows (ints) of each row's group; 0 if unseen."""
    survivors = keys.map({key: counts[0] for key, counts in stats.items()})
    size = keys.map({key: counts[1] for key, counts in stats.items()})
    return survivors.fillna(0.0).to_numpy(float), size.fillna(0).to_numpy(np.int64)


def _one_hot(min_frequency: int | None = None) -> OneHotEncoder:
    """One-hot columns; an unseen category counts as infrequent, else as none of them."""
    return OneHotEncoder(
        handle_unknown="infrequent_if_exist",
        min_frequency=min_frequency,
        sparse_output=False,
    )


def feature_branches(features: FeatureSettings) -> dict[str, tuple[object, list[str]]]:
    """Return every feature group's transformer and the raw columns it reads (the registry's)."""
    transformers: dict[str, object] = {
        "title": make_pipeline(
            TitleExtractor(min_count=features.rare_title_min_count), _one_hot()
        ),
        "sex": OneHotEncoder(drop="if_binary", sparse_output=False),
        "pclass": "passthrough",
        "age": SimpleImputer(strategy="median", add_indicator=True),
        "fare": SimpleImputer(strategy="median"),
        "family": ColumnTransformer(
            [("counts", "passthrough", [0, 1]), ("size", FamilySize(), [0, 1])],
            verbose_feature_names_out=False,
        ),
        "port": make_pipeline(SimpleImputer(strategy="most_frequent"), _one_hot()),
        "cabin": make_pipeline(CabinDeck(), _one_hot(min_frequency=10)),
        "ticket": TicketFeatures(),
        "group_survival": GroupSurvival(),
    }
    return {
        group.name: (transformers[group.name], list(group.columns)) for group in FEATURE_REGISTRY
    }


def build_preprocessor(features: FeatureSettings) -> ColumnTransformer:
    """Assemble the feature groups listed in ``features.include`` into one ColumnTransformer.

    Parameters
    ----------
    features : FeatureSettings
        Which groups to include and how rare titles are grouped.

    Returns
    -------
    ColumnTransformer
        Unfitted; outputs a DataFrame whose columns are named ``group__feature``; the
        columns of no included group are dropped.
    """
    branches = feature_branches(features)
    transformer = ColumnTransformer([(name, *branches[name]) for name in features.include])
    return transformer.set_output(transform="pandas")


def raw_columns(features: FeatureSettings) -> list[str]:
    """Return the raw input columns that the included feature groups read, in order."""
    branches = feature_branches(features)
    columns: list[str] = []
    for name in features.include:
        columns.extend(column for column in branches[name][1] if column not in columns)
    return columns


@dataclass(frozen=True)
class Branch:
    """One fitted feature group of a ColumnTransformer: what it reads and where its output goes."""

    transformer: Any
    columns: list[str]
    output: slice


def fitted_branches(preprocessor: ColumnTransformer) -> list[Branch]:
    """Return the fitted feature groups that produce output columns, in output order.

    Each output column of ``preprocessor.transform`` comes from one group, which reads only its
    own raw columns: when one raw column changes, only the groups reading it need transforming.
    """
    check_is_fitted(preprocessor)
    return [
        Branch(transformer, list(columns), preprocessor.output_indices_[name])
        for name, transformer, columns in preprocessor.transformers_
        if not isinstance(transformer, str)  # "drop"
        and preprocessor.output_indices_[name].stop > preprocessor.output_indices_[name].start
    ]


def engineered_sample(pipeline: Pipeline | ColumnTransformer, rows: pd.DataFrame) -> pd.DataFrame:
    """Return what a fitted preprocessor makes of some raw rows (for before/after tables)."""
    preprocessor = pipeline[0] if isinstance(pipeline, Pipeline) else pipeline
    return preprocessor.transform(rows)
