import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from titanic.config import FEATURE_GROUPS, FeatureSettings
from titanic.features import (
    RARE_TITLE,
    CabinDeck,
    FamilySize,
    TicketFeatures,
    TitleExtractor,
    build_preprocessor,
    extract_title,
    raw_columns,
)

# The groups that learn without labels (group_survival needs y: its own tests are below).
UNSUPERVISED_GROUPS = tuple(name for name in FEATURE_GROUPS if name != "group_survival")


def settings(**changes) -> FeatureSettings:
    values = {"include": UNSUPERVISED_GROUPS, "rare_title_min_count": 2} | changes
    return FeatureSettings(**values)


def test_title_extraction_handles_odd_names():
    names = pd.Series(
        ["Braund, Mr. Owen", "Sagesser, Mlle. Emma", "Rothes, the Countess. of (Lucy)", "Nameless"]
    )
    assert extract_title(names).tolist() == ["Mr", "Miss", "the Countess", ""]


def test_rare_titles_are_learned_from_the_fitted_rows_only(passengers):
    extractor = TitleExtractor(min_count=2).fit(passengers[["Name"]])
    assert extractor.titles_ == ["Miss", "Mr", "Mrs"]  # Master, Rev, Countess appear once
    # Rows seen only at transform time cannot promote a title to its own group.
    unseen = pd.DataFrame({"Name": ["A, Rev. X", "B, Rev. Y", "C, Dr. Z", "D, Mr. W"]})
    assert extractor.transform(unseen)["title"].tolist() == [RARE_TITLE] * 3 + ["Mr"]


def test_ticket_frequency_comes_from_training_rows(passengers):
    tickets = TicketFeatures().fit(passengers[["Ticket"]])
    out = tickets.transform(pd.DataFrame({"Ticket": ["PC 17477", "NEW 1", "113803"]}))
    assert out[:, 0].tolist() == [2.0, 1.0, 1.0]
    assert out[:, 1].tolist() == [1.0, 1.0, 0.0]


def test_cabin_deck_marks_unknown_cabins():
    decks = CabinDeck().fit_transform(pd.DataFrame({"Cabin": ["C85", None, " b28", "T"]}))
    assert decks["deck"].tolist() == ["C", "U", "B", "T"]


def test_family_size():
    out = FamilySize().fit_transform(np.array([[1, 0], [0, 0], [3, 2]]))
    assert out.tolist() == [[2.0, 0.0], [1.0, 1.0], [6.0, 0.0]]


def test_transformers_refuse_to_transform_before_fit(passengers):
    for transformer in (TitleExtractor(), TicketFeatures(), CabinDeck(), FamilySize()):
        with pytest.raises(NotFittedError):
            transformer.transform(passengers[["Name"]])


def test_invalid_min_count_is_refused_in_fit(passengers):
    extractor = TitleExtractor(min_count=0)  # __init__ only stores
    with pytest.raises(ValueError, match="min_count"):
        extractor.fit(passengers[["Name"]])


@parametrize_with_checks([FamilySize()])
def test_family_size_follows_the_estimator_contract(estimator, check):
    check(estimator)


def test_preprocessor_output_properties(passengers):
    preprocessor = build_preprocessor(settings())
    before = passengers.copy()
    out = preprocessor.fit_transform(passengers)
    pd.testing.assert_frame_equal(passengers, before)  # the caller's frame is untouched
    assert len(out) == len(passengers)
    assert out.index.equals(passengers.index)
    assert not out.isna().any().any()  # every missing Age, Fare, Embarked, Cabin is imputed
    assert list(out.columns) == list(preprocessor.get_feature_names_out())
    assert "age__missingindicator_Age" in out.columns
    assert "family__family_size" in out.columns


def test_imputation_uses_training_rows_only(passengers):
    preprocessor = build_preprocessor(settings(include=("age",)))
    preprocessor.fit(passengers)
    training_median = passengers["Age"].median()
    new_rows = passengers.head(3).assign(Age=[None, 80.0, 90.0])
    out = preprocessor.transform(new_rows)
    assert out["age__Age"].iloc[0] == training_median
    assert out["age__missingindicator_Age"].tolist() == [1.0, 0.0, 0.0]


def test_feature_switches_select_groups(passengers):
    out = build_preprocessor(settings(include=("sex", "pclass"))).fit_transform(passengers)
    assert list(out.columns) == ["sex__Sex_male", "pclass__Pclass"]
    assert raw_columns(settings(include=("family", "sex"))) == ["SibSp", "Parch", "Sex"]


def test_unknown_categories_at_transform_time_do_not_fail(passengers):
    preprocessor = build_preprocessor(settings()).fit(passengers)
    odd = passengers.head(2).assign(Cabin=["Z99", "Z1"], Name=["X, Jonkheer. Y", "A, Don. B"])
    out = preprocessor.transform(odd)
    assert not out.isna().any().any()
    assert out[[c for c in out.columns if c.startswith("title__")]].sum(axis=1).eq(1).all()


def test_clone_keeps_parameters():
    preprocessor = build_preprocessor(settings(rare_title_min_count=7))
    cloned = clone(preprocessor)
    assert cloned.get_params()["title__titleextractor__min_count"] == 7


def test_a_title_seen_exactly_min_count_times_is_kept():
    names = pd.DataFrame(
        {"Name": ["A, Mr. X", "B, Mr. Y", "C, Mrs. Z", "D, Mrs. W", "E, Mrs. V", "F, Rev. U"]}
    )
    extractor = TitleExtractor(min_count=2).fit(names)
    assert extractor.titles_ == ["Mr", "Mrs"]
    titles = extractor.transform(names)["title"].tolist()
    assert titles == ["Mr", "Mr", "Mrs", "Mrs", "Mrs", "Rare"]
