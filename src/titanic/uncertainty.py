"""How sure a number is: rates and differences with their noise, intervals, fold-by-fold gains.

A difference is *clear* when it exceeds 1.96 standard errors (95 %, two-sided); otherwise a
verdict is ``"same"``. Rates use the Agresti-Caffo adjusted standard error (one success and one
failure added to each group), so that a small group whose observed rate is 0 or 1 does not look
certain. No pandas here: the sweep's comparison page judges its variants with these alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

LEVEL = 0.95
Z = NormalDist().inv_cdf(0.5 + LEVEL / 2)
Verdict = Literal["more", "less", "same"]


def signed_verdict(value: float, noise: float) -> Verdict:
    """Return ``"same"`` when ``value`` is within ``noise`` of zero, else its sign as a verdict."""
    if abs(value) <= noise:
        return "same"
    return "more" if value > 0 else "less"


@dataclass(frozen=True)
class GroupRate:
    """How many passengers of a group there are and how many survived."""

    name: str
    passengers: int
    survivors: int

    @property
    def rate(self) -> float:
        """Return the observed survival rate (0 for an empty group)."""
        return self.survivors / self.passengers if self.passengers else 0.0

    @property
    def variance(self) -> float:
        """Return the Agresti-Caffo variance of the rate."""
        adjusted = (self.survivors + 1) / (self.passengers + 2)
        return adjusted * (1 - adjusted) / (self.passengers + 2)


@dataclass(frozen=True)
class Comparison:
    """Two groups' survival rates, and whether their difference exceeds the noise."""

    first: GroupRate
    second: GroupRate

    @property
    def difference(self) -> float:
        """Return the first rate minus the second."""
        return self.first.rate - self.second.rate

    @property
    def standard_error(self) -> float:
        """Return the standard error of the difference."""
        return math.sqrt(self.first.variance + self.second.variance)

    @property
    def verdict(self) -> Verdict:
        """Return ``"more"``/``"less"`` when the first clearly survived more/less, else same."""
        return signed_verdict(self.difference, Z * self.standard_error)


@dataclass(frozen=True)
class FoldGain:
    """The model's accuracy minus a rule's, across the same folds."""

    rule: str
    mean: float
    std: float
    folds: int

    @property
    def verdict(self) -> Verdict:
        """Return ``"more"`` when the model is clearly more accurate (a t-test across folds)."""
        if self.folds < 2 or self.std == 0:
            return signed_verdict(self.mean, 0.0)
        # The Student t quantile; scipy.special loads in a fraction of scipy.stats' time.
        from scipy.special import stdtrit  # pylint: disable=import-outside-toplevel

        critical = float(stdtrit(self.folds - 1, 0.5 + LEVEL / 2))
        return signed_verdict(self.mean, critical * self.std / math.sqrt(self.folds))


@dataclass(frozen=True)
class Interval:
    """The accuracy to expect on a new sample of ``sample_size`` passengers, with its range.

    The variance adds the uncertainty of the estimate itself (the spread of its folds over
    the square root of their number) and the binomial noise of scoring ``sample_size`` new
    passengers: ``estimate +/- z * sqrt(std**2 / folds + estimate * (1 - estimate) / n)``.
    """

    estimate: float
    std: float
    folds: int
    sample_size: int
    method: str

    @property
    def estimate_error(self) -> float:
        """Return the standard error of the estimate across its folds."""
        return self.std / math.sqrt(self.folds)

    @property
    def sampling_error(self) -> float:
        """Return the standard deviation of the accuracy on ``sample_size`` new passengers."""
        return math.sqrt(self.estimate * (1 - self.estimate) / self.sample_size)

    @property
    def half_width(self) -> float:
        """Return half the interval's width."""
        return Z * math.hypot(self.estimate_error, self.sampling_error)

    @property
    def low(self) -> float:
        """Return the interval's lower end, at least 0."""
        return max(0.0, self.estimate - self.half_width)

    @property
    def high(self) -> float:
        """Return the interval's upper end, at most 1."""
        return min(1.0, self.estimate + self.half_width)


def auc_standard_error(auc: float, positives: int, negatives: int) -> float:
    """Return the Hanley-McNeil standard error of a ROC AUC."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    return math.sqrt(max(variance, 0.0))
