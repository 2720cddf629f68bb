"""Typesetting an executed notebook: one small interface, Quarto's backend and ours.

:func:`choose_typesetter` picks the backend once per render: Quarto when a quarto binary is on
PATH (it typesets the executed notebook without running it again), else nbconvert with a
self-contained template for the HTML and headless Chromium for the PDF.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import nbformat

from titanic.errors import ReportError
from titanic.report.pdf import find_chromium, print_pdf
from titanic.report.quarto import typeset_quarto


class Typesetter(Protocol):
    """Writes report.html (and report.pdf) beside an executed notebook."""

    name: str

    def typeset(self, executed: Path, formats: Sequence[str]) -> None:
        """Typeset ``executed`` into the ``formats`` asked for, beside it.

        Raises
        ------
        ReportError
            When a typesetting step fails.
        """


class QuartoTypesetter:
    """``quarto render`` of the executed notebook, with the project's ``_quarto.yml``."""

    name = "quarto"

    def __init__(self, project_config: Path):
        self.project_config = project_config

    def typeset(self, executed: Path, formats: Sequence[str]) -> None:
        """Typeset with Quarto: HTML, and the PDF with Typst."""
        typeset_quarto(executed, formats, self.project_config)


class NbconvertTypesetter:
    """Our own backend: nbconvert for the HTML, headless Chromium to print it to PDF."""

    name = "nbconvert"

    def typeset(self, executed: Path, formats: Sequence[str]) -> None:
        """Write report.html with nbconvert and, if asked, report.pdf with Chromium."""
        # Imported here: nbconvert loads only once a notebook is executed (see render_into).
        from titanic.report.html import export_html  # pylint: disable=import-outside-toplevel

        html = executed.with_suffix(".html")
        html.write_text(export_html(nbformat.read(executed, as_version=4)), encoding="utf-8")
        if "pdf" in formats:
            print_pdf(html, executed.with_suffix(".pdf"))


def choose_typesetter(formats: Sequence[str], project_config: Path) -> Typesetter:
    """Return Quarto's typesetter when a quarto binary is on PATH, else ours.

    Parameters
    ----------
    formats : sequence of str
        ``"html"`` and/or ``"pdf"``.
    project_config : Path
        The project's ``_quarto.yml``, whose options Quarto applies.

    Raises
    ------
    ReportError
        When a PDF is asked for and neither quarto nor Chromium is available.
    """
    if shutil.which("quarto"):
        return QuartoTypesetter(project_config)
    if "pdf" in formats and find_chromium() is None:
        raise ReportError(
            "a PDF needs quarto or Chromium, and neither is on PATH: run `make setup`"
            " (installs Chromium), or render HTML only with `--to html`"
        )
    return NbconvertTypesetter()
