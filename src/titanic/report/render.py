"""Render report.qmd to HTML and PDF in one process, with or without a quarto binary.

The steps: convert report.qmd to a notebook (cell options moved into cell metadata, the
parameters cell tagged), validate the parameters exactly as the CLI does, execute the notebook
with papermill, then typeset it: with ``quarto render`` (no re-execution) when a quarto binary
is on PATH, else with nbconvert and a self-contained template for the HTML and headless
Chromium for the PDF. Everything is written to a staging folder and published as one output
set (:mod:`titanic.io.output_sets`) only when every step succeeded, so a failed or interrupted
render leaves the previous report in place, and a report never sits beside another run's files.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from titanic.errors import ConfigError, ReportError
from titanic.io.output_sets import OutputSet, check_writable_folder
from titanic.project import OUTPUT_SET, Project
from titanic.report.execute import execute_report
from titanic.report.pdf import find_chromium, print_pdf
from titanic.report.qmd import load_report
from titanic.report.quarto import typeset_quarto
from titanic.report.request import RenderRequest
from titanic.report.reuse import execution_components, execution_record, reuse_execution

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderResult:
    """Where a render wrote its outputs, and how."""

    html: Path
    pdf: Path | None
    notebook: Path
    metrics: Path
    backend: str
    seconds: float
    removed: tuple[str, ...] = ()
    executed: bool = True
    reason: str = ""


def choose_backend(formats: Sequence[str]) -> str:
    """Return ``"quarto"`` when a quarto binary is on PATH, else ``"nbconvert"``.

    Raises
    ------
    ReportError
        When a PDF is asked for and neither quarto nor Chromium is available.
    """
    if shutil.which("quarto"):
        return "quarto"
    if "pdf" in formats and find_chromium() is None:
        raise ReportError(
            "a PDF needs quarto or Chromium, and neither is on PATH: run `make setup`"
            " (installs Chromium), or render HTML only with `--to html`"
        )
    return "nbconvert"


def typeset_nbconvert(executed: Path, formats: Sequence[str]) -> None:
    """Write report.html (nbconvert) and, if asked, report.pdf (Chromium) beside ``executed``."""
    from titanic.report.html import export_html  # pylint: disable=import-outside-toplevel

    html = executed.with_suffix(".html")
    html.write_text(export_html(nbformat.read(executed, as_version=4)), encoding="utf-8")
    if "pdf" in formats:
        print_pdf(html, executed.with_suffix(".pdf"))


def render_into(request: RenderRequest, output_dir: Path) -> str:
    """Execute and typeset the report into ``output_dir`` (a staging folder); return the backend.

    Leaves only the set's files there: report.html (and report.pdf), report.ipynb, and what the
    report's cells write (metrics.json, the model, params.resolved.yaml, figures).

    Raises
    ------
    ReportError
        For a missing or malformed report, a failing cell or a failed typesetting step.
    """
    report = request.report_path
    notebook = load_report(report)
    backend = choose_backend(request.formats)
    parameters = {**request.notebook_parameters(), "output_dir": str(output_dir)}
    # No thread loads nbconvert while papermill runs: two threads importing the same packages
    # (IPython) at once made a render fail now and then with KeyError: 'IPython'. A sweep's
    # workers have it loaded and warm already (titanic.sweep.forkserver).
    executed = execute_report(
        notebook,
        output_dir,
        parameters,
        report.name,
        request.cell_timeout,
        request.progress,
        request.project.root,
    )
    typeset(request.project, executed, backend, request.formats, report.name)
    return backend


def typeset(
    project: Project, executed: Path, backend: str, formats: Sequence[str], origin: str
) -> None:
    """Typeset an executed notebook beside itself with ``backend`` (quarto or nbconvert).

    Raises
    ------
    ReportError
        When the cells wrote no metrics.json, or a typesetting step failed.
    """
    if not (executed.parent / "metrics.json").is_file():
        raise ReportError(f"{origin}: the report wrote no metrics.json")
    if backend == "quarto":
        typeset_quarto(executed, formats, project.quarto_config)
    else:
        typeset_nbconvert(executed, formats)


def render_report(
    request: RenderRequest, output_dir: Path | None = None, force: bool = False
) -> RenderResult:
    """Render the report: validate, execute with papermill, typeset, publish as one output set.

    Parameters
    ----------
    request : RenderRequest
        The project, parameters, report, formats and execution settings.
    output_dir : Path, optional
        Where to write; the parameters' ``output_dir`` by default.
    force : bool
        Execute even when the previous render's cells could be reused.

    Returns
    -------
    RenderResult
        Paths of report.html, report.pdf (None if not asked for), the executed notebook and
        metrics.json, the backend used, the wall time, the earlier files removed, and
        whether the cells were executed (and why) or re-used from the previous render.

    Raises
    ------
    ConfigError
        For an unknown parameter or a bad value, before anything is executed.
    OutputError
        When the output folder cannot be written (checked before anything is executed).
    ReportError
        For a missing or malformed report, a failing cell or a failed typesetting step; the
        previous outputs are then left untouched.
    """
    started = time.perf_counter()
    project, formats = request.project, request.formats
    settings = request.settings()
    report = request.report_path
    notebook = load_report(report)  # a malformed report fails before a kernel starts
    backend = choose_backend(formats)
    target = check_writable_folder(
        Path(output_dir) if output_dir else project.resolve(settings.output_dir)
    )
    components = execution_components(project, notebook, settings, request.notebook_parameters())
    logger.info("rendering %s with the %s backend into %s", report.name, backend, target)
    record = execution_record(components)
    with OutputSet(target, "render", settings.to_dict(), OUTPUT_SET, extra=record) as output:
        reason = "--force" if force else reuse_execution(target, output.path, notebook, components)
        if reason is None:
            typeset(project, output.path / "report.ipynb", backend, formats, report.name)
        else:
            logger.info("executing the report: %s", reason)
            render_into(request, output.path)
    seconds = time.perf_counter() - started
    logger.info("rendered %s in %.1f s (%s backend)", target / "report.html", seconds, backend)
    return RenderResult(
        html=target / "report.html",
        pdf=target / "report.pdf" if "pdf" in formats else None,
        notebook=target / "report.ipynb",
        metrics=target / "metrics.json",
        backend=backend,
        seconds=seconds,
        removed=output.published.removed if output.published else (),
        executed=reason is not None,
        reason=reason or "only the text changed",
    )


__all__ = ["ConfigError", "RenderRequest", "RenderResult", "ReportError", "render_report"]
