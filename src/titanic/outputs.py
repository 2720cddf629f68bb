"""The files a run leaves behind: model, metrics.json, resolved parameters, evaluation figures.

They are written into a staging folder and published as one output set
(:data:`titanic.project.OUTPUT_SET`, :mod:`titanic.io.output_sets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from titanic.analysis import Analysis, metrics_document
from titanic.config import Settings, dump_settings
from titanic.dataset import Dataset
from titanic.io.atomic import write_bytes, write_json, write_model, write_text
from titanic.plots import confusion_matrix_heatmap, importance_plot, png_bytes, roc_curve_plot
from titanic.project import (
    METRICS_FILENAME,
    MODEL_FILENAME,
    RESOLVED_PARAMS_FILENAME,
    SUMMARY_FILENAME,
)


def evaluation_figures(analysis: Analysis) -> dict[str, bytes]:
    """Draw the evaluation figures once, as PNG by name: the report shows them, a run saves them.

    Names: ``confusion_matrix``, ``roc_curve`` and ``permutation_importance``.
    """
    return {
        "confusion_matrix": png_bytes(confusion_matrix_heatmap(analysis.confusion_matrix)),
        "roc_curve": png_bytes(roc_curve_plot(analysis.roc_curve, analysis.metrics["roc_auc"])),
        "permutation_importance": png_bytes(importance_plot(analysis.importance)),
    }


def write_run_outputs(
    folder: Path,
    settings: Settings,
    dataset: Dataset,
    analysis: Analysis,
    root: Path,
    figures: Mapping[str, bytes] | None = None,
) -> None:
    """Write the model, metrics.json, params.resolved.yaml and the evaluation figures.

    ``root`` is the project root whose git state is recorded in metrics.json; ``figures`` the
    :func:`evaluation_figures` already drawn (by the report), else they are drawn here.
    """
    write_model(folder / MODEL_FILENAME, analysis.model)
    if figures is None:
        figures = evaluation_figures(analysis)
    for name, png in figures.items():
        write_bytes(folder / "figures" / f"{name}.png", png)
    write_text(folder / RESOLVED_PARAMS_FILENAME, dump_settings(settings))
    write_json(folder / METRICS_FILENAME, metrics_document(settings, dataset, analysis, root))


def write_summary(folder: Path, summary: Mapping[str, object]) -> None:
    """Write summary.json: the report's computed opening summary, read by the published site."""
    write_json(folder / SUMMARY_FILENAME, summary)
