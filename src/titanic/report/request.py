"""What to render: one value shared by a render, a sweep's variant and the test stand-ins.

A light module (no papermill, no nbconvert), so that a sweep can describe its variants' renders
without loading the report machinery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from titanic.config import Settings, report_settings
from titanic.errors import ReportError
from titanic.project import Project

FORMATS = ("html", "pdf")


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """Return the formats to write: the HTML always (the PDF is printed from it), first.

    Raises
    ------
    ReportError
        For an unknown format, or none.
    """
    asked = tuple(dict.fromkeys(name.strip().lower() for name in formats))
    unknown = [name for name in asked if name not in FORMATS]
    if unknown or not asked:
        raise ReportError(
            f"unknown output format(s) {', '.join(unknown) or '(none)'}: choose html and/or pdf"
        )
    return tuple(dict.fromkeys(("html", *asked)))


@dataclass(frozen=True)
class RenderRequest:
    """A render's inputs: the project, the parameters' layers, the report, how to execute it.

    Attributes
    ----------
    project : Project
        The project: its params.yaml, report.qmd and _quarto.yml.
    overrides : tuple of str
        ``section.key=value`` overrides, applied after params.yaml and ``params_files``.
    params_files : tuple of Path
        Partial parameter files merged over params.yaml, in order.
    formats : tuple of str
        ``"html"`` and/or ``"pdf"``; the HTML is always written.
    report : Path, optional
        The .qmd file; the project's ``report.qmd`` by default.
    cell_timeout : int
        Seconds a single cell may run.
    progress : bool
        Show papermill's progress bar.
    """

    project: Project
    overrides: tuple[str, ...] = ()
    params_files: tuple[Path, ...] = ()
    formats: tuple[str, ...] = FORMATS
    report: Path | None = None
    cell_timeout: int = 600
    progress: bool = True

    def __post_init__(self) -> None:
        """Normalise sequences to tuples, paths to absolute ones and check the formats."""
        set_field = object.__setattr__  # the documented way to normalise a frozen dataclass
        set_field(self, "overrides", tuple(self.overrides))
        set_field(self, "params_files", tuple(Path(path).resolve() for path in self.params_files))
        set_field(self, "formats", check_formats(self.formats))

    @property
    def report_path(self) -> Path:
        """The .qmd file to render, absolute."""
        return Path(self.report or self.project.report).resolve()

    def notebook_parameters(self) -> dict[str, Any]:
        """Return the values papermill injects into the report's parameters cell.

        Paths are absolute, so the executed notebook re-runs from any folder. ``output_dir``
        is added when the render's folder is known (the staging folder).
        """
        parameters: dict[str, Any] = {
            "params_file": str(self.project.params_file),
            "overrides": list(self.overrides),
        }
        if self.params_files:
            parameters["extra_params_files"] = [str(path) for path in self.params_files]
        return parameters

    def settings(self) -> Settings:
        """Validate the parameters exactly as the report's first cell will, before it runs."""
        parameters = self.notebook_parameters()
        return report_settings(
            parameters["params_file"],
            parameters["overrides"],
            parameters.get("extra_params_files", ()),
        )
