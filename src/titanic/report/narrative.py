"""The report's words: sentences, captions and alt texts chosen from this run's findings.

Each function turns findings (:mod:`titanic.findings`) into Markdown. A sentence states a
direction only when the finding's verdict is clear, and says "no clear difference" otherwise;
every number in it is formatted from the run. ``report.qmd`` shows them through Quarto's inline
expressions, and :func:`summary_document` gives the same sentences to the published site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from titanic.findings import (
    Correlation,
    DataFindings,
    Errors,
    ModelFindings,
    PredictionFindings,
    Ranking,
)
from titanic.uncertainty import LEVEL, Comparison, Interval, Z, signed_verdict

if TYPE_CHECKING:
    from titanic.dataset import DataFile

OUTCOMES = {0: "death", 1: "survival"}
COLUMN_NAMES = {
    "Pclass": "the ticket class",
    "Age": "the age",
    "SibSp": "the number of siblings and spouses aboard",
    "Parch": "the number of parents and children aboard",
    "Fare": "the fare",
    "family_size": "the family size",
    "Survived": "survival",
    "Cabin": "the cabin",
    "Embarked": "the port of embarkation",
}
NOISE_RULE = (
    f"Each sentence above states a difference only when it exceeds {Z:.2f} standard errors of"
    f" the difference (a {LEVEL:.0%} level); otherwise it says there is no clear difference."
)
QUESTION = (
    "Who survived the Titanic, and how well does a random forest predict it from what the"
    " passenger list says about each passenger?"
)


def column_name(column: str) -> str:
    """Return how the report names a column in a sentence."""
    return COLUMN_NAMES.get(column, column)


def percent(value: float) -> str:
    """Format a share as a percentage with one decimal."""
    return f"{value:.1%}"


def points(value: float) -> str:
    """Format a difference of shares in percentage points, with its sign."""
    return f"{100 * value:+.1f} points"


def joined(parts: Sequence[str]) -> str:
    """Return ``a``, ``a and b`` or ``a, b and c``."""
    return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)


def capitalised(text: str) -> str:
    """Return ``text`` with its first letter upper-case."""
    return text[:1].upper() + text[1:]


def comparison_sentence(comparison: Comparison) -> str:
    """Say whether the first group survived more or less often than the second, or neither."""
    first, second = comparison.first, comparison.second
    rates = f"({percent(first.rate)} against {percent(second.rate)})"
    if comparison.verdict == "same":
        return (
            f"There is no clear difference in survival between {first.name} and"
            f" {second.name} {rates}."
        )
    word = "more" if comparison.verdict == "more" else "less"
    return f"{capitalised(first.name)} survived {word} often than {second.name} {rates}."


def ranking_sentences(ranked: Ranking) -> str:
    """Compare the group with the highest rate with each other group, one sentence each."""
    return " ".join(comparison_sentence(comparison) for comparison in ranked.against_top())


def class_sentence(findings: DataFindings) -> str:
    """Describe how the survival rate moves with the ticket class."""
    rates = ", ".join(f"{group.name} {percent(group.rate)}" for group in findings.classes)
    if findings.class_trend == "falls":
        return f"The better the ticket class, the higher the survival rate: {rates}."
    if findings.class_trend == "rises":
        return f"The better the ticket class, the lower the survival rate: {rates}."
    return (
        f"The survival rate does not move steadily with the ticket class ({rates})."
        f" {comparison_sentence(findings.class_range)}"
    )


def missing_sentence(missing: dict[str, float] | None) -> str:
    """Say which columns have gaps, and how many, largest first."""
    if not missing:
        return "No column of the training file has missing values."
    parts = [f"{column_name(name)} for {percent(share)}" for name, share in missing.items()]
    return (
        f"Values are missing in {len(parts)} column(s): {joined(parts)} of the passengers."
        " The model has to cope with these gaps."
    )


def correlation_sentence(survival: Correlation, pair: Correlation) -> str:
    """Name survival's strongest correlate and the strongest pair of other columns."""
    sign = "positively" if survival.coefficient > 0 else "negatively"
    return (
        f"Among the numeric columns, survival correlates most with"
        f" {column_name(survival.first)} ({sign}, r = {survival.coefficient:+.2f});"
        f" the strongest correlation between two other columns is between"
        f" {column_name(pair.first)} and {column_name(pair.second)}"
        f" (r = {pair.coefficient:+.2f}). A better class has a smaller number (1 is first class),"
        " so a negative r with the class means more survival in better classes."
    )


def port_sentence(findings: DataFindings) -> str:
    """Compare the ports, then say which travelled first class most (not why they survived)."""
    shares = sorted(findings.first_class_share.items(), key=lambda item: -item[1])
    listed = ", ".join(f"{percent(share)} of {name}" for name, share in shares)
    top_share = shares[0][0] if shares else ""
    link = (
        " The port with the highest survival rate also sent the largest share of first-class"
        " passengers, so part of its advantage may come from the class."
        if top_share == findings.ports.top.name
        else ""
    )
    return f"{ranking_sentences(findings.ports)} First class: {listed}.{link}"


def dominant(comparisons: Sequence[Comparison], count: int = 2) -> list[Comparison]:
    """Return the clear comparisons with the largest differences, largest first."""
    clear = [comparison for comparison in comparisons if comparison.verdict != "same"]
    return sorted(clear, key=lambda comparison: -abs(comparison.difference))[:count]


def strongest_patterns(findings: DataFindings, count: int = 2) -> list[str]:
    """Return sentences for the clearest, largest differences in survival between groups."""
    candidates = [
        findings.sex,
        findings.class_range,
        findings.children,
        findings.fare,
        *findings.family.against_top()[-1:],
        *findings.ports.against_top()[-1:],
    ]
    chosen = dominant(candidates, count)
    if not chosen:
        return ["No difference in survival between the groups shown here exceeds the noise."]
    return [comparison_sentence(comparison) for comparison in chosen]


@dataclass(frozen=True)
class Figure:
    """A figure's caption (the finding) and alt text (what a reader who cannot see it misses)."""

    caption: str
    alt: str


def rates_alt(kind: str, groups: Sequence[tuple[str, float]], overall: float) -> str:
    """Describe a bar chart of survival rates for a reader who cannot see it."""
    bars = "; ".join(f"{name} {percent(rate)}" for name, rate in groups)
    return (
        f"Bar chart of the survival rate by {kind}: {bars}; a dashed line marks the overall"
        f" rate, {percent(overall)}."
    )


def data_figures(findings: DataFindings) -> dict[str, Figure]:
    """Return the captions and alt texts of the descriptive figures."""
    overall = findings.overall.rate
    sex = findings.sex
    children = findings.children
    family = [(group.name, group.rate) for group in findings.family.groups]
    ports = [(group.name, group.rate) for group in findings.ports.groups]
    correlation = findings.survival_correlate
    return {
        "sex": Figure(
            comparison_sentence(sex),
            rates_alt(
                "sex",
                [(sex.first.name, sex.first.rate), (sex.second.name, sex.second.rate)],
                overall,
            ),
        ),
        "class": Figure(
            class_sentence(findings),
            rates_alt(
                "ticket class", [(group.name, group.rate) for group in findings.classes], overall
            ),
        ),
        "age": Figure(
            comparison_sentence(children),
            "Overlaid histograms of age for passengers who died and who survived;"
            f" {children.first.name} survived at {percent(children.first.rate)},"
            f" {children.second.name} at {percent(children.second.rate)};"
            f" {findings.unknown_age} passengers have no recorded age.",
        ),
        "fare": Figure(
            comparison_sentence(findings.fare),
            "Overlaid histograms of the logarithm of the fare for passengers who died and who"
            f" survived; the median fare is {findings.median_fare:.2f};"
            f" {findings.fare.first.name} survived at {percent(findings.fare.first.rate)},"
            f" the others at {percent(findings.fare.second.rate)}.",
        ),
        "family": Figure(
            ranking_sentences(findings.family), rates_alt("family size aboard", family, overall)
        ),
        "port": Figure(
            ranking_sentences(findings.ports), rates_alt("port of embarkation", ports, overall)
        ),
        "correlation": Figure(
            f"Survival correlates most with {column_name(correlation.first)}"
            f" (r = {correlation.coefficient:+.2f}).",
            "Heatmap of the Pearson correlations between the numeric columns, with the"
            " coefficient in each cell. "
            + correlation_sentence(correlation, findings.strongest_pair),
        ),
    }


def errors_sentence(errors: Errors) -> str:
    """Interpret the confusion matrix: right and wrong, found survivors, kinds of error."""
    correct = errors.correct
    survivors = errors.true_positives + errors.false_negatives
    predicted = errors.true_positives + errors.false_positives
    balance = {
        "more": "the model misses survivors clearly more often than it wrongly predicts survival",
        "less": "the model wrongly predicts survival clearly more often than it misses survivors",
        "same": "there is no clear imbalance between the two kinds of error",
    }[errors.verdict]
    found = (
        f"{errors.true_positives} ({percent(errors.true_positives / survivors)})"
        if survivors
        else "none"
    )
    right = (
        f"{errors.true_positives} ({percent(errors.true_positives / predicted)})"
        if predicted
        else "none"
    )
    return (
        f"Of the {errors.total} held-out passengers, {correct} ({percent(correct / errors.total)})"
        f" are predicted correctly. Of the {survivors} who survived, the model finds {found};"
        f" of the {predicted} it predicts to survive, {right} did. Its"
        f" {errors.false_negatives + errors.false_positives} errors are"
        f" {errors.false_negatives} missed survivors and {errors.false_positives} false alarms:"
        f" {balance}."
    )


def roc_sentence(findings: ModelFindings) -> str:
    """Interpret the ROC AUC: its meaning as a ranking, and whether it beats chance."""
    low = findings.roc_auc - Z * findings.auc_error
    verdict = (
        "clearly better than the 0.5 of chance"
        if low > 0.5
        else "not clearly better than the 0.5 of chance"
    )
    return (
        f"The area under the ROC curve is {findings.roc_auc:.3f} (standard error"
        f" {findings.auc_error:.3f}): a survivor picked at random gets a higher predicted"
        f" probability than a victim picked at random in {percent(findings.roc_auc)} of pairs,"
        f" {verdict}."
    )


def gain_sentence(findings: ModelFindings) -> str:
    """Say whether the model beats the best one-line rule across the folds, with the spread."""
    gain = findings.gain
    spread = (
        f"{points(gain.mean)} on average over the same {gain.folds} folds (standard deviation"
        f" {100 * gain.std:.1f} points)"
    )
    rule = f"the best one-line rule ({gain.rule})"
    if gain.verdict == "same":
        return f"There is no clear difference in accuracy between the model and {rule}: {spread}."
    word = "more" if gain.verdict == "more" else "less"
    return f"The model is clearly {word} accurate than {rule}: {spread}."


def tuning_sentence(findings: ModelFindings) -> str:
    """Say plainly whether the held-out rows helped choose the hyper-parameters."""
    return {
        "same rows": (
            "`max_depth` and `min_samples_leaf` are the defaults that"
            " `scripts/model_selection.py` chose by cross-validation on every row of this"
            " `train.csv`, these held-out rows included (`docs/model_selection.md`): the"
            " held-out score is therefore optimistic."
        ),
        "other data": (
            "The tuned hyper-parameters were chosen on Kaggle's `train.csv`, not on this"
            " passenger list: the held-out rows took no part in choosing them."
        ),
        "other parameters": (
            "This run's `max_depth` and `min_samples_leaf` are not the tuned defaults: they come"
            " from its parameters, not from a search on these rows."
        ),
    }[findings.tuning]


def expected_sentence(interval: Interval) -> str:
    """State the accuracy to expect on a new sample of the test file's size, as an interval."""
    return (
        f"**Accuracy to expect on {interval.sample_size} new passengers:"
        f" {percent(interval.estimate)},"
        f" between {percent(interval.low)} and {percent(interval.high)}** ({LEVEL:.0%} interval,"
        f" from {interval.method})."
    )


def interval_paragraph(interval: Interval) -> str:
    """Explain the interval: the estimate's own spread, and the noise of a sample that size."""
    larger = (
        "the noise of a sample that size"
        if interval.sampling_error >= interval.estimate_error
        else "the estimate's own uncertainty"
    )
    optimistic = (
        ""
        if interval.method == "nested cross-validation"
        else " Plain cross-validation scores hyper-parameters it did not choose, so the interval"
        " may sit slightly high."
    )
    return (
        f"The interval adds two sources of noise. The estimate itself varies across its"
        f" {interval.folds} folds (standard deviation {percent(interval.std)}), so its mean is"
        f" known to within a standard error of {percent(interval.estimate_error)}. And even a"
        f" perfectly known accuracy varies from one sample of {interval.sample_size} passengers"
        f" to the next, with a standard deviation of {percent(interval.sampling_error)}."
        f" Here the larger of the two is {larger}; together they give ±"
        f"{100 * interval.half_width:.1f} points.{optimistic} The folds overlap in their training"
        " rows, so their spread understates the estimate's uncertainty a little."
    )


def importance_sentences(findings: ModelFindings) -> tuple[str, str]:
    """Return the importance finding as a caption, and a sentence on the negligible columns."""
    ranking = findings.importance
    leaders = [f"`{name}`" for name in ranking.leaders]
    if len(leaders) == 1:
        caption = f"{leaders[0]} alone carries at least half of what the model uses."
    elif leaders:
        caption = f"{joined(leaders)} carry most of what the model uses."
    else:
        caption = "No small set of columns carries most of what the model uses."
    negligible = [f"`{name}`" for name in ranking.negligible]
    detail = (
        f"Shuffling {', '.join(negligible)} changes the held-out accuracy by less than twice"
        " its spread across repeats: within noise."
        if negligible
        else "Shuffling any column changes the held-out accuracy by more than the noise."
    )
    return caption, detail


def prediction_sentence(predictions: PredictionFindings, test_passengers: int) -> str:
    """Compare the predicted survival of the test passengers with the training rates."""

    def versus(comparison: Comparison, who: str) -> str:
        word = {
            "more": "a clearly higher share of {} surviving than",
            "less": "a clearly lower share of {} surviving than",
            "same": "about the same share of {} surviving as",
        }[comparison.verdict].format(who)
        return (
            f"{word} the training file"
            f" ({percent(comparison.first.rate)} predicted against"
            f" {percent(comparison.second.rate)} observed)"
        )

    overall = predictions.overall
    women, men = predictions.by_sex
    return (
        f"The model predicts that {overall.first.survivors} of the {test_passengers} test"
        f" passengers survive: {versus(overall, 'passengers')}. By sex, it predicts"
        f" {versus(women, 'women')}, and {versus(men, 'men')}."
    )


def summary_points(
    data: DataFindings, model: ModelFindings, source: str
) -> tuple[list[str], list[str]]:
    """Return the headline sentences (data, model, expectation) and the strongest patterns."""
    headline = [
        f"**Data:** {data.overall.passengers:,} labelled passengers from {source}, of whom"
        f" {percent(data.overall.rate)} survived, and {data.test_passengers:,} to predict.",
        f"**Model:** a random forest predicts {percent(model.accuracy)} of"
        f" {model.validation_rows} held-out passengers correctly (ROC AUC {model.roc_auc:.3f}),"
        f" against {percent(model.majority_accuracy)} for always predicting"
        f" {OUTCOMES[model.majority_outcome]}. {gain_sentence(model)}",
        expected_sentence(model.expected),
    ]
    return headline, strongest_patterns(data)


def conclusion(data: DataFindings, model: ModelFindings) -> str:
    """Return the closing paragraph: what was found, and how sure it is."""
    patterns = " ".join(strongest_patterns(data))
    return (
        f"{patterns} {gain_sentence(model)} On a new sample of {model.expected.sample_size}"
        f" passengers, expect an accuracy between {percent(model.expected.low)} and"
        f" {percent(model.expected.high)}."
    )


def limitations(data: DataFindings, model: ModelFindings) -> str:
    """Return what the data cannot tell, the size of the noise, and what would change it."""
    folds_std = model.cv_accuracy[1]
    return (
        "The passenger list records who survived, not why: the differences above are"
        " associations, and every passenger belongs to a sex, a class, a port and a family at"
        " once, so no single one of them can be read as a cause. As for the noise, the"
        f" accuracy of one split moves by about {100 * folds_std:.1f} points from fold to fold,"
        " the interval"
        f" spans {100 * (model.expected.high - model.expected.low):.1f} points, and a group"
        " rate rests on its group's size (the smallest family group shown has"
        f" {min(group.passengers for group in data.family.groups)} passengers). Another"
        " passenger list, other features or another seed would change these numbers; the"
        " report says so by being re-run, not by being edited."
    )


class SummaryDocument(TypedDict):
    """summary.json: the report's opening summary, as the published site reads it."""

    title: str
    question: str
    headline: list[str]
    expected_accuracy: dict[str, Any]
    findings: list[str]
    data: dict[str, Any]


def summary_document(
    title: str,
    data: DataFindings,
    model: ModelFindings,
    source: str,
    files: Sequence[DataFile],
) -> SummaryDocument:
    """Return summary.json: the report's opening summary, for the published site.

    Parameters
    ----------
    title : str
        The report's title.
    data, model : findings
        This run's findings.
    source : str
        Where the data came from.
    files : sequence of DataFile
        The data files read: role, URL, rows and sha256.
    """
    headline, patterns = summary_points(data, model, source)
    interval = model.expected
    return {
        "title": title,
        "question": QUESTION,
        "headline": headline,
        "expected_accuracy": {
            "estimate": interval.estimate,
            "low": interval.low,
            "high": interval.high,
            "level": LEVEL,
            "sample_size": interval.sample_size,
            "method": interval.method,
            "sentence": expected_sentence(interval),
        },
        "findings": patterns,
        "data": {
            "source": source,
            "files": [
                {"role": file.role, "url": file.url, "rows": file.rows, "sha256": file.sha256}
                for file in files
            ],
        },
    }


def model_figures(model: ModelFindings, fold_means: dict[str, float]) -> dict[str, Figure]:
    """Return the captions and alt texts of the evaluation figures.

    ``fold_means`` maps each baseline, and the model, to its mean accuracy across the folds.
    """
    errors = model.errors
    correct = errors.correct
    mean, std, folds = model.cv_accuracy
    importance_caption, _ = importance_sentences(model)
    top = ", ".join(f"{name} {mean:+.3f}" for name, mean, _ in model.importance.ranked[:3])
    best = max(fold_means, key=fold_means.__getitem__)
    means = "; ".join(f"{name} {percent(value)}" for name, value in fold_means.items())
    return {
        "confusion": Figure(
            f"{correct} of {errors.total} held-out passengers ({percent(correct / errors.total)})"
            f" are predicted correctly; {errors.false_negatives} survivors are missed and"
            f" {errors.false_positives} victims predicted to survive.",
            "Two-by-two heatmap of actual against predicted outcomes on the held-out"
            f" passengers: {errors.true_negatives} deaths and {errors.true_positives} survivals"
            f" predicted correctly, {errors.false_positives} false alarms and"
            f" {errors.false_negatives} missed survivors.",
        ),
        "roc": Figure(
            roc_sentence(model),
            f"ROC curve of the model on the held-out passengers, area {model.roc_auc:.3f},"
            " drawn against the diagonal of a random classifier.",
        ),
        "cv": Figure(
            f"Accuracy across the {folds} folds: mean {percent(mean)}, standard deviation"
            f" {100 * std:.1f} points; the spread shows how much one estimate depends on the"
            " split.",
            "Dot plot of each metric (accuracy, precision, recall, F1, ROC AUC) for every"
            f" cross-validation fold, with a bar at each mean; accuracy averages {percent(mean)}.",
        ),
        "baselines": Figure(
            f"Mean accuracy across the folds: {means}.",
            "Dot plot of the accuracy on each cross-validation fold for each baseline and the"
            f" model, with a bar at each mean: {means}; the highest mean is {best}'s.",
        ),
        "importance": Figure(
            importance_caption,
            "Horizontal bar chart of the mean drop in held-out accuracy when each raw column is"
            f" shuffled, with error bars of one standard deviation; the largest: {top}.",
        ),
    }


def estimates_sentence(model: ModelFindings) -> str:
    """Compare plain and nested cross-validation: whether their gap exceeds their spread."""
    interval, plain = model.expected, model.cv_accuracy
    if interval.method != "nested cross-validation":
        return ""
    gap = plain[0] - interval.estimate
    spread = max(plain[1], interval.std)
    verdict = {
        "more": "larger than their spread across folds ({} points), so choosing on the same"
        " rows flattered the plain estimate",
        "less": "larger than their spread across folds ({} points), the other way round: the"
        " procedure that chooses scored better than the fixed choice",
        "same": "within their spread across folds ({} points), so it says nothing either way",
    }[signed_verdict(gap, spread)].format(f"{100 * spread:.1f}")
    return (
        f"Plain cross-validation scores {percent(plain[0])} and nested cross-validation"
        f" {percent(interval.estimate)}: a gap of {points(gap)}, {verdict}. The held-out split"
        f" is a single sample of {model.validation_rows} passengers, and one such score moves"
        f" with the split by about the folds' standard deviation, {100 * plain[1]:.1f} points."
    )
