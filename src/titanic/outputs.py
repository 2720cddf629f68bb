"""The files a run leaves behind: model, metrics.json, resolved parameters, evaluation figures.

They are written into a staging folder and published as one output set
(:data:`titanic.project.OUTPUT_SET`, :mod:`titanic.io.output_sets`).
"""

from __future__ import annotations

from pathlib import Path

from titanic.analysis import Analysis, metrics_document
from titanic.config import Settings, dump_settings
from titanic.dataset import Dataset
from titanic.io.atomic import write_figure, write_json, write_model, write_text
from titanic.plots import confusion_matrix_heatmap, importance_plot, roc_curve_plot


def write_run_outputs(
    folder: Path, settings: Settings, dataset: Dataset, analysis: Analysis, root: Path
) -> None:
    """Write the model, metrics.json, params.resolved.yaml and the evaluation figures.

    ``root`` is the project root whose git state is recorded in metrics.json.
    """
    figures = folder / "figures"
    write_model(folder / "model.joblib", analysis.model)
    write_figure(
        figures / "confusion_matrix.png", confusion_matrix_heatmap(analysis.confusion_matrix)
    )
    write_figure(
        figures / "roc_curve.png", roc_curve_plot(analysis.roc_curve, analysis.metrics["roc_auc"])
    )
    write_figure(figures / "permutation_importance.png", importance_plot(analysis.importance))
    write_text(folder / "params.resolved.yaml", dump_settings(settings))
    write_json(folder / "metrics.json", metrics_document(settings, dataset, analysis, root))
