"""Display helpers of report.qmd: titanic.report.display."""

from types import SimpleNamespace

import pandas as pd
from matplotlib.figure import Figure

from titanic.findings import PredictionFindings
from titanic.report import display as report
from titanic.uncertainty import Comparison, GroupRate


def test_markdown_table_formats_aligns_and_escapes():
    frame = pd.DataFrame({"name": ["a|b", None], "share": [0.25, float("nan")], "n": [3, 1200]})
    text = report.markdown_table(frame, {"share": "{:.0%}"})._repr_markdown_()
    lines = text.splitlines()
    assert lines[0] == "| name | share | n |"
    assert lines[1] == "|:------|-------:|-------:|"  # dashes: each column's width
    assert lines[2] == r"| a\|b | 25% | 3 |"
    assert lines[3] == "| - | - | 1,200 |"


def test_markdown_table_widths_follow_the_content_and_never_split_a_word():
    frame = pd.DataFrame(
        {
            "PassengerId": [566, 161],
            "Name": ["Davies, Mr. Alfred J", 'Leeni, Mr. Fahim ("Philip Zenni")'],
            "Sex": ["male", "male"],
            "note": ["x " * 60, "short"],
        }
    )
    separator = report.markdown_table(frame).text.splitlines()[1]
    dashes = dict(zip(frame.columns, map(len, separator.strip("|").split("|")), strict=True))
    assert dashes["PassengerId"] >= len("PassengerId")  # the header is one word: never split
    assert dashes["Name"] > 2 * dashes["Sex"]  # long names get more room than "male"
    # One long text does not take all the width.
    assert dashes["note"] <= report.MAX_COLUMN_WIDTH + report.CELL_PADDING + 1


def test_a_sha256_is_grouped_so_that_it_wraps():
    digest = "7d118fef8b6ccf7f81111877bc38d5a5f1c68c8e6e73b0a5e0e41a8a4ec3e1b2"
    shown = report.wrappable_hash(digest)
    groups = shown.strip("`").split(" ")
    assert [len(group) for group in groups] == [16, 16, 16, 16]
    assert "".join(groups) == digest


def test_markdown_table_shows_the_index_when_asked():
    frame = pd.DataFrame({"value": [1.0]}, index=pd.Index(["x"], name="feature"))
    assert report.markdown_table(frame, index=True).text.splitlines()[2] == "| x | 1.000 |"


def test_show_returns_a_png_display_object():
    figure = Figure(figsize=(1, 1))
    figure.add_subplot().plot([0, 1], [0, 1])
    shown = report.show(figure, "a line")
    assert shown._repr_png_().startswith(b"\x89PNG")
    assert repr(shown) == "<a line>"


def test_columns_table_counts_missing_values(passengers):
    text = report.columns_table(passengers).text
    age = next(line for line in text.splitlines() if line.startswith("| Age "))
    missing = int(passengers["Age"].isna().sum())
    assert f"| {missing} | {missing / len(passengers):.1%} |" in age


def test_survival_summary_rates_match_the_data(passengers):
    text = report.survival_summary(report.with_family_size(passengers), ["Sex"]).text
    female = passengers[passengers["Sex"] == "female"]
    assert f"| Sex | female | {len(female)} | {female['Survived'].mean():.1%} |" in text


def test_prediction_rates_table_sets_each_predicted_share_beside_the_training_rate():
    found = PredictionFindings(
        Comparison(GroupRate("predicted", 4, 1), GroupRate("training", 10, 4)),
        (
            Comparison(GroupRate("women", 1, 1), GroupRate("women", 4, 3)),
            Comparison(GroupRate("men", 3, 0), GroupRate("men", 6, 1)),
        ),
    )
    text = report.prediction_rates_table(found).text
    assert "| all | 4 | 1 | 25.0% | 40.0% |" in text
    assert "| women | 1 | 1 | 100.0% | 75.0% |" in text
    assert "| men | 3 | 0 | 0.0% | 16.7% |" in text


def test_importance_sentence_names_the_top_columns_in_order():
    importance = pd.DataFrame(
        {
            "feature": ["Sex", "Name", "Age", "Fare"],
            "importance_mean": [0.1, 0.05, 0.01, -0.002],
            "importance_std": [0.01] * 4,
        }
    )
    sentence = report.importance_sentence(SimpleNamespace(importance=importance))
    assert sentence.startswith("Here the 3 most important columns are `Sex` (+0.100), `Name`")
    assert "and `Age` (+0.010)" in sentence and "Fare" not in sentence
