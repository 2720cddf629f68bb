"""Findings: group rates compared with their noise, trends, the interval, the model's verdicts.

Expected values are worked out by hand from the formulas in the module's docstrings.
"""

from __future__ import annotations

import pandas as pd
import pytest

from titanic.findings import (
    Errors,
    ImportanceRanking,
    TunedDefaults,
    data_findings,
    prediction_findings,
    trend,
    tuning_overlap,
)
from titanic.uncertainty import GroupRate


def groups(*rates: tuple[int, int]) -> list[GroupRate]:
    return [GroupRate(f"group {i}", n, k) for i, (n, k) in enumerate(rates)]


@pytest.mark.parametrize(
    ("rates", "expected"),
    [
        ([(200, 120), (200, 80), (200, 40)], "falls"),
        ([(200, 40), (200, 80), (200, 120)], "rises"),
        ([(200, 100), (200, 120), (200, 80)], "mixed"),
        ([(200, 120), (200, 118), (200, 40)], "mixed"),
    ],
)
def test_trend_needs_a_clear_step_every_time(rates, expected):
    assert trend(groups(*rates)) == expected


@pytest.mark.parametrize(
    ("missed", "false_alarms", "expected"),
    # 1.96 * sqrt(40) = 12.4 < 20; 1.96 * sqrt(35) = 11.6 > 5
    [(30, 10, "more"), (10, 30, "less"), (20, 15, "same")],
)
def test_errors_compare_missed_survivors_with_false_alarms(missed, false_alarms, expected):
    assert Errors(50, false_alarms, missed, 40).verdict == expected


def test_importance_leaders_carry_half_of_the_positive_drop():
    ranked = ImportanceRanking(
        (("Sex", 0.2, 0.01), ("Name", 0.1, 0.01), ("Age", 0.05, 0.01), ("Fare", 0.01, 0.02))
    )
    assert ranked.leaders == ("Sex",)
    assert ranked.negligible == ("Fare",)
    spread = ImportanceRanking(tuple((name, 0.05, 0.01) for name in "ABCD"))
    assert spread.leaders == ("A", "B")


def test_no_leaders_when_no_drop_exceeds_its_noise():
    ranked = ImportanceRanking((("Sex", 0.02, 0.015), ("Name", 0.01, 0.01)))
    assert ranked.leaders == ()
    assert ranked.negligible == ("Sex", "Name")


def test_tuning_overlap_compares_parameters_then_data():
    tuned = TunedDefaults("abc", {"max_depth": 8})
    assert tuning_overlap({"max_depth": 8, "n_estimators": 5}, "abc", tuned) == "same rows"
    assert tuning_overlap({"max_depth": 8}, "other", tuned) == "other data"
    assert tuning_overlap({"max_depth": 4}, "abc", tuned) == "other parameters"


def passenger_frame(
    rows: list[tuple[str, int, float | None, float, str, int, int]],
) -> pd.DataFrame:
    """Passengers as (Sex, Pclass, Age, Fare, Embarked, family size, Survived), repeated."""
    return pd.DataFrame(
        [
            {"Sex": sex, "Pclass": pclass, "Age": age, "Fare": fare, "Embarked": port,
             "SibSp": family - 1, "Parch": 0, "Survived": survived, "Cabin": None}
            for sex, pclass, age, fare, port, family, survived in rows
        ]
    )  # fmt: skip


def test_data_findings_on_hand_made_passengers():
    rows = (
        [("female", 1, 30.0, 80.0, "C", 2, 1)] * 40
        + [("female", 3, 8.0, 8.0, "S", 1, 0)] * 10
        + [("male", 3, 40.0, 7.0, "S", 1, 0)] * 40
        + [("male", 2, None, 15.0, "Q", 6, 1)] * 10
    )
    found = data_findings(passenger_frame(rows), test_passengers=7, child_age=13)
    assert (found.sex.first.rate, found.sex.second.rate) == (0.8, 0.2)
    assert found.sex.verdict == "more"
    assert [group.rate for group in found.classes] == [1.0, 1.0, 0.0]
    assert found.class_trend == "mixed"  # class 1 and 2 both 100 %
    assert found.unknown_age == 10
    assert found.children.first.passengers == 10 and found.children.verdict == "less"
    assert found.ports.top.name == "passengers who embarked at Cherbourg"
    assert found.missing == {"Cabin": 1.0, "Age": 0.1}
    assert found.test_passengers == 7


def test_reversed_sexes_reverse_the_verdict(kaggle_dir):
    train = pd.read_csv(kaggle_dir / "train.csv")
    swapped = train.assign(Sex=train["Sex"].map({"male": "female", "female": "male"}))
    assert data_findings(train, 418, 13).sex.verdict == "more"
    assert data_findings(swapped, 418, 13).sex.verdict == "less"


def test_kaggle_classes_fall_with_the_class_number(kaggle_dir):
    train = pd.read_csv(kaggle_dir / "train.csv")
    found = data_findings(train, 418, 13)
    assert found.class_trend == "falls"
    # survival correlates most (in absolute value) with the class, not the fare
    assert found.survival_correlate.first == "Pclass"
    assert found.survival_correlate.coefficient < 0


def test_predictions_compared_with_training_rates():
    test = pd.DataFrame({"Sex": ["female"] * 4 + ["male"] * 6})
    train = pd.DataFrame({"Sex": ["female", "male"] * 50, "Survived": [1, 0] * 50})
    found = prediction_findings(pd.Series([1, 1, 1, 0, 0, 0, 0, 0, 0, 1]), test, train)
    assert found.overall.first.survivors == 4
    assert found.by_sex[0].first.rate == 0.75
    assert found.by_sex[1].second.rate == 0.0
