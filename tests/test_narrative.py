"""The report's words: each sentence follows its finding's verdict and quotes its numbers."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from titanic.dataset import DataFile
from titanic.findings import (
    Errors,
    ImportanceRanking,
    ModelFindings,
    PredictionFindings,
    data_findings,
)
from titanic.report import narrative
from titanic.uncertainty import Comparison, FoldGain, GroupRate, Interval


def test_comparison_sentence_states_the_direction_with_both_rates():
    women, men = GroupRate("women", 100, 74), GroupRate("men", 100, 19)
    assert (
        narrative.comparison_sentence(Comparison(women, men))
        == "Women survived more often than men (74.0% against 19.0%)."
    )
    assert (
        narrative.comparison_sentence(Comparison(men, women))
        == "Men survived less often than women (19.0% against 74.0%)."
    )


def test_comparison_sentence_says_no_clear_difference_within_noise():
    sentence = narrative.comparison_sentence(
        Comparison(GroupRate("women", 50, 25), GroupRate("men", 50, 23))
    )
    assert sentence == (
        "There is no clear difference in survival between women and men (50.0% against 46.0%)."
    )


def kaggle_like(reverse_classes: bool = False) -> pd.DataFrame:
    """300 passengers whose survival falls with the class number (or rises, reversed)."""
    rates = {1: 0.6, 2: 0.4, 3: 0.2}
    rows = []
    for pclass, rate in rates.items():
        survivors = int(100 * rate)
        shown_class = 4 - pclass if reverse_classes else pclass
        for index in range(100):
            rows.append(
                {"Sex": "female" if index % 2 else "male", "Pclass": shown_class,
                 "Age": 30.0, "Fare": 10.0 * shown_class, "Embarked": "S", "SibSp": 0,
                 "Parch": 0, "Cabin": None, "Survived": int(index < survivors)}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_class_sentence_follows_the_data_either_way():
    falls = narrative.class_sentence(data_findings(kaggle_like(), 10, 13))
    rises = narrative.class_sentence(data_findings(kaggle_like(reverse_classes=True), 10, 13))
    assert falls.startswith("The better the ticket class, the higher the survival rate")
    assert rises.startswith("The better the ticket class, the lower the survival rate")
    assert "first-class passengers 60.0%" in falls and "first-class passengers 20.0%" in rises


def test_missing_sentence_lists_columns_largest_first():
    sentence = narrative.missing_sentence({"Cabin": 0.771, "Age": 0.199})
    assert sentence == (
        "Values are missing in 2 column(s): the cabin for 77.1% and the age for 19.9% of the"
        " passengers. The model has to cope with these gaps."
    )
    assert narrative.missing_sentence({}) == "No column of the training file has missing values."


def model(
    gain_mean: float = 0.05, errors: Errors | None = None, tuning="same rows"
) -> ModelFindings:
    return ModelFindings(
        accuracy=0.816,
        roc_auc=0.852,
        auc_error=0.03,
        train_rows=712,
        validation_rows=179,
        cv_accuracy=(0.83, 0.02, 5),
        errors=errors or Errors(95, 15, 20, 49),
        majority_outcome=0,
        majority_accuracy=0.615,
        gain=FoldGain("gender rule", gain_mean, 0.01, 5),
        importance=ImportanceRanking((("Name", 0.1, 0.01), ("Sex", 0.08, 0.01))),
        expected=Interval(0.8, 0.02, 4, 400, "nested cross-validation"),
        tuning=tuning,
    )


def test_gain_sentence_follows_the_verdict():
    assert narrative.gain_sentence(model(0.05)).startswith(
        "The model is clearly more accurate than the best one-line rule (gender rule): +5.0 points"
    )
    assert narrative.gain_sentence(model(-0.05)).startswith("The model is clearly less accurate")
    assert narrative.gain_sentence(model(0.001)).startswith("There is no clear difference")


def test_errors_sentence_counts_and_balance():
    sentence = narrative.errors_sentence(Errors(95, 15, 20, 49))
    assert "Of the 179 held-out passengers, 144 (80.4%) are predicted correctly." in sentence
    assert "the model finds 49 (71.0%)" in sentence
    assert "no clear imbalance" in sentence
    assert "misses survivors clearly more often" in narrative.errors_sentence(
        Errors(95, 5, 40, 39)
    )


def test_expected_sentence_and_interval_paragraph_quote_the_interval():
    interval = Interval(0.8, 0.02, 4, 400, "nested cross-validation")
    assert narrative.expected_sentence(interval) == (
        "**Accuracy to expect on 400 new passengers: 80.0%, between 75.6% and 84.4%** (95%"
        " interval, from nested cross-validation)."
    )
    paragraph = narrative.interval_paragraph(interval)
    assert "standard error of 1.0%" in paragraph and "standard deviation of 2.0%" in paragraph
    assert "the larger of the two is the noise of a sample that size" in paragraph


def test_tuning_sentence_says_plainly_when_the_rows_chose_the_defaults():
    assert "these held-out rows included" in narrative.tuning_sentence(model())
    assert "took no part" in narrative.tuning_sentence(model(tuning="other data"))
    assert "not the tuned defaults" in narrative.tuning_sentence(model(tuning="other parameters"))


def test_importance_caption_names_the_leaders():
    caption, detail = narrative.importance_sentences(model())
    assert caption == "`Name` alone carries at least half of what the model uses."
    assert detail == "Shuffling any column changes the held-out accuracy by more than the noise."


def test_strongest_patterns_pick_the_largest_clear_differences():
    found = data_findings(kaggle_like(), 10, 13)
    patterns = narrative.strongest_patterns(found)
    # class 1 against class 3 (60 % against 20 %) is the largest clear difference
    assert patterns[0] == (
        "First-class passengers survived more often than third-class passengers (60.0% against"
        " 20.0%)."
    )


def test_prediction_sentence_compares_with_the_training_rates():
    predictions = PredictionFindings(
        Comparison(GroupRate("predicted", 400, 160), GroupRate("training", 800, 320)),
        (
            Comparison(GroupRate("women", 150, 140), GroupRate("women", 300, 220)),
            Comparison(GroupRate("men", 250, 20), GroupRate("men", 500, 100)),
        ),
    )
    sentence = narrative.prediction_sentence(predictions, 400)
    assert sentence.startswith("The model predicts that 160 of the 400 test passengers survive:")
    assert "about the same share of passengers surviving" in sentence
    assert "a clearly higher share of women surviving" in sentence
    assert "a clearly lower share of men surviving" in sentence


def test_summary_document_holds_the_same_sentences_as_the_report():
    found = data_findings(kaggle_like(), 10, 13)
    files = [DataFile("train", "embedded://train.csv", "ab" * 32, 300, 12)]
    document = narrative.summary_document("Title", found, model(), "embedded", files)
    headline, patterns = narrative.summary_points(found, model(), "embedded")
    assert document["headline"] == headline and document["findings"] == patterns
    assert document["expected_accuracy"]["low"] == model().expected.low
    assert document["data"] == {
        "source": "embedded",
        "files": [
            {"role": "train", "url": "embedded://train.csv", "rows": 300, "sha256": "ab" * 32}
        ],
    }


def test_estimates_sentence_says_which_way_a_large_gap_goes():
    # plain 83.0 % (std 2.0) against nested 80.0 % (std 2.0): +3.0 points, beyond 2.0
    assert "flattered the plain estimate" in narrative.estimates_sentence(model())
    lower = replace(model(), cv_accuracy=(0.77, 0.02, 5))
    sentence = narrative.estimates_sentence(lower)
    assert "a gap of -3.0 points, larger than their spread across folds (2.0 points)" in sentence
    assert "flattered" not in sentence and "the other way round" in sentence
    close = replace(model(), cv_accuracy=(0.81, 0.02, 5))
    assert "so it says nothing either way" in narrative.estimates_sentence(close)
