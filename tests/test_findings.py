"""Findings: group rates compared with their noise, trends, the interval, the model's verdicts.

Expected values are worked out by hand from the formulas in the module's docstrings.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from titanic.findings import (
    Comparison,
    Errors,
    FoldGain,
    GroupRate,
    ImportanceRanking,
    Interval,
    TunedDefaults,
    auc_standard_error,
    data_findings,
    prediction_findings,
    trend,
    tuning_overlap,
)


def groups(*rates: tuple[int, int]) -> list[GroupRate]:
    return [GroupRate(f"group {i}", n, k) for i, (n, k) in enumerate(rates)]


def test_a_large_difference_is_clear_and_has_a_direction():
    women, men = GroupRate("women", 100, 80), GroupRate("men", 100, 20)
    assert Comparison(women, men).verdict == "more"
    assert Comparison(men, women).verdict == "less"
    assert Comparison(women, men).difference == pytest.approx(0.6)


def test_a_difference_within_noise_has_no_direction():
    # 50 % against 45 % on 100 each: the difference is 0.05, its standard error about 0.070.
    assert Comparison(GroupRate("a", 100, 50), GroupRate("b", 100, 45)).verdict == "same"


def test_a_group_with_an_extreme_rate_is_not_certain():
    # 0 of 3: (0 + 1) / (3 + 2) = 0.2; 0.2 * 0.8 / 5 = 0.032, where the plain variance is 0.
    assert GroupRate("a", 3, 0).variance == pytest.approx(0.032)
    assert Comparison(GroupRate("a", 3, 0), GroupRate("b", 3, 1)).verdict == "same"


def test_adjusted_variance_adds_one_success_and_one_failure():
    # (8 + 1) / (10 + 2) = 0.75; 0.75 * 0.25 / 12 = 0.015625
    assert GroupRate("a", 10, 8).variance == pytest.approx(0.015625)


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


def test_interval_adds_the_estimates_error_and_the_sampling_noise():
    interval = Interval(estimate=0.8, std=0.02, folds=4, sample_size=400, method="nested")
    # estimate error 0.02 / 2 = 0.01; sampling sqrt(0.8 * 0.2 / 400) = 0.02
    assert interval.estimate_error == pytest.approx(0.01)
    assert interval.sampling_error == pytest.approx(0.02)
    half = 1.959964 * math.sqrt(0.01**2 + 0.02**2)
    assert interval.low == pytest.approx(0.8 - half, abs=1e-6)
    assert interval.high == pytest.approx(0.8 + half, abs=1e-6)


def test_interval_stays_within_zero_and_one():
    interval = Interval(estimate=0.99, std=0.05, folds=2, sample_size=10, method="nested")
    assert interval.high == 1.0


@pytest.mark.parametrize(
    ("mean", "std", "expected"),
    # t(4) at 97.5 % is 2.776: 2.776 * 0.01 / sqrt(5) = 0.0124
    [(0.05, 0.01, "more"), (-0.05, 0.01, "less"), (0.01, 0.02, "same"), (0.012, 0.01, "same")],
)
def test_fold_gain_is_judged_by_a_t_test_across_folds(mean, std, expected):
    assert FoldGain("gender rule", mean, std, folds=5).verdict == expected


@pytest.mark.parametrize(
    ("missed", "false_alarms", "expected"),
    # 1.96 * sqrt(40) = 12.4 < 20; 1.96 * sqrt(35) = 11.6 > 5
    [(30, 10, "more"), (10, 30, "less"), (20, 15, "same")],
)
def test_errors_compare_missed_survivors_with_false_alarms(missed, false_alarms, expected):
    assert Errors(50, false_alarms, missed, 40).verdict == expected


def test_hanley_mcneil_standard_error():
    # q1 = 0.8 / 1.2, q2 = 1.28 / 1.8; (0.16 + 49 (q1 - 0.64) + 49 (q2 - 0.64)) / 2500
    assert auc_standard_error(0.8, 50, 50) == pytest.approx(0.044502, abs=1e-6)


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
