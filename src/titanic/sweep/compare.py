"""The sweep's comparison page (one self-contained HTML file) and its summary.csv.

The page is the Jinja template ``templates/comparison.html.j2`` (autoescaped), filled with
values computed here. It embeds its CSS, its sorting script and its figures (PNG ``data:``
URIs): it loads nothing from the network and can be mailed or published as it is. Rows are
plain dicts, and pandas and matplotlib are imported only to draw a figure whose data changed:
a fully cached sweep pays for neither.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from titanic.fingerprint import sha256_hex
from titanic.io.atomic import write_json, write_text
from titanic.metrics import (
    FLAT_METRIC_NAMES,
    METRIC_NAMES,
    MetricsDocument,
    flat_metrics,
    parse_document,
)
from titanic.project import (
    COMPARISON_FILENAME,
    COMPARISON_TABLE_FILENAME,
    METRICS_FILENAME,
    REPORT_HTML_FILENAME,
)
from titanic.provenance import utc_timestamp
from titanic.uncertainty import FoldGain, Z, signed_verdict

if TYPE_CHECKING:  # drawn only when a figure's data changed: a cached sweep never imports them
    from matplotlib.figure import Figure

Row = dict[str, Any]

TEMPLATE = "comparison.html.j2"
FIGURES_CACHE_FILENAME = ".figures-cache.json"
BEST_BY = "cv_accuracy_mean"
BEST_BY_TEXT = "the highest mean cross-validation accuracy"
PLOTTED = {
    "accuracy": "accuracy (held out)",
    "f1": "F1 (held out)",
    "roc_auc": "ROC AUC (held out)",
    "cv_accuracy_mean": "accuracy (CV mean ± std)",
}
LINE_COLOURS = ("#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#6d597a", "#355070")
MAX_LINES = len(LINE_COLOURS)
FIGURE_DPI = 110


@dataclass(frozen=True)
class ComparisonEntry:
    """One variant as the page shows it.

    Parameters
    ----------
    name : str
        The variant's name, also its folder under the variants folder.
    parameters : mapping
        The value of each swept dotted key for this variant.
    status : str
        ``done``, ``cached``, ``failed`` or ``skipped``.
    seconds : float, optional
        Run time of the render that produced the variant's outputs.
    error : str, optional
        One line, for a failed variant.
    """

    name: str
    parameters: Mapping[str, Any]
    status: str
    seconds: float | None = None
    error: str | None = None


def read_document(folder: Path) -> MetricsDocument | None:
    """Return a variant folder's metrics.json, ``None`` if absent or odd.

    A file that breaks the contract of :mod:`titanic.metrics` counts as odd.
    """
    try:
        return parse_document((folder / METRICS_FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_metrics(folder: Path) -> dict[str, float] | None:
    """Return the flat metrics of a variant folder's metrics.json, ``None`` if absent or odd.

    The keys are :data:`titanic.metrics.FLAT_METRIC_NAMES`.
    """
    document = read_document(folder)
    return None if document is None else flat_metrics(document["metrics"])


# Swept keys that change the folds themselves: variants then cannot be compared fold by fold.
FOLD_KEYS = ("split.", "data.", "random_state")


def margin_sentence(
    rows: Sequence[Row], folds: Mapping[str, Sequence[float]], keys: Sequence[str]
) -> str:
    """Say whether the best variant's lead over the runner-up exceeds the noise.

    On the same folds (nothing swept changes them) the lead is judged fold by fold, with a
    t-test of the paired differences; otherwise from the two means and their spread.
    """
    scored = sorted(
        (row for row in rows if isinstance(row[BEST_BY], float)), key=lambda row: -row[BEST_BY]
    )
    if len(scored) < 2:
        return ""
    best, runner = (folds.get(row["variant"]) or [] for row in scored[:2])
    name = scored[1]["variant"]
    paired = len(best) == len(runner) > 1 and not any(key.startswith(FOLD_KEYS) for key in keys)
    if paired:
        differences = [first - second for first, second in zip(best, runner, strict=True)]
        gain = FoldGain(
            name, statistics.fmean(differences), statistics.stdev(differences), len(best)
        )
        clear = gain.verdict == "more"
        numbers = (
            f"{100 * gain.mean:+.1f} points on average over the same {gain.folds} folds,"
            f" standard deviation {100 * gain.std:.1f}"
        )
    elif len(best) > 1 and len(runner) > 1:
        lead = scored[0][BEST_BY] - scored[1][BEST_BY]
        spread = math.hypot(*(statistics.stdev(f) / math.sqrt(len(f)) for f in (best, runner)))
        clear = signed_verdict(lead, Z * spread) == "more"
        numbers = f"{100 * lead:+.1f} points; the swept parameters change the folds"
    else:
        return ""
    if clear:
        return f"Its lead over the runner-up, {name}, is clear ({numbers})."
    return (
        f"The runner-up, {name}, is within noise of it ({numbers}): the sweep does not single"
        " out one variant."
    )


def _cell_value(value: Any) -> Any:
    if isinstance(value, list | tuple | dict):
        return json.dumps(value)
    return value


def summary_rows(
    folder: Path,
    entries: Sequence[ComparisonEntry],
    keys: Sequence[str],
    documents: Mapping[str, MetricsDocument | None],
) -> list[Row]:
    """Return one row per variant: status, run time, swept parameters, metrics, best flag.

    Metrics come from ``documents``, each variant's metrics.json by name; a failed variant has
    none, even if an older run left a file behind.
    """
    rows = []
    for entry in entries:
        document = None if entry.status == "failed" else documents.get(entry.name)
        metrics = None if document is None else flat_metrics(document["metrics"])
        row: dict[str, Any] = {
            "variant": entry.name,
            "status": entry.status,
            "cached": entry.status == "cached",
            "seconds": None if entry.seconds is None else round(entry.seconds, 2),
        }
        row.update({key: _cell_value(entry.parameters.get(key)) for key in keys})
        row.update({name: (metrics or {}).get(name) for name in FLAT_METRIC_NAMES})
        row["report"] = (
            f"{entry.name}/{REPORT_HTML_FILENAME}"
            if metrics is not None and (folder / entry.name / REPORT_HTML_FILENAME).is_file()
            else None
        )
        row["error"] = entry.error
        rows.append(row)
    scored = [row for row in rows if isinstance(row[BEST_BY], float)]
    best = max(scored, key=lambda row: row[BEST_BY]) if scored else None
    for row in rows:
        row["best"] = row is best
    return rows


def summary_csv(rows: Sequence[Row]) -> str:
    """Return the rows as CSV text: empty cells for missing values, booleans as True/False."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


def _png_data_uri(figure: Figure) -> str:
    from titanic.plots import png_bytes  # pylint: disable=import-outside-toplevel

    return "data:image/png;base64," + base64.b64encode(png_bytes(figure, FIGURE_DPI)).decode()


def _order(values: Sequence[Any]) -> list[Any]:
    """Distinct values, numbers ascending, then text, then null."""
    distinct = list(dict.fromkeys(values))

    def rank(value: Any) -> tuple[int, float, str]:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return (2, 0.0, "")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (0, float(value), "")
        return (1, 0.0, str(value))

    return sorted(distinct, key=rank)


def _text(value: Any) -> str | None:
    """Return a text cell's value, ``None`` when missing or empty."""
    return value if isinstance(value, str) and value else None


def _label(value: Any) -> str:
    return (
        "null" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    )


def parameter_figure(rows: Sequence[Row], key: str, others: Sequence[str]) -> Figure:
    """Plot each metric against one swept parameter, one line per value of the other ones."""
    import pandas as pd  # pylint: disable=import-outside-toplevel

    frame = pd.DataFrame(list(rows))
    for column in (key, *others):
        # Object columns keep 2 an int and null a None, instead of 2.0 and NaN.
        frame[column] = pd.Series([row[column] for row in rows], dtype=object)
    shown = frame[frame["accuracy"].notna()]
    positions = {_label(value): index for index, value in enumerate(_order(list(shown[key])))}
    from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel

    figure = Figure(figsize=(3.1 * len(PLOTTED), 3.0), layout="constrained")
    axes_row = figure.subplots(1, len(PLOTTED), squeeze=False)[0]
    groups = (
        list(shown.groupby(list(others), dropna=False, sort=False)) if others else [((), shown)]
    )
    for line, (group_values, group) in enumerate(groups[:MAX_LINES]):
        group_values = group_values if isinstance(group_values, tuple) else (group_values,)
        legend = ", ".join(
            f"{other.rsplit('.', 1)[-1]}={_label(value)}"
            for other, value in zip(others, group_values, strict=True)
        )
        dodge = (line - (min(len(groups), MAX_LINES) - 1) / 2) * 0.05
        ordered = group.assign(
            _x=[positions[_label(value)] + dodge for value in group[key]]
        ).sort_values("_x")
        for axes, (column, title) in zip(axes_row, PLOTTED.items(), strict=True):
            errors = ordered["cv_accuracy_std"] if column == "cv_accuracy_mean" else None
            axes.errorbar(
                ordered["_x"], ordered[column], yerr=errors, marker="o", capsize=3,
                color=LINE_COLOURS[line], label=legend or None,
            )  # fmt: skip
            axes.set_title(title, fontsize=9)
    for axes in axes_row:
        axes.set_xticks(list(positions.values()), list(positions), fontsize=8)
        axes.set_xlabel(key, fontsize=8)
        axes.tick_params(axis="y", labelsize=8)
        axes.grid(alpha=0.3)
    if others and len(groups) > 1:
        axes_row[-1].legend(fontsize=7, loc="best")
    return figure


def _format(
    column: str, value: Any, row: Mapping[str, Any], keys: Sequence[str]
) -> tuple[str, str]:
    """Return a cell's text and its sort value."""
    if column in keys:
        text = _label(value)
        return text, "" if value is None else text
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-", ""
    if column == "cv_accuracy_mean":
        return f"{value:.3f} ± {row['cv_accuracy_std']:.3f}", f"{value:.6f}"
    if column in METRIC_NAMES:
        return f"{value:.3f}", f"{value:.6f}"
    if column == "seconds":
        return f"{value:.1f}", f"{value:.3f}"
    if column == "cached":
        return ("yes", "1") if value else ("no", "0")
    return str(value), str(value)


@dataclass(frozen=True)
class Cell:
    """One table cell as the page shows it: its text, its sort value and what goes with it."""

    text: str
    sort: str
    href: str | None = None
    best: bool = False
    error: str | None = None


COLUMN_TITLES = {
    "accuracy": "accuracy",
    "f1": "F1",
    "roc_auc": "ROC AUC",
    "cv_accuracy_mean": "CV accuracy (mean ± std)",
    "seconds": "run time (s)",
    "cached": "cached",
    "status": "status",
}


def table_columns(keys: Sequence[str]) -> list[dict[str, str]]:
    """Return the table's columns, each a row key and its header.

    The variant, the swept keys (headed by their last part), the metrics, the run time and the
    status.
    """
    titles = {"variant": "variant", **{key: key.rsplit(".", 1)[-1] for key in keys}}
    return [{"key": key, "title": title} for key, title in (titles | COLUMN_TITLES).items()]


def table_rows(rows: Sequence[Row], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Return the table's rows: each row's classes (``best``, its status) and its cells."""
    columns = [column["key"] for column in table_columns(keys)]
    shown = []
    for row in rows:
        cells = []
        for key in columns:
            text, sort_value = _format(key, row[key], row, keys)
            cells.append(
                Cell(
                    text,
                    sort_value,
                    href=_text(row["report"]) if key == "variant" else None,
                    best=key == "variant" and row["best"],
                    error=_text(row["error"]) if key == "status" else None,
                )
            )
        classes = " ".join(
            name for name, on in (("best", row["best"]), (row["status"], True)) if on
        )
        shown.append({"classes": classes, "cells": cells})
    return shown


class FigureCache:
    """PNG data URIs of the page's figures, keyed by a hash of the data each one plots.

    A re-run that finds every variant cached draws no figure: matplotlib's drawing is most of
    the time the page takes. Only the entries used by the latest page are kept.
    """

    def __init__(self, path: Path | None):
        self.path = path
        self.used: dict[str, str] = {}
        try:
            stored = json.loads(path.read_text(encoding="utf-8")) if path else {}
        except (OSError, ValueError):
            stored = {}
        self.stored: dict[str, str] = stored if isinstance(stored, dict) else {}

    def figure(self, rows: Sequence[Row], key: str, others: Sequence[str]) -> str:
        """Return the data URI of :func:`parameter_figure`, drawing it only when new."""
        columns = [key, *others, *PLOTTED, "cv_accuracy_std"]
        plotted = [
            [row[column] for column in columns] for row in rows if row["accuracy"] is not None
        ]
        digest = sha256_hex(json.dumps([FIGURE_DPI, columns, plotted], default=str).encode())
        if digest not in self.stored:
            self.stored[digest] = _png_data_uri(parameter_figure(rows, key, others))
        self.used[digest] = self.stored[digest]
        return self.used[digest]

    def save(self) -> None:
        """Write the entries used by the latest page."""
        if self.path is not None:
            write_json(self.path, self.used)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("titanic.sweep", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(
    rows: Sequence[Row],
    keys: Sequence[str],
    figures_cache: FigureCache | None = None,
    margin: str = "",
) -> str:
    """Return the comparison page's HTML: counts, the sortable table and the figures.

    ``margin`` says whether the best variant's lead exceeds the noise (:func:`margin_sentence`).
    The markup is the template :data:`TEMPLATE`; every value is escaped there.
    """
    figures_cache = figures_cache or FigureCache(None)
    counts = Counter(row["status"] for row in rows)
    best = [row["variant"] for row in rows if row["best"]]
    measured = [row for row in rows if row["accuracy"] is not None]
    swept = [key for key in keys if len({_label(row[key]) for row in measured}) > 1]
    figures = []
    for key in swept:
        others = [other for other in swept if other != key]
        figures.append(
            {"uri": figures_cache.figure(rows, key, others), "key": key, "others": others}
        )
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            tally=", ".join(f"{count} {status}" for status, count in counts.most_common()),
            best=best[0] if best else None,
            best_by=BEST_BY_TEXT,
            margin=margin,
            columns=table_columns(keys),
            rows=table_rows(rows, keys),
            figures=figures,
            written=utc_timestamp(),
            table_href=COMPARISON_TABLE_FILENAME,
        )
    )


def write_comparison(
    folder: Path, entries: Sequence[ComparisonEntry], keys: Sequence[str]
) -> tuple[Path, Path]:
    """Write ``folder/index.html`` and ``folder/summary.csv``, atomically.

    Parameters
    ----------
    folder : Path
        The variants folder, holding one sub-folder per variant.
    entries : sequence of ComparisonEntry
        The variants, in the order to show them.
    keys : sequence of str
        The swept dotted keys, shown as columns and plotted against.

    Returns
    -------
    tuple of Path
        The page and the CSV file.
    """
    documents = {entry.name: read_document(folder / entry.name) for entry in entries}
    rows = summary_rows(folder, entries, keys, documents)
    summary = write_text(folder / COMPARISON_TABLE_FILENAME, summary_csv(rows))
    figures_cache = FigureCache(folder / FIGURES_CACHE_FILENAME)
    folds = {
        name: document["metrics"]["cross_validation_folds"]["accuracy"]
        for name, document in documents.items()
        if document is not None
    }
    margin = margin_sentence(rows, folds, keys)
    index = write_text(
        folder / COMPARISON_FILENAME, render_page(rows, keys, figures_cache, margin)
    )
    figures_cache.save()
    return index, summary
