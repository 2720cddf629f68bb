"""What to render: one value shared by a render, a sweep's variant and the test stand-ins.

A light module (no papermill, no nbconvert), so that a sweep can describe its variants' renders
without loading the report machinery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from titanic.config import Settings, load_settings
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
    """A render's inputs: the project, its resolved settings, the report, how to execute it.

    Attributes
    ----------
    project : Project
        The project: its report.qmd and _quarto.yml; the report runs from its root.
    settings : Settings
        The parameters, resolved and validated once (:meth:`resolve`); the render hands them
        to the report as a file, which the kernel does not validate again.
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
    settings: Settings
    formats: tuple[str, ...] = FORMATS
    report: Path | None = None
    cell_timeout: int = 600
    progress: bool = True

    def __post_init__(self) -> None:
        """Check the formats, normalised to a tuple."""
        # The documented way to normalise a field of a frozen dataclass.
        object.__setattr__(self, "formats", check_formats(self.formats))

    @classmethod
    def resolve(
        cls,
        project: Project,
        overrides: Sequence[str] = (),
        params_files: Sequence[Path] = (),
        **options: Any,
    ) -> RenderRequest:
        """Return the request for the project's params.yaml, ``params_files`` then ``overrides``.

        The parameters are validated here, once for the whole render.

        Raises
        ------
        ConfigError
            Naming every unknown key or bad value.
        """
        settings = load_settings(project.params_file, params_files, overrides)
        return cls(project, settings, **options)

    @property
    def report_path(self) -> Path:
        """The .qmd file to render, absolute."""
        return Path(self.report or self.project.report).resolve()
