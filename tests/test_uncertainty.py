"""Noise: adjusted rates, clear differences, the interval for a new sample, fold gains.

Expected values are worked out by hand from the formulas in the module's docstrings.
"""

from __future__ import annotations

import math

import pytest

from titanic.uncertainty import Comparison, FoldGain, GroupRate, Interval, auc_standard_error


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


def test_hanley_mcneil_standard_error():
    # q1 = 0.8 / 1.2, q2 = 1.28 / 1.8; (0.16 + 49 (q1 - 0.64) + 49 (q2 - 0.64)) / 2500
    assert auc_standard_error(0.8, 50, 50) == pytest.approx(0.044502, abs=1e-6)
