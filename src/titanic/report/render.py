"""Render report.qmd to HTML and PDF in one process, with or without a quarto binary.

The steps: validate the parameters once (:meth:`RenderRequest.resolve`), convert report.qmd to
a notebook (cell options moved into cell metadata, the parameters cell tagged), write the
resolved parameters into the staging folder, execute the notebook with papermill, handing it
that file's path, then typeset it with the backend chosen once per render
(:mod:`titanic.report.typesetting`): Quarto when a quarto binary is on PATH, else nbconvert and
headless Chromium. Everything is written to a staging folder and published as one output set
(:mod:`titanic.io.output_sets`) only when every step succeeded, so a failed or interrupted
render leaves the previous report in place, and a report never sits beside another run's files.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from titanic.config import RESOLVED_PARAMS_FILENAME, Settings, resolved_files
from titanic.errors import ConfigError, ReportError
from titanic.io.atomic import write_text
from titanic.io.output_sets import OutputSet, check_writable_folder
from titanic.project import (
    METRICS_FILENAME,
    OUTPUT_SET,
    REPORT_HTML_FILENAME,
    REPORT_NOTEBOOK_FILENAME,
    REPORT_PDF_FILENAME,
)
from titanic.report.execute import execute_report
from titanic.report.qmd import load_report
from titanic.report.request import RenderRequest
from titanic.report.reuse import execution_components, execution_record, reuse_execution
from titanic.report.typesetting import Typesetter, choose_typesetter

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


def notebook_parameters(settings: Settings, staging: Path) -> dict[str, Any]:
    """Write the resolved parameters into ``staging``; return what papermill injects.

    The report gets the path of params.resolved.yaml, which it reads without validating it
    again (its digest, written beside it, vouches for it), and the staging folder it writes
    its files into. Both paths are absolute: the kernel runs from the project root.
    """
    for name, text in resolved_files(settings).items():
        write_text(staging / name, text)
    return {
        "resolved_params_file": str(staging / RESOLVED_PARAMS_FILENAME),
        "staging_dir": str(staging),
    }


def render_into(request: RenderRequest, staging: Path) -> str:
    """Execute and typeset the report into ``staging`` (a staging folder); return the backend.

    A sweep's workers call this for each variant. Leaves only the set's files there:
    report.html (and report.pdf), report.ipynb, and what the report's cells write
    (metrics.json, the model, params.resolved.yaml, figures).

    Raises
    ------
    ReportError
        For a missing or malformed report, a failing cell or a failed typesetting step.
    """
    typesetter = choose_typesetter(request.formats, request.project.quarto_config)
    execute_and_typeset(request, load_report(request.report_path), typesetter, staging)
    return typesetter.name


def execute_and_typeset(
    request: RenderRequest, notebook: NotebookNode, typesetter: Typesetter, staging: Path
) -> None:
    """Execute the report's ``notebook`` into ``staging``, then typeset it with ``typesetter``.

    Raises
    ------
    ReportError
        For a failing cell or a failed typesetting step.
    """
    # No thread loads nbconvert while papermill runs: two threads importing the same packages
    # (IPython) at once made a render fail now and then with KeyError: 'IPython'. A sweep's
    # workers have it loaded and warm already (titanic.sweep.forkserver).
    executed = execute_report(
        notebook,
        staging,
        notebook_parameters(request.settings, staging),
        request.report_path.name,
        request.cell_timeout,
        request.progress,
        request.project.root,
    )
    typeset(executed, typesetter, request.formats, request.report_path.name)


def typeset(executed: Path, typesetter: Typesetter, formats: Sequence[str], origin: str) -> None:
    """Typeset an executed notebook beside itself.

    Raises
    ------
    ReportError
        When the cells wrote no metrics.json, or a typesetting step failed.
    """
    if not (executed.parent / METRICS_FILENAME).is_file():
        raise ReportError(f"{origin}: the report wrote no {METRICS_FILENAME}")
    typesetter.typeset(executed, formats)


def render_report(
    request: RenderRequest, output_dir: Path | None = None, force: bool = False
) -> RenderResult:
    """Render the report: execute with papermill, typeset, publish as one output set.

    Parameters
    ----------
    request : RenderRequest
        The project, resolved settings, report, formats and execution settings.
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
    OutputError
        When the output folder cannot be written (checked before anything is executed).
    ReportError
        For a missing or malformed report, a failing cell or a failed typesetting step; the
        previous outputs are then left untouched.
    """
    started = time.perf_counter()
    project, formats, settings = request.project, request.formats, request.settings
    report = request.report_path
    notebook = load_report(report)  # a malformed report fails before a kernel starts
    typesetter = choose_typesetter(formats, project.quarto_config)
    target = check_writable_folder(
        Path(output_dir) if output_dir else project.resolve(settings.output_dir)
    )
    components = execution_components(project, notebook, settings)
    logger.info("rendering %s with the %s backend into %s", report.name, typesetter.name, target)
    record = execution_record(components)
    with OutputSet(target, "render", settings.to_dict(), OUTPUT_SET, extra=record) as output:
        reason = "--force" if force else reuse_execution(target, output.path, notebook, components)
        if reason is None:
            typeset(output.path / REPORT_NOTEBOOK_FILENAME, typesetter, formats, report.name)
        else:
            logger.info("executing the report: %s", reason)
            execute_and_typeset(request, notebook, typesetter, output.path)
    seconds = time.perf_counter() - started
    html = target / REPORT_HTML_FILENAME
    logger.info("rendered %s in %.1f s (%s backend)", html, seconds, typesetter.name)
    return RenderResult(
        html=html,
        pdf=target / REPORT_PDF_FILENAME if "pdf" in formats else None,
        notebook=target / REPORT_NOTEBOOK_FILENAME,
        metrics=target / METRICS_FILENAME,
        backend=typesetter.name,
        seconds=seconds,
        removed=output.published.removed if output.published else (),
        executed=reason is not None,
        reason=reason or "only the text changed",
    )


__all__ = ["ConfigError", "RenderRequest", "RenderResult", "ReportError", "render_report"]
