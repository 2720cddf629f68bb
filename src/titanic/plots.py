"""Figures for the report and the CLI, built on matplotlib's object API (no pyplot state).

Every function returns a :class:`matplotlib.figure.Figure`; :func:`png_bytes` encodes one as
the PNG that the report shows and a run saves.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from titanic.schema.columns import TARGET

SURVIVED_COLOUR = "#2a9d8f"
DIED_COLOUR = "#e76f51"
NEUTRAL_COLOUR = "#264653"
FIGURE_SIZE = (6.4, 3.6)
FIGURE_DPI = 130


def png_bytes(figure: Figure, dpi: int = FIGURE_DPI) -> bytes:
    """Return a figure as PNG bytes, without the matplotlib version in their metadata."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def _new_figure(size: tuple[float, float] = FIGURE_SIZE) -> tuple[Figure, Axes]:
    figure = Figure(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


def survival_rate_by(frame: pd.DataFrame, column: str, label: str | None = None) -> Figure:
    """Bar chart of the survival rate per value of ``column``, with the count of passengers."""
    rates = frame.groupby(column, observed=True)[TARGET].agg(["mean", "size"])
    figure, axes = _new_figure((4.2, 3.2))
    positions = np.arange(len(rates))
    bars = axes.bar(positions, rates["mean"], color=SURVIVED_COLOUR)
    axes.set_xticks(positions, [str(value) for value in rates.index])
    for rectangle, count in zip(bars, rates["size"], strict=True):
        axes.annotate(
            f"n={count}",
            (rectangle.get_x() + rectangle.get_width() / 2, rectangle.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axes.axhline(frame[TARGET].mean(), color=NEUTRAL_COLOUR, linestyle="--", linewidth=1)
    axes.set_ylim(0, 1.08)
    axes.set_xlabel(label or column)
    axes.set_ylabel("survival rate")
    return figure


def distribution_by_survival(
    frame: pd.DataFrame, column: str, bins: int = 30, log_scale: bool = False
) -> Figure:
    """Overlaid histograms of a numeric column for survivors and the others."""
    figure, axes = _new_figure()
    values = frame[column]
    if log_scale:
        values = np.log10(values + 1)
    edges = np.histogram_bin_edges(values.dropna(), bins=bins)
    for outcome, colour, name in ((0, DIED_COLOUR, "died"), (1, SURVIVED_COLOUR, "survived")):
        axes.hist(
            values[frame[TARGET] == outcome].dropna(),
            bins=edges.tolist(),
            alpha=0.6,
            color=colour,
            label=name,
        )
    axes.set_xlabel(f"log10({column} + 1)" if log_scale else column)
    axes.set_ylabel("passengers")
    axes.legend(frameon=False)
    return figure


def correlation_heatmap(frame: pd.DataFrame) -> Figure:
    """Heatmap of the Pearson correlations between the numeric columns."""
    correlations = frame.select_dtypes("number").corr()
    figure, axes = _new_figure((5.6, 4.6))
    image = axes.imshow(correlations, cmap="RdBu_r", vmin=-1, vmax=1)
    ticks = np.arange(len(correlations))
    axes.set_xticks(ticks, correlations.columns, rotation=45, ha="right")
    axes.set_yticks(ticks, correlations.index)
    for (row, column), value in np.ndenumerate(correlations.to_numpy()):
        colour = "white" if abs(value) > 0.5 else "black"
        axes.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=axes, shrink=0.8, label="correlation")
    return figure


def confusion_matrix_heatmap(matrix: pd.DataFrame) -> Figure:
    """Heatmap of a confusion matrix (rows: actual, columns: predicted) with counts."""
    figure, axes = _new_figure((4.0, 3.4))
    axes.imshow(matrix.to_numpy(), cmap="Blues")
    ticks = np.arange(len(matrix))
    axes.set_xticks(ticks, matrix.columns)
    axes.set_yticks(ticks, matrix.index)
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    peak = matrix.to_numpy().max()
    for (row, column), value in np.ndenumerate(matrix.to_numpy()):
        colour = "white" if value > peak / 2 else "black"
        axes.text(column, row, str(value), ha="center", va="center", fontsize=12, color=colour)
    return figure


def roc_curve_plot(roc: pd.DataFrame, auc: float) -> Figure:
    """Plot the ROC curve with its area, against the diagonal of a random classifier."""
    figure, axes = _new_figure((4.2, 4.0))
    axes.plot(
        roc["false_positive_rate"],
        roc["true_positive_rate"],
        color=SURVIVED_COLOUR,
        label=f"model (AUC = {auc:.3f})",
    )
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="chance")
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.set_aspect("equal")
    axes.legend(frameon=False, loc="lower right")
    return figure


def cross_validation_plot(scores: pd.DataFrame) -> Figure:
    """Per-fold scores of every metric, one dot per fold, with the mean marked."""
    figure, axes = _new_figure()
    positions = np.arange(len(scores.columns))
    for position, name in zip(positions, scores.columns, strict=True):
        axes.scatter(
            np.full(len(scores), position), scores[name], color=SURVIVED_COLOUR, alpha=0.7
        )
        axes.hlines(scores[name].mean(), position - 0.25, position + 0.25, color=NEUTRAL_COLOUR)
    axes.set_xticks(positions, scores.columns)
    axes.set_ylabel("score per fold")
    return figure


def importance_plot(importance: pd.DataFrame) -> Figure:
    """Horizontal bars of permutation importance, with one standard deviation as error bars."""
    ordered = importance.iloc[::-1]
    figure, axes = _new_figure((6.0, 0.3 * len(ordered) + 1.2))
    axes.barh(
        ordered["feature"],
        ordered["importance_mean"],
        xerr=ordered["importance_std"],
        color=SURVIVED_COLOUR,
    )
    axes.axvline(0, color="grey", linewidth=0.8)
    axes.set_xlabel("drop in accuracy when the column is shuffled")
    return figure


def baselines_plot(folds: pd.DataFrame, model_name: str) -> Figure:
    """Accuracy per fold of each baseline and of the model (same folds), mean marked."""
    figure, axes = _new_figure((6.4, 0.45 * len(folds.columns) + 1.2))
    positions = np.arange(len(folds.columns))[::-1]
    for position, name in zip(positions, folds.columns, strict=True):
        colour = SURVIVED_COLOUR if name == model_name else NEUTRAL_COLOUR
        axes.scatter(folds[name], np.full(len(folds), position), color=colour, alpha=0.6)
        axes.vlines(folds[name].mean(), position - 0.3, position + 0.3, color=colour, linewidth=2)
    axes.set_yticks(positions, folds.columns)
    axes.set_xlabel("accuracy per cross-validation fold (bar: mean)")
    return figure
