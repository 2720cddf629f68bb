"""What this run's numbers say: survival rates compared with their noise, the model judged.

Every directional statement the report makes comes from here, never from text typed for one
data file; when a difference is within the noise (:mod:`titanic.uncertainty`), the report
says there is no clear difference instead of inventing a direction.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from titanic.metrics import MetricsSummary
from titanic.schema.columns import TARGET
from titanic.uncertainty import (
    Comparison,
    FoldGain,
    GroupRate,
    Interval,
    Verdict,
    Z,
    auc_standard_error,
    signed_verdict,
)

if TYPE_CHECKING:  # the frames come from the caller; pandas is needed for the types only
    import pandas as pd

NUMERIC_COLUMNS = ("Pclass", "Age", "SibSp", "Parch", "Fare", "family_size")
# Display names of raw values; any other value is shown as "<column> <value>".
GROUP_NAMES: Mapping[tuple[str, object], str] = {
    ("Sex", "female"): "women",
    ("Sex", "male"): "men",
    ("Pclass", 1): "first-class passengers",
    ("Pclass", 2): "second-class passengers",
    ("Pclass", 3): "third-class passengers",
    ("Embarked", "C"): "passengers who embarked at Cherbourg",
    ("Embarked", "Q"): "passengers who embarked at Queenstown",
    ("Embarked", "S"): "passengers who embarked at Southampton",
}
FAMILY_BANDS = ((1, 1, "passengers travelling alone"), (2, 4, "families of two to four"))
LARGE_FAMILY = "families of five or more"


def group_name(column: str, value: object) -> str:
    """Return how the report names the passengers whose ``column`` equals ``value``."""
    return GROUP_NAMES.get((column, value), f"passengers with {column} {value}")


def rate_of(name: str, outcomes: pd.Series) -> GroupRate:
    """Return the group rate of the outcomes (0/1) of one group of passengers."""
    return GroupRate(name, int(outcomes.count()), int(outcomes.sum()))


SEXES = ("female", "male")


def sex_rate(frame: pd.DataFrame, sex: str) -> GroupRate:
    """Return the survival rate of the passengers of one sex (``female`` or ``male``)."""
    return rate_of(group_name("Sex", sex), frame.loc[frame["Sex"] == sex, TARGET])


def rates_by(frame: pd.DataFrame, column: str) -> list[GroupRate]:
    """Return the survival rate of each value of ``column``, in the order of the values."""
    grouped = frame.groupby(column, observed=True, sort=True)[TARGET]
    return [rate_of(group_name(column, value), outcomes) for value, outcomes in grouped]


def family_rates(frame: pd.DataFrame) -> list[GroupRate]:
    """Return the rates of lone travellers, families of two to four and larger families."""
    size = frame["SibSp"] + frame["Parch"] + 1
    bands = [
        rate_of(name, frame.loc[size.between(low, high), TARGET])
        for low, high, name in FAMILY_BANDS
    ]
    return [*bands, rate_of(LARGE_FAMILY, frame.loc[size > FAMILY_BANDS[-1][1], TARGET])]


@dataclass(frozen=True)
class Ranking:
    """Groups from the highest survival rate to the lowest, the top one compared with each."""

    groups: tuple[GroupRate, ...]

    @property
    def top(self) -> GroupRate:
        """Return the group with the highest rate."""
        return self.groups[0]

    def against_top(self) -> list[Comparison]:
        """Return the top group compared with every other group."""
        return [Comparison(self.top, other) for other in self.groups[1:]]


def ranking(groups: Sequence[GroupRate]) -> Ranking:
    """Return the non-empty groups ranked by survival rate, highest first."""
    present = [group for group in groups if group.passengers]
    return Ranking(tuple(sorted(present, key=lambda group: -group.rate)))


Trend = Literal["rises", "falls", "mixed"]


def trend(ordered: Sequence[GroupRate]) -> Trend:
    """Say whether the rate clearly rises or falls at every step of ordered groups."""
    verdicts = {Comparison(a, b).verdict for a, b in itertools.pairwise(ordered)}
    if verdicts == {"more"}:
        return "falls"
    if verdicts == {"less"}:
        return "rises"
    return "mixed"


@dataclass(frozen=True)
class Correlation:
    """The Pearson correlation of two columns."""

    first: str
    second: str
    coefficient: float


def correlations(frame: pd.DataFrame) -> tuple[Correlation, Correlation]:
    """Return survival's strongest correlate, and the strongest pair of other numeric columns."""
    numeric = [column for column in NUMERIC_COLUMNS if column in frame]
    matrix = frame[[*numeric, TARGET]].astype(float).corr()
    with_survival = matrix[TARGET].drop(TARGET)
    strongest = str(with_survival.abs().idxmax())
    pairs = [
        Correlation(a, b, float(matrix[b].to_numpy()[index]))
        for index, a in enumerate(numeric)
        for b in numeric[index + 1 :]
        if {a, b} != {"SibSp", "family_size"} and {a, b} != {"Parch", "family_size"}
    ]
    strongest_pair = max(pairs, key=lambda pair: abs(pair.coefficient))
    return Correlation(strongest, TARGET, float(with_survival[strongest])), strongest_pair


@dataclass(frozen=True)
class DataFindings:  # pylint: disable=too-many-instance-attributes  # one per finding
    """The descriptive findings of the labelled passengers."""

    overall: GroupRate
    test_passengers: int
    sex: Comparison
    classes: tuple[GroupRate, ...]
    class_trend: Trend
    class_range: Comparison
    child_age: float
    children: Comparison
    unknown_age: int
    median_fare: float
    fare: Comparison
    family: Ranking
    ports: Ranking
    first_class_share: Mapping[str, float]
    missing: Mapping[str, float]
    survival_correlate: Correlation
    strongest_pair: Correlation


def data_findings(train: pd.DataFrame, test_passengers: int, child_age: float) -> DataFindings:
    """Compare the survival rates of the groups the report shows.

    Parameters
    ----------
    train : DataFrame
        The labelled passengers (the whole training file).
    test_passengers : int
        How many passengers the test file holds.
    child_age : float
        Below this age a passenger is a child (``evaluation.child_age``).
    """
    classes = rates_by(train, "Pclass")
    ranked_classes = ranking(classes)
    known_age = train[train["Age"].notna()]
    median_fare = float(train["Fare"].median())
    ports = ranking(rates_by(train, "Embarked"))
    first_class = train.groupby("Embarked", observed=True)["Pclass"].apply(
        lambda c: (c == 1).mean()
    )
    missing = train.isna().mean()
    survival_correlate, strongest_pair = correlations(
        train.assign(family_size=train["SibSp"] + train["Parch"] + 1)
    )
    return DataFindings(
        overall=rate_of("all labelled passengers", train[TARGET]),
        test_passengers=test_passengers,
        sex=Comparison(*(sex_rate(train, sex) for sex in SEXES)),
        classes=tuple(classes),
        class_trend=trend(classes),
        class_range=Comparison(ranked_classes.top, ranked_classes.groups[-1]),
        child_age=child_age,
        children=Comparison(
            rate_of(
                f"children under {child_age:g}",
                known_age.loc[known_age["Age"] < child_age, TARGET],
            ),
            rate_of("older passengers", known_age.loc[known_age["Age"] >= child_age, TARGET]),
        ),
        unknown_age=int(train["Age"].isna().sum()),
        median_fare=median_fare,
        fare=Comparison(
            rate_of(
                "passengers who paid more than the median fare",
                train.loc[train["Fare"] > median_fare, TARGET],
            ),
            rate_of("the others", train.loc[~(train["Fare"] > median_fare), TARGET]),
        ),
        family=ranking(family_rates(train)),
        ports=ports,
        first_class_share={
            group_name("Embarked", port): float(share) for port, share in first_class.items()
        },
        missing={
            str(column): float(share)
            for column, share in missing[missing > 0].sort_values(ascending=False).items()
        },
        survival_correlate=survival_correlate,
        strongest_pair=strongest_pair,
    )


def expected_accuracy(
    nested: tuple[float, float, int] | None,
    cross_validation: tuple[float, float, int],
    sample_size: int,
) -> Interval:
    """Return the interval for a new sample: from nested CV when it ran, else plain CV.

    Parameters
    ----------
    nested, cross_validation : tuple of (mean, std, folds)
        The accuracy across folds of each estimate (nested is None when switched off).
    sample_size : int
        The number of new passengers (the test file's rows).
    """
    if nested is not None:
        return Interval(*nested, sample_size, "nested cross-validation")
    return Interval(*cross_validation, sample_size, "cross-validation")


@dataclass(frozen=True)
class Errors:
    """The held-out confusion matrix: who was predicted right and wrong."""

    true_negatives: int
    false_positives: int
    false_negatives: int
    true_positives: int

    @property
    def correct(self) -> int:
        """Return the number of held-out passengers predicted right."""
        return self.true_negatives + self.true_positives

    @property
    def total(self) -> int:
        """Return the number of held-out passengers."""
        return (
            self.true_negatives + self.false_positives + self.false_negatives + self.true_positives
        )

    @property
    def verdict(self) -> Verdict:
        """Return ``"more"`` when clearly more survivors were missed than deaths were, etc.

        Under the hypothesis that both kinds of error are equally likely, their difference
        has a standard deviation of the square root of their sum.
        """
        missed, false_alarms = self.false_negatives, self.false_positives
        return signed_verdict(missed - false_alarms, Z * math.sqrt(missed + false_alarms))


def errors_of(matrix: Sequence[Sequence[int]]) -> Errors:
    """Return the errors of a 2x2 matrix, rows actual (died, survived), columns predicted."""
    (tn, fp), (fn, tp) = matrix
    return Errors(int(tn), int(fp), int(fn), int(tp))


@dataclass(frozen=True)
class ImportanceRanking:
    """The raw columns whose shuffling costs the most accuracy, and how concentrated that is."""

    ranked: tuple[tuple[str, float, float], ...]

    @property
    def leaders(self) -> tuple[str, ...]:
        """Return the fewest top columns that carry at least half the positive importance.

        Empty when no column's mean drop is clearly above zero (more than twice its std).
        """
        clear = [(name, mean) for name, mean, std in self.ranked if mean > 2 * std and mean > 0]
        total = sum(mean for _, mean, _ in self.ranked if mean > 0)
        leaders: list[str] = []
        carried = 0.0
        for name, mean in clear:
            if carried >= total / 2:
                break
            leaders.append(name)
            carried += mean
        return tuple(leaders) if carried >= total / 2 else ()

    @property
    def negligible(self) -> tuple[str, ...]:
        """Return the columns whose mean drop is within twice its std of zero."""
        return tuple(name for name, mean, std in self.ranked if abs(mean) <= 2 * std)


@dataclass(frozen=True)
class TunedDefaults:
    """Which rows chose params.yaml's tuned hyper-parameters (docs/model_selection.md)."""

    train_sha256: str
    parameters: Mapping[str, object]


# scripts/model_selection.py chose these by nested cross-validation on every row of Kaggle's
# train.csv (this sha256), the report's held-out rows included.
TUNED_DEFAULTS = TunedDefaults(
    train_sha256="7d118fef8b6ccf7f81111877bc388536f7b1e498a655e3d649d19aaa010e9f6f",
    parameters={"max_depth": 8, "min_samples_leaf": 1},
)
Tuning = Literal["same rows", "other data", "other parameters"]


def tuning_overlap(
    model_parameters: Mapping[str, object],
    train_sha256: str,
    tuned: TunedDefaults = TUNED_DEFAULTS,
) -> Tuning:
    """Say whether this run's tuned hyper-parameters were chosen on its own labelled rows."""
    if any(model_parameters.get(key) != value for key, value in tuned.parameters.items()):
        return "other parameters"
    return "same rows" if train_sha256 == tuned.train_sha256 else "other data"


@dataclass(frozen=True)
class ModelFindings:  # pylint: disable=too-many-instance-attributes  # one per finding
    """The model's scores, judged against chance, the rules and the noise."""

    accuracy: float
    roc_auc: float
    auc_error: float
    train_rows: int
    validation_rows: int
    cv_accuracy: tuple[float, float, int]
    errors: Errors
    majority_outcome: int
    majority_accuracy: float
    gain: FoldGain
    importance: ImportanceRanking
    expected: Interval
    tuning: Tuning


def model_findings(
    metrics: MetricsSummary,
    majority_outcome: int,
    test_passengers: int,
    tuning: Tuning,
) -> ModelFindings:
    """Judge the model from the ``metrics`` section of metrics.json (``Analysis.summary()``).

    Parameters
    ----------
    metrics : mapping
        The run's metrics summary.
    majority_outcome : int
        The more frequent outcome among the training rows (0 died, 1 survived).
    test_passengers : int
        The size of the new sample the expected accuracy is for.
    tuning : str
        What :func:`tuning_overlap` says of this run.
    """
    validation = metrics["validation"]
    cross_validation = metrics["cross_validation"]["accuracy"]
    folds = len(metrics["cross_validation_folds"]["accuracy"])
    errors = errors_of(metrics["confusion_matrix"]["rows_actual_columns_predicted"])
    baselines = {entry["name"]: entry for entry in metrics["baselines"]}
    gain = metrics["gain_over_best_rule"]
    nested = metrics["nested_cross_validation"]
    cv = (cross_validation["mean"], cross_validation["std"], folds)
    nested_estimate = (
        None
        if nested is None
        else (nested["accuracy"]["mean"], nested["accuracy"]["std"], len(nested["folds"]))
    )
    importance = metrics["permutation_importance"]
    return ModelFindings(
        accuracy=validation["accuracy"],
        roc_auc=validation["roc_auc"],
        auc_error=auc_standard_error(
            validation["roc_auc"],
            errors.true_positives + errors.false_negatives,
            errors.true_negatives + errors.false_positives,
        ),
        train_rows=metrics["rows"]["train"],
        validation_rows=metrics["rows"]["validation"],
        cv_accuracy=cv,
        errors=errors,
        majority_outcome=majority_outcome,
        majority_accuracy=baselines["majority class"]["validation_accuracy"],
        gain=FoldGain(gain["rule"], gain["mean"], gain["std"], folds),
        importance=ImportanceRanking(
            tuple(
                (entry["feature"], entry["importance_mean"], entry["importance_std"])
                for entry in importance
            )
        ),
        expected=expected_accuracy(nested_estimate, cv, test_passengers),
        tuning=tuning,
    )


@dataclass(frozen=True)
class PredictionFindings:
    """The predicted survival of the test passengers against the training rates."""

    overall: Comparison
    by_sex: tuple[Comparison, ...]


def prediction_findings(
    predicted: pd.Series, test: pd.DataFrame, train: pd.DataFrame
) -> PredictionFindings:
    """Compare the share predicted to survive with the training rate, overall and by sex.

    ``predicted`` holds the 0/1 predictions, aligned with ``test``'s rows.
    """
    outcomes = predicted.set_axis(test.index)
    by_sex = [
        Comparison(
            rate_of(f"{group_name('Sex', sex)} predicted", outcomes[test["Sex"] == sex]),
            sex_rate(train, sex),
        )
        for sex in SEXES
    ]
    return PredictionFindings(
        Comparison(rate_of("predicted", outcomes), rate_of("training", train[TARGET])),
        tuple(by_sex),
    )
