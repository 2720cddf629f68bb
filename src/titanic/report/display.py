"""Small display helpers that the cells of ``report.qmd`` call: settings, tables, figures, text.

The report holds no analysis logic: it calls :mod:`titanic.analysis` and friends, and these
helpers only shape what they return for display. Tables are Markdown pipe tables and figures
PNG images, the two kinds of output that Quarto (HTML and Typst) and nbconvert all understand.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

# report_settings: the report's first cell calls show.report_settings; it lives in config (no
# pandas), beside the parameter layers that the CLI and the sweep validate with.
from titanic.config import (  # pylint: disable=unused-import
    FEATURE_REGISTRY,
    Settings,
    dump_settings,
    report_settings,  # noqa: F401
)
from titanic.findings import (
    DataFindings,
    ModelFindings,
    PredictionFindings,
    Tuning,
    data_findings,
    model_findings,
    prediction_findings,
    tuning_overlap,
)

# report.qmd quotes the seed model's size as show.SEED_TREES.
from titanic.modeling.baselines import SEED_TREES  # noqa: F401  # pylint: disable=unused-import
from titanic.provenance import git_state, package_versions, utc_timestamp
from titanic.report import narrative
from titanic.schema.columns import ID_COLUMN, TARGET

if TYPE_CHECKING:
    # Types only: importing this module should not pay for scikit-learn and matplotlib.
    from matplotlib.figure import Figure

    from titanic.analysis import Analysis
    from titanic.dataset import Dataset

# Widest column of a table, in characters, before its text wraps; each cell's padding.
MAX_COLUMN_WIDTH = 30
CELL_PADDING = 2
Formatter = Callable[[Any], str]


@dataclass(frozen=True)
class Markdown:
    """Markdown text shown as rendered text by Jupyter, Quarto and nbconvert."""

    text: str

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


@dataclass(frozen=True)
class PngFigure:
    """A matplotlib figure as a PNG display object (no pyplot, no global state)."""

    png: bytes
    description: str = "figure"

    def _repr_png_(self) -> bytes:
        return self.png

    def __repr__(self) -> str:
        return f"<{self.description}>"


def show(chart: Figure, description: str = "figure") -> PngFigure:
    """Return a figure as a PNG display object, without timestamps in its metadata."""
    from titanic.plots import png_bytes  # pylint: disable=import-outside-toplevel

    return PngFigure(png_bytes(chart), description)


def _escape_cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def _default_format(value: Any) -> str:
    if value is None or (not isinstance(value, str | Sequence) and pd.isna(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _column_width(texts: Sequence[str]) -> int:
    """Return a column's width in dashes: its longest text, capped, never a split word, padded."""
    plain = [text.replace("`", "").replace("**", "") for text in texts]
    longest_word = max((len(word) for text in plain for word in text.split()), default=0)
    natural = max(3, longest_word, min(max(map(len, plain), default=0), MAX_COLUMN_WIDTH))
    return natural + CELL_PADDING


def markdown_table(
    frame: pd.DataFrame,
    formats: Mapping[str, str | Formatter] | None = None,
    index: bool = False,
) -> Markdown:
    """Format a frame as a Markdown pipe table, numbers right-aligned.

    The dashes of the separator line give each column a width that follows its content
    (:func:`_column_width`): pandoc reads them as relative widths when the table is wider than
    a line (Typst PDF), so that long names get room and short codes do not.

    Parameters
    ----------
    frame : DataFrame
        The rows to show.
    formats : mapping, optional
        Per column, a format spec (``"{:.1%}"``) or a function returning the cell text.
    index : bool
        Whether to show the index as the first column.
    """
    table = frame.reset_index() if index else frame
    formats = dict(formats or {})
    header = [_escape_cell(str(column)) for column in table.columns]
    numeric = [pd.api.types.is_numeric_dtype(dtype) for dtype in table.dtypes]
    rows = []
    for row in table.itertuples(index=False):
        cells = []
        for column, value in zip(table.columns, row, strict=True):
            spec = formats.get(column)
            if callable(spec):
                text = spec(value)
            elif spec is not None and not pd.isna(value):
                text = spec.format(value)
            else:
                text = _default_format(value)
            cells.append(_escape_cell(text))
        rows.append(cells)
    widths = [_column_width([name, *column]) for name, *column in zip(header, *rows, strict=True)]
    separator = "|".join(
        "-" * width + ":" if is_number else ":" + "-" * width
        for width, is_number in zip(widths, numeric, strict=True)
    )
    lines = ["| " + " | ".join(header) + " |", f"|{separator}|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return Markdown("\n".join(lines) + "\n")


def wrappable_hash(digest: str, group: int = 16) -> str:
    """Return a hash as inline code in groups of ``group`` characters, so that it can wrap."""
    return "`" + " ".join(digest[i : i + group] for i in range(0, len(digest), group)) + "`"


def data_files_table(dataset: Dataset) -> Markdown:
    """Return one row per data file: role, address, rows, columns, sha256."""
    rows = [
        {
            "file": file.role,
            "address": file.url,
            "rows": file.rows,
            "columns": file.columns,
            "sha256": wrappable_hash(file.sha256),
        }
        for file in dataset.files
    ]
    return markdown_table(pd.DataFrame(rows))


def columns_table(frame: pd.DataFrame) -> Markdown:
    """Return, per column of a frame, its dtype, distinct values, missing count and share."""
    missing = frame.isna().sum()
    overview = pd.DataFrame(
        {
            "column": frame.columns,
            "dtype": [str(dtype) for dtype in frame.dtypes],
            "distinct values": frame.nunique().to_numpy(),
            "missing": missing.to_numpy(),
            "missing share": (missing / len(frame)).to_numpy(),
        }
    )
    return markdown_table(overview, {"missing share": "{:.1%}"})


def with_family_size(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with ``family_size`` (SibSp + Parch + 1), as the model's feature counts it."""
    return frame.assign(family_size=frame["SibSp"] + frame["Parch"] + 1)


def survival_summary(frame: pd.DataFrame, columns: Sequence[str]) -> Markdown:
    """Return survival rate and passengers per value of each column, in one table."""
    parts = []
    for column in columns:
        grouped = frame.groupby(column, observed=True)[TARGET].agg(["size", "mean"])
        parts.append(
            pd.DataFrame(
                {
                    "variable": column,
                    "value": [str(value) for value in grouped.index],
                    "passengers": grouped["size"].to_numpy(),
                    "survival rate": grouped["mean"].to_numpy(),
                }
            )
        )
    return markdown_table(pd.concat(parts, ignore_index=True), {"survival rate": "{:.1%}"})


def before_after(analysis: Analysis, rows: int = 3) -> tuple[Markdown, Markdown]:
    """Return the first validation passengers raw, then as the fitted pipeline sees them.

    Returns
    -------
    tuple of Markdown
        The raw rows, and the engineered features transposed (one row per feature).
    """
    # Imported on use, for the reason given at the top of the module.
    from titanic.features import engineered_sample  # pylint: disable=import-outside-toplevel

    raw = analysis.split.x_validation.head(rows)
    engineered = engineered_sample(analysis.model, raw)
    passengers = [f"passenger {identifier}" for identifier in raw[ID_COLUMN]]
    after = engineered.T.set_axis(passengers, axis=1).rename_axis("feature").astype(float)
    raw_table = markdown_table(raw, {"Age": "{:.0f}", "Fare": "{:.2f}"})
    return raw_table, markdown_table(after, dict.fromkeys(passengers, "{:.2f}"), index=True)


def model_parameters_table(settings: Settings) -> Markdown:
    """Return the forest's hyper-parameters and the split, one row per parameter."""
    rows = [{"parameter": f"model.{key}", "value": value} for key, value in settings.model]
    rows += [{"parameter": f"split.{key}", "value": value} for key, value in settings.split]
    rows.append({"parameter": "random_state", "value": settings.random_state})
    shown = [{**row, "value": _yaml_value(row["value"])} for row in rows]
    return markdown_table(pd.DataFrame(shown))


def _yaml_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def metrics_table(analysis: Analysis) -> Markdown:
    """Return held-out metrics beside the cross-validated mean and standard deviation."""
    cross_validation = analysis.summary()["cross_validation"]
    rows = [
        {
            "metric": name,
            "held-out rows": value,
            "cross-validation mean": cross_validation[name]["mean"],
            "cross-validation std": cross_validation[name]["std"],
        }
        for name, value in analysis.metrics.items()
    ]
    return markdown_table(pd.DataFrame(rows))


def feature_groups_table(settings: Settings) -> Markdown:
    """Return every feature group of the registry: what it reads and makes, why, whether used."""
    rows = [
        {
            "group": group.name,
            "reads": ", ".join(group.columns),
            "feature(s)": group.features.replace("`", ""),
            "why it may help": group.why,
            "used": "yes" if group.name in settings.features.include else "no",
        }
        for group in FEATURE_REGISTRY
    ]
    return markdown_table(pd.DataFrame(rows))


MODEL_ROW = "this model"


def accuracy_per_fold(analysis: Analysis) -> pd.DataFrame:
    """Return the baselines' accuracy per fold beside the model's (the same folds)."""
    return analysis.baselines.folds.assign(**{MODEL_ROW: analysis.cv_scores["accuracy"]})


def baselines_table(analysis: Analysis) -> Markdown:
    """Return the held-out and cross-validated accuracy of every baseline and of the model."""
    folds = accuracy_per_fold(analysis)
    held_out = analysis.baselines.validation | {MODEL_ROW: analysis.metrics["accuracy"]}
    rows = [
        {
            "predictor": name,
            "held-out accuracy": held_out[name],
            "cross-validation mean": folds[name].mean(),
            "cross-validation std": folds[name].std(ddof=1),
        }
        for name in folds.columns
    ]
    return markdown_table(pd.DataFrame(rows), dict.fromkeys(list(rows[0])[1:], "{:.1%}"))


HELD_OUT_CHOICE = {
    "same rows": "tuned on every row of this train.csv, these held-out rows included: optimistic",
    "other data": "tuned on Kaggle's train.csv, not on these rows",
    "other parameters": "set by this run's parameters, not tuned on these rows",
}


def estimates_table(analysis: Analysis, tuning: Tuning) -> Markdown:
    """Return the held-out, plain cross-validated and nested accuracy, with their spread.

    ``tuning`` (:func:`titanic.findings.tuning_overlap`) says whether the held-out rows helped
    choose the hyper-parameters, which the held-out row states plainly.
    """
    cv = analysis.cv_scores["accuracy"]
    rows = [
        {"estimate": "held-out split", "accuracy": analysis.metrics["accuracy"], "std": "",
         "choice of hyper-parameters": HELD_OUT_CHOICE[tuning]},
        {"estimate": "plain cross-validation", "accuracy": cv.mean(),
         "std": f"{cv.std(ddof=1):.1%}", "choice of hyper-parameters": "fixed in params.yaml"},
    ]  # fmt: skip
    if analysis.nested is not None:
        grid = ", ".join(f"{key} in {values}" for key, values in analysis.selection.grid.items())
        rows.append(
            {"estimate": "nested cross-validation", "accuracy": analysis.nested.mean,
             "std": f"{analysis.nested.std:.1%}",
             "choice of hyper-parameters": f"inner folds choose {grid}"}
        )  # fmt: skip
    return markdown_table(pd.DataFrame(rows), {"accuracy": "{:.1%}"})


def nested_sentence(analysis: Analysis) -> Markdown:
    """Return how nested cross-validation chose and scored, or say that it was skipped."""
    if analysis.nested is None:
        return Markdown(
            "Nested cross-validation was switched off (`selection.enabled: false`): the"
            " plain cross-validated accuracy stands in for it, slightly optimistic."
        )
    chosen = [
        ", ".join(f"{key.split('__')[-1]} {value}" for key, value in choice.items())
        for choice in analysis.nested.chosen
    ]
    folds, inner = len(analysis.nested.scores), analysis.selection.inner_folds
    return Markdown(
        f"Nested cross-validation scored {analysis.nested.mean:.1%} (standard deviation"
        f" {analysis.nested.std:.1%} across {folds} outer folds). In each outer"
        f" fold, {inner} inner folds of its training part chose the hyper-parameters"
        f" ({'; '.join(chosen)}), with forests of {analysis.selection.n_estimators} trees to keep"
        " the search cheap; the outer fold, which the choice never saw, scored it."
    )


def importance_sentence(analysis: Analysis, count: int = 3) -> str:
    """Return a sentence naming the most important raw columns, with the accuracy drop of each."""
    top = analysis.importance.head(count)
    named = [
        f"`{row.feature}` ({row.importance_mean:+.3f})" for row in top.itertuples(index=False)
    ]
    return (
        f"Here the {len(named)} most important columns are {narrative.joined(named)}"
        " (mean drop in held-out accuracy when shuffled)."
        if len(named) > 1
        else f"Here the most important column is {named[0]}."
    )


def prediction_sample(predictions: pd.DataFrame, test: pd.DataFrame, rows: int = 8) -> Markdown:
    """Return the first test passengers with their predicted outcome and probability."""
    sample = (
        test[[ID_COLUMN, "Name", "Sex", "Age", "Pclass"]]
        .merge(predictions, on=ID_COLUMN)
        .head(rows)
    )
    return markdown_table(sample, {"probability": "{:.2f}", "Age": "{:.0f}"})


@dataclass
class Clock:
    """When the report started, for the render date and duration of the appendix."""

    started: float = field(default_factory=time.perf_counter)
    timestamp: str = field(default_factory=utc_timestamp)

    def elapsed(self) -> float:
        """Return the seconds since the report started."""
        return time.perf_counter() - self.started


def reproducibility_tables(
    settings: Settings, dataset: Dataset, clock: Clock, root: Path
) -> tuple[Markdown, Markdown]:
    """Return what produced the report: run facts (git, data, time), then versions."""
    git = git_state(root)
    facts = {
        "data source": dataset.source,
        **{f"sha256 of {file.role}": wrappable_hash(file.sha256) for file in dataset.files},
        "git commit": f"`{git['commit']}`" if git["commit"] else "not a git checkout",
        "uncommitted changes": {True: "yes", False: "no", None: "unknown"}[git["dirty"]],
        "platform": platform.platform(),
        "rendered at (UTC)": clock.timestamp,
        "analysis duration": f"{clock.elapsed():.1f} s",
        "output folder": settings.output_dir,
    }
    versions = {name: version or "not installed" for name, version in package_versions().items()}
    return (
        markdown_table(pd.DataFrame({"fact": list(facts), "value": list(facts.values())})),
        markdown_table(
            pd.DataFrame({"package": list(versions), "version": list(versions.values())})
        ),
    )


def parameters_block(settings: Settings) -> Markdown:
    """Return the resolved parameters as a YAML code block."""
    return Markdown(f"```yaml\n{dump_settings(settings)}```\n")


@dataclass(frozen=True)
class Words:  # pylint: disable=too-many-instance-attributes  # one field per sentence shown
    """Every computed sentence of the report, as Markdown for Quarto's inline expressions."""

    data: DataFindings
    model: ModelFindings
    summary: Markdown
    data_intro: Markdown
    missing: Markdown
    sex: Markdown
    classes: Markdown
    age: Markdown
    fare: Markdown
    family: Markdown
    port: Markdown
    correlation: Markdown
    majority_outcome: Markdown
    errors: Markdown
    roc: Markdown
    gain: Markdown
    estimates: Markdown
    tuning: Markdown
    expected: Markdown
    interval: Markdown
    importance: Markdown
    conclusion: Markdown
    limitations: Markdown
    figures: Mapping[str, narrative.Figure]
    summary_document: narrative.SummaryDocument


def report_words(title: str, settings: Settings, dataset: Dataset, analysis: Analysis) -> Words:
    """Judge this run's data and model (:mod:`titanic.findings`) and word the findings."""
    train_sha256 = next(file.sha256 for file in dataset.files if file.role == "train")
    data = data_findings(dataset.train, len(dataset.test), settings.evaluation.child_age)
    model = model_findings(
        analysis.summary(),
        int(analysis.split.y_train.mode().iloc[0]),
        len(dataset.test),
        tuning_overlap(settings.model.model_dump(), train_sha256),
    )
    summary = narrative.summary_document(title, data, model, dataset.source, dataset.files)
    fold_means = {
        str(name): float(mean) for name, mean in accuracy_per_fold(analysis).mean().items()
    }
    _, negligible = narrative.importance_sentences(model)
    return Words(
        data=data,
        model=model,
        summary=Markdown(
            f"*{summary['question']}*\n\n"
            + "\n".join(f"- {line}" for line in summary["headline"])
            + "\n- **Strongest patterns:** "
            + " ".join(summary["findings"])
        ),
        data_intro=Markdown(
            f"The data come from **{dataset.source}** (endpoint: `{dataset.endpoint}`):"
            f" {len(dataset.train):,} labelled passengers and {len(dataset.test):,} passengers"
            f" to predict. Overall, {narrative.percent(data.overall.rate)} of the labelled"
            " passengers survived."
        ),
        missing=Markdown(narrative.missing_sentence(dict(data.missing))),
        sex=Markdown(narrative.comparison_sentence(data.sex)),
        classes=Markdown(narrative.class_sentence(data)),
        age=Markdown(
            narrative.comparison_sentence(data.children)
            + f" {data.unknown_age} passengers have no recorded age and are left out of this"
            " comparison."
        ),
        fare=Markdown(
            f"The median fare is {data.median_fare:.2f}. "
            + narrative.comparison_sentence(data.fare)
        ),
        family=Markdown(narrative.ranking_sentences(data.family)),
        port=Markdown(narrative.port_sentence(data)),
        correlation=Markdown(
            narrative.correlation_sentence(data.survival_correlate, data.strongest_pair)
        ),
        majority_outcome=Markdown(narrative.OUTCOMES[model.majority_outcome]),
        errors=Markdown(narrative.errors_sentence(model.errors)),
        roc=Markdown(narrative.roc_sentence(model)),
        gain=Markdown(narrative.gain_sentence(model)),
        estimates=Markdown(narrative.estimates_sentence(model)),
        tuning=Markdown(narrative.tuning_sentence(model)),
        expected=Markdown(narrative.expected_sentence(model.expected)),
        interval=Markdown(narrative.interval_paragraph(model.expected)),
        importance=Markdown(negligible),
        conclusion=Markdown(narrative.conclusion(data, model)),
        limitations=Markdown(narrative.limitations(data, model)),
        figures={**narrative.data_figures(data), **narrative.model_figures(model, fold_means)},
        summary_document=summary,
    )


def figure(png: bytes | PngFigure, label: str, words: narrative.Figure) -> Markdown:
    """Return a figure as Quarto Markdown: the image, its computed caption and alt text."""
    from titanic.report.figures import figure_markdown  # pylint: disable=import-outside-toplevel

    data = png.png if isinstance(png, PngFigure) else png
    return Markdown(figure_markdown(data, label, words.caption, words.alt))


def predicted_against_training(predictions: pd.DataFrame, dataset: Dataset) -> PredictionFindings:
    """Compare the predicted survival of the test passengers with the training rates."""
    test = dataset.test.reset_index(drop=True)
    predicted = test[[ID_COLUMN]].merge(predictions, on=ID_COLUMN)[TARGET]
    return prediction_findings(predicted, test, dataset.train)


def prediction_words(found: PredictionFindings, test_passengers: int) -> Markdown:
    """Return the sentence comparing the predicted survival with the training rates."""
    return Markdown(narrative.prediction_sentence(found, test_passengers))


def prediction_rates_table(found: PredictionFindings) -> Markdown:
    """Return, for all test passengers and by sex, the predicted and the training survival."""
    rows = [
        {
            "passengers": name,
            "test passengers": comparison.first.passengers,
            "predicted to survive": comparison.first.survivors,
            "predicted share": comparison.first.rate,
            "training survival rate": comparison.second.rate,
        }
        for name, comparison in zip(
            ("all", "women", "men"), (found.overall, *found.by_sex), strict=True
        )
    ]
    shares = dict.fromkeys(("predicted share", "training survival rate"), "{:.1%}")
    return markdown_table(pd.DataFrame(rows), shares)
