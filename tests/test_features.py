import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from titanic.config import FEATURE_GROUPS, FeatureSettings
from titanic.features import (
    RARE_TITLE,
    CabinDeck,
    FamilySize,
    GroupSurvival,
    TicketFeatures,
    TitleExtractor,
    build_preprocessor,
    engineered_sample,
    extract_title,
    feature_branches,
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
    odd = passengers.head(2).assign(
        Cabin=["Z99", "Z1"], Name=["X, Jonkheer. Y", "A, Don. B"], Embarked=["X", "X"]
    )
    out = preprocessor.transform(odd)
    assert not out.isna().any().any()
    assert out[[c for c in out.columns if c.startswith("port__")]].sum().sum() == 0
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


def test_title_synonyms_and_spaces_before_the_full_stop():
    names = pd.Series(["A, Ms. B", "C, Mme. D", "E, Mr . F"])
    assert extract_title(names).tolist() == ["Miss", "Mrs", "Mr"]


def test_default_min_count_is_ten_and_one_keeps_every_title():
    names = pd.DataFrame({"Name": [f"A{i}, Mr. X" for i in range(10)] + ["B, Mrs. Y"] * 9})
    assert TitleExtractor().fit(names).titles_ == ["Mr"]
    assert TitleExtractor(min_count=1).fit(names).titles_ == ["Mr", "Mrs"]


def test_ticket_counts_ignore_surrounding_spaces():
    tickets = TicketFeatures().fit(pd.DataFrame({"Ticket": [" 111 ", "111", "A 2"]}))
    assert tickets.ticket_counts_ == {"111": 2, "A 2": 1}
    out = tickets.transform(pd.DataFrame({"Ticket": ["111 ", "a 2", "3"]}))
    assert out.tolist() == [[2.0, 0.0], [1.0, 1.0], [1.0, 0.0]]


ALL_GROUP_COLUMNS = [
    "title__title_Miss", "title__title_Mr", "title__title_Mrs", "title__title_Rare",
    "sex__Sex_male", "pclass__Pclass", "age__Age", "age__missingindicator_Age", "fare__Fare",
    "family__SibSp", "family__Parch", "family__family_size", "family__is_alone",
    "port__Embarked_C", "port__Embarked_Q", "port__Embarked_S",
    "cabin__deck_U", "cabin__deck_infrequent_sklearn",
    "ticket__ticket_frequency", "ticket__ticket_has_prefix",
    "group_survival__group_survival", "group_survival__group_known",
]  # fmt: skip


def test_every_group_names_its_output_columns(passengers):
    # Titles kept at min_count 2: Miss, Mr, Mrs; 11 unknown cabins (U) reach the encoder's
    # min_frequency of 10, the decks B, C, E, G do not.
    preprocessor = build_preprocessor(settings(include=FEATURE_GROUPS))
    out = preprocessor.fit_transform(passengers, passengers["Survived"])
    assert list(out.columns) == ALL_GROUP_COLUMNS
    assert out["port__Embarked_S"].sum() == 15  # 14 from S, and the missing port (the mode)
    assert out["fare__Fare"].iloc[19] == passengers["Fare"].median()


def test_output_rows_keep_the_index_of_the_input(passengers):
    shifted = passengers.set_axis(range(100, 120))
    preprocessor = build_preprocessor(settings())
    out = preprocessor.fit_transform(shifted)
    assert out.index.tolist() == list(range(100, 120))
    assert not out.isna().any().any()
    assert out["title__title_Mr"].tolist() == (passengers["Name"].str.contains("Mr\\.")).tolist()


def test_a_deck_seen_ten_times_is_its_own_category_unknown_decks_are_infrequent():
    cabin = feature_branches(settings())["cabin"][0]
    cabins = pd.DataFrame({"Cabin": ["A1"] * 10 + ["B2"] * 9})
    cabin.fit(cabins)
    out = cabin.transform(pd.DataFrame({"Cabin": ["A5", "B5", "Z9"]}))
    assert out.tolist() == [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]


def test_raw_columns_are_listed_once_in_group_order():
    include = ("title", "group_survival", "ticket", "fare")
    assert raw_columns(settings(include=include)) == ["Name", "Ticket", "Fare"]


def test_engineered_sample_uses_the_preprocessor_of_a_pipeline(passengers):
    preprocessor = build_preprocessor(settings(include=("sex",))).fit(passengers)
    expected = [[0.0], [1.0]]  # Cumings (female), then Allen (male)
    rows = passengers.iloc[[1, 4]]
    assert engineered_sample(preprocessor, rows).to_numpy().tolist() == expected
    pipeline = make_pipeline(preprocessor, DummyClassifier())  # a classifier cannot transform
    assert engineered_sample(pipeline, rows).to_numpy().tolist() == expected


# Ten passengers: four Smiths on one ticket; three Joneses on their own tickets with fares that
# round to 7.25; Kay and Lee on ticket K1 (one with spaces); Lone alone.
GROUP_ROWS = pd.DataFrame(
    {
        "Name": ["Smith, Mr. A", "Smith, Mrs. B", "Smith, Miss. C", "Smith, Master. D",
                 " JONES , Mr. E", "jones, Mrs. F", "Jones, Miss. G", "Kay, Mr. H",
                 "Lee, Mrs. I", "Lone, Mr. J"],
        "Ticket": ["T1", "T1", "T1", "T1", "J1", "J2", "J3", " K1 ", "K1", "L1"],
        "Fare": [10.0, 10.0, 10.0, 10.0, 7.254, 7.251, 7.249, 8.0, 9.0, 5.0],
    }
)  # fmt: skip
GROUP_LABELS = pd.Series([1, 1, 0, 1, 1, 0, 0, 1, 0, 1])


def test_group_survival_counts_per_ticket_and_per_surname_and_fare():
    fitted = GroupSurvival().fit(GROUP_ROWS, GROUP_LABELS)
    assert fitted.ticket_stats_ == {
        "T1": (3.0, 4), "J1": (1.0, 1), "J2": (0.0, 1), "J3": (0.0, 1), "K1": (1.0, 2),
        "L1": (1.0, 1),
    }  # fmt: skip
    assert fitted.family_stats_ == {
        "smith|10.0": (3.0, 4), "jones|7.25": (1.0, 3), "kay|8.0": (1.0, 1),
        "lee|9.0": (0.0, 1), "lone|5.0": (1.0, 1),
    }  # fmt: skip
    with pytest.raises(ValueError, match="^GroupSurvival learns from the labels: fit it with y$"):
        GroupSurvival().fit(GROUP_ROWS)


def test_group_survival_leaves_each_training_row_out_of_its_own_rate():
    encoded = GroupSurvival(prior=0.25).fit_transform(GROUP_ROWS, GROUP_LABELS)
    # Smiths: the other three; Joneses: no other on the ticket, so the other two of the family;
    # Kay and Lee: each other; Lone: nobody, the prior.
    rates = [2 / 3, 2 / 3, 1.0, 2 / 3, 0.0, 0.5, 0.5, 0.0, 1.0, 0.25]
    assert encoded[:, 0].tolist() == pytest.approx(rates)
    assert encoded[:, 1].tolist() == [1.0] * 9 + [0.0]


def test_group_survival_of_new_rows_uses_the_ticket_else_the_family_else_the_prior():
    fitted = GroupSurvival().fit(GROUP_ROWS, GROUP_LABELS)
    new = pd.DataFrame(
        {
            "Name": ["New, Mr. X", "Jones, Mr. Y", "Kay, Mr. Z", "Other, Mr. O", "No, Mr. Q"],
            "Ticket": ["T1", "Z9", "Z8", "J2", "Z7"],
            "Fare": [1.0, 7.25, 8.0, 99.0, 3.0],
        }
    )
    encoded = fitted.transform(new)
    assert encoded[:, 0].tolist() == pytest.approx([0.75, 1 / 3, 1.0, 0.0, 0.5])
    assert encoded[:, 1].tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]
    assert GroupSurvival().get_feature_names_out().tolist() == ["group_survival", "group_known"]


def test_group_keys_follow_the_rows_index_and_read_an_unreadable_fare_as_missing():
    shifted = GROUP_ROWS.set_axis(range(100, 110))
    fitted = GroupSurvival().fit(shifted, GROUP_LABELS.to_numpy())
    assert fitted.ticket_stats_["T1"] == (3.0, 4)
    assert fitted.family_stats_["jones|7.25"] == (1.0, 3)
    # The surname ends at the first comma; a fare that is not a number is missing (no family).
    odd = pd.DataFrame({"Name": ["A, Mr. B", "A, Mrs. C, Jr", "D, Mr. E"],
                        "Ticket": ["1", "2", "3"], "Fare": ["7.5", "7.5", "n/a"]})  # fmt: skip
    assert GroupSurvival().fit(odd, [1, 0, 1]).family_stats_ == {"a|7.5": (1.0, 2)}


@pytest.mark.parametrize(
    ("transformer", "names", "columns"),
    [
        (TitleExtractor(min_count=1), ["title"], ["Name"]),
        (CabinDeck(), ["deck"], ["Cabin"]),
        (TicketFeatures(), ["ticket_frequency", "ticket_has_prefix"], ["Ticket"]),
        (FamilySize(), ["family_size", "is_alone"], ["SibSp", "Parch"]),
        (GroupSurvival(), ["group_survival", "group_known"], ["Name", "Ticket", "Fare"]),
    ],
)
def test_transformers_name_their_outputs_and_check_the_columns(
    passengers, transformer, names, columns
):
    # A fresh copy: the parametrized instance outlives the test (mutmut reuses the module).
    fitted = clone(transformer).fit(passengers[columns], passengers["Survived"])
    out_names = fitted.get_feature_names_out()
    assert out_names.dtype == object and out_names.tolist() == names
    assert fitted.n_features_in_ == len(columns)
    with pytest.raises(ValueError, match="feature names should match"):
        fitted.transform(passengers[[*columns, "PassengerId"]])


def test_title_and_deck_keep_the_index_of_their_input():
    rows = pd.DataFrame({"Name": ["A, Mr. B", "C, Mrs. D"], "Cabin": ["C1", None]}, index=[7, 3])
    titles = TitleExtractor(min_count=1).fit(rows[["Name"]]).transform(rows[["Name"]])
    assert titles.index.tolist() == [7, 3] and titles["title"].tolist() == ["Mr", "Mrs"]
    decks = CabinDeck().fit_transform(rows[["Cabin"]])
    assert decks.index.tolist() == [7, 3] and decks["deck"].tolist() == ["C", "U"]


def test_transformers_also_take_arrays():
    names = np.array([["A, Mr. B"], ["C, Mrs. D"]], dtype=object)
    titles = TitleExtractor(min_count=1).fit(names).transform(names)
    assert titles.index.tolist() == [0, 1] and titles["title"].tolist() == ["Mr", "Mrs"]
    tickets = np.array([["PC 1"], ["PC 1"]], dtype=object)
    assert TicketFeatures().fit(tickets).transform(tickets).tolist() == [[2.0, 1.0]] * 2


def test_group_survival_of_a_passenger_alone_is_the_prior_without_a_warning():
    fitted = GroupSurvival(prior=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoded = fitted.fit_transform(GROUP_ROWS, GROUP_LABELS)  # Lone: nobody else
        unseen = fitted.transform(GROUP_ROWS.assign(Ticket="Z0", Name="Nobody, Mr. N"))
    assert encoded[-1].tolist() == [0.25, 0.0]
    assert unseen.tolist() == [[0.25, 0.0]] * len(GROUP_ROWS)


def test_a_feature_step_refuses_an_empty_frame_by_name():
    with pytest.raises(ValueError, match=r"^TitleExtractor needs at least one row and column$"):
        TitleExtractor().fit(pd.DataFrame({"Name": []}))


def test_a_feature_step_given_arrays_records_their_width_accepts_missing_values_checks_width():
    names = np.array([["Braund, Mr. Owen"], [np.nan], ["Heikkinen, Miss. Laina"]], dtype=object)
    step = TitleExtractor(min_count=1).fit(names)  # a missing name is no error
    assert step.n_features_in_ == 1
    assert step.transform(names)["title"].tolist() == ["Mr", "", "Miss"]  # no title: empty
    with pytest.raises(ValueError, match="X has 2 features, but TitleExtractor is expecting 1"):
        step.transform(np.hstack([names, names]))


def test_the_title_extractor_s_fit_transform_is_fit_then_transform():
    names = pd.DataFrame(
        {
            "Name": [
                "Smith, Mr. John",
                "Doe, Mrs. Jane",
                "Roe, Mr. Tom",
                "Poe, Dr. Ed",
                "Lee, Mlle. A",
            ]
        }
    )
    at_once = TitleExtractor(min_count=2).fit_transform(names)
    fitted = TitleExtractor(min_count=2).fit(names)
    pd.testing.assert_frame_equal(at_once, fitted.transform(names))
    assert at_once["title"].tolist() == ["Mr", "Rare", "Mr", "Rare", "Rare"]
    with pytest.raises(ValueError, match="min_count must be >= 1, got 0"):
        TitleExtractor(min_count=0).fit_transform(names)
