"""The report's descriptive part: tables and figures of the data alone, shared across variants.

None of them depends on a model parameter, so a sweep's variants, and a re-render after a
parameter change, take them from the shared cache (:mod:`titanic.io.memo`) when the data
bytes, the package and the libraries are those they were made from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from titanic import plots
from titanic.io.memo import ContentCache, cache_folder
from titanic.report.display import (
    Markdown,
    PngFigure,
    columns_table,
    data_files_table,
    show,
    survival_summary,
    with_family_size,
)

if TYPE_CHECKING:
    from titanic.config import Settings
    from titanic.dataset import Dataset
    from titanic.project import Project

SUMMARY_COLUMNS = ("Sex", "Pclass", "family_size", "Embarked")


@dataclass(frozen=True)
class DataOverview:
    """The descriptive tables and figures, ready to display."""

    files: Markdown
    columns: Markdown
    sex: PngFigure
    pclass: PngFigure
    age: PngFigure
    fare: PngFigure
    family: PngFigure
    port: PngFigure
    survival: Markdown
    correlation: PngFigure


def data_overview(dataset: Dataset) -> DataOverview:
    """Draw the descriptive tables and figures of the training rows."""
    train = with_family_size(dataset.train)
    return DataOverview(
        files=data_files_table(dataset),
        columns=columns_table(dataset.train),
        sex=show(plots.survival_rate_by(train, "Sex", "sex"), "survival rate by sex"),
        pclass=show(
            plots.survival_rate_by(train, "Pclass", "ticket class"), "survival rate by class"
        ),
        age=show(plots.distribution_by_survival(train, "Age"), "age by outcome"),
        fare=show(
            plots.distribution_by_survival(train, "Fare", log_scale=True), "fare by outcome"
        ),
        family=show(
            plots.survival_rate_by(train, "family_size", "family size aboard"), "family size"
        ),
        port=show(plots.survival_rate_by(train, "Embarked", "port of embarkation"), "port"),
        survival=survival_summary(train, list(SUMMARY_COLUMNS)),
        correlation=show(
            plots.correlation_heatmap(train.drop(columns=["PassengerId"])), "correlation heatmap"
        ),
    )


def shared_overview(dataset: Dataset, cache: ContentCache) -> DataOverview:
    """Return :func:`data_overview`, from ``cache`` when it was drawn from the same data.

    The key is the data's provenance: the source, and each file's URL, sha256 and shape.
    """
    return cache.get("data overview", dataset.provenance(), lambda: data_overview(dataset))


def report_cache(project: Project, settings: Settings) -> ContentCache:
    """Return the shared cache of the output folder named by the parameters (``output_dir``).

    The same folder for every variant of a sweep and every render, whatever folder the
    report itself is written to.
    """
    # Not the folder this render writes (its staging folder, inside a variant's folder or an
    # `--output-dir`): the entries depend on the data bytes alone and are keyed by them, so one
    # cache can serve every variant and every render of the project; one per written folder
    # would draw the same tables and figures again for each.
    return ContentCache(cache_folder(project.resolve(settings.output_dir)))
