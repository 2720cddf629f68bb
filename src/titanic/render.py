"""Render report.qmd to HTML and PDF in one process, with or without a quarto binary.

The steps: convert report.qmd to a notebook (cell options moved into cell metadata, the
parameters cell tagged), validate the parameters exactly as the CLI does, execute the notebook
with papermill, then typeset it: with ``quarto render`` (no re-execution) when a quarto binary
is on PATH, else with nbconvert and a self-contained template for the HTML and headless
Chromium for the PDF. Everything is written to a staging folder first and moved into the output
folder only when every step succeeded, so a failed render leaves the previous report in place.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import nbformat
import papermill
import yaml
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from nbformat import NotebookNode
from papermill.exceptions import PapermillExecutionError
from pygments.formatters.html import HtmlFormatter

from titanic.config import PARAMS_FILENAME, find_project_root, resolve_output_dir
from titanic.errors import ConfigError, ReportError
from titanic.report import report_settings

logger = logging.getLogger(__name__)

FORMATS = ("html", "pdf")
PARAMETERS_TAG = "parameters"
KERNEL_NAME = "python3"
KERNELSPEC = {"name": KERNEL_NAME, "display_name": "Python 3 (ipykernel)", "language": "python"}
QUARTO_FORMATS = {"html": "html", "pdf": "typst"}
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_TIMEOUT_SECONDS = 180
TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "titanic_report"
_FENCE_OPEN = re.compile(r"^```\{python\b[^}]*\}\s*$")
_FENCE_CLOSE = re.compile(r"^```\s*$")
_OPTION = re.compile(r"^#\|\s?(.*)$")
_CROSS_REFERENCE = re.compile(r"@((?:fig|tbl)-[A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class RenderResult:
    """Where a render wrote its outputs, and how."""

    html: Path
    pdf: Path | None
    notebook: Path
    metrics: Path
    backend: str
    seconds: float


# --- report.qmd -> notebook -----------------------------------------------------------------


def split_options(source: str) -> tuple[dict[str, Any], str]:
    """Split a code cell's leading ``#|`` lines from its code.

    Returns
    -------
    tuple
        The options as a mapping (YAML), and the code without the option lines.

    Raises
    ------
    ReportError
        When the option lines are not valid YAML mapping entries.
    """
    lines = source.splitlines()
    options: list[str] = []
    while lines and (match := _OPTION.match(lines[0])):
        options.append(match.group(1))
        lines.pop(0)
    try:
        parsed = yaml.safe_load("\n".join(options)) if options else {}
    except yaml.YAMLError as err:
        raise ReportError(f"malformed #| cell options: {' / '.join(options)}") from err
    if not isinstance(parsed, dict):
        raise ReportError(f"#| cell options must be 'key: value' lines: {' / '.join(options)}")
    return parsed, "\n".join(lines)


def _markdown_cell(lines: list[str]) -> NotebookNode | None:
    text = "\n".join(lines).strip("\n")
    return nbformat.v4.new_markdown_cell(text) if text.strip() else None


def _code_cell(lines: list[str], number: int, line: int, origin: str) -> NotebookNode:
    source = "\n".join(lines)
    try:
        options, _ = split_options(source)
    except ReportError as err:
        raise ReportError(f"{origin}: cell {number} (line {line}): {err}", number) from err
    cell = nbformat.v4.new_code_cell(source)
    tags = options.get("tags") or []
    cell.metadata["tags"] = [tags] if isinstance(tags, str) else list(tags)
    cell.metadata["titanic"] = {"cell": number, "line": line}
    return cell


def _front_matter(lines: list[str], origin: str) -> tuple[list[str], int]:
    """Return the front matter lines (with their ``---`` fences) and where the body starts."""
    if not lines or lines[0].strip() != "---":
        return [], 0
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in {"---", "..."}:
            return lines[: index + 1], index + 1
    raise ReportError(f"{origin}: the front matter opened on line 1 is never closed with ---")


def qmd_to_notebook(text: str, origin: str = "report.qmd") -> NotebookNode:
    """Convert Quarto Markdown with ``{python}`` cells to a notebook ready for papermill.

    The front matter becomes the first raw cell (where Quarto reads it in a notebook), each
    ``{python}`` block a code cell whose ``#|`` options stay in its source for Quarto and whose
    ``tags`` option is copied into its metadata for papermill, and the text between blocks
    markdown cells. The kernelspec is set to ``python3``.

    Parameters
    ----------
    text : str
        The content of the .qmd file.
    origin : str
        Its name, for error messages.

    Raises
    ------
    ReportError
        On unclosed front matter or code blocks, malformed cell options, or a count of
        parameters cells other than one.
    """
    lines = text.splitlines()
    front, start = _front_matter(lines, origin)
    cells: list[NotebookNode] = []
    if front:
        cells.append(nbformat.v4.new_raw_cell("\n".join(front)))
    pending: list[str] = []
    code: list[str] | None = None
    opened_at = 0
    for number, line in enumerate(lines[start:], start=start + 1):
        if code is None and _FENCE_OPEN.match(line):
            if markdown := _markdown_cell(pending):
                cells.append(markdown)
            pending, code, opened_at = [], [], number
        elif code is not None and _FENCE_CLOSE.match(line):
            count = sum(cell.cell_type == "code" for cell in cells) + 1
            cells.append(_code_cell(code, count, opened_at, origin))
            code = None
        elif code is not None:
            code.append(line)
        else:
            pending.append(line)
    if code is not None:
        raise ReportError(f"{origin}: the code block opened on line {opened_at} is never closed")
    if markdown := _markdown_cell(pending):
        cells.append(markdown)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = {"name": "python"}
    _check_parameters_cell(notebook, origin)
    return notebook


def _check_parameters_cell(notebook: NotebookNode, origin: str) -> None:
    tagged = [cell for cell in notebook.cells if PARAMETERS_TAG in cell.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise ReportError(
            f"{origin}: expected exactly one cell tagged '{PARAMETERS_TAG}'"
            f" (#| tags: [{PARAMETERS_TAG}]), found {len(tagged)}"
        )


def load_report(path: Path) -> NotebookNode:
    """Read and convert a .qmd report (see :func:`qmd_to_notebook`).

    Raises
    ------
    ReportError
        When the file is missing or unreadable, or its structure is invalid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ReportError(f"{path}: report not found") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ReportError(f"{path}: cannot read the report ({err})") from err
    return qmd_to_notebook(text, path.name)


# --- execution ----------------------------------------------------------------------------


def _first_code_line(source: str) -> str:
    _, code = split_options(source)
    return next((line.strip() for line in code.splitlines() if line.strip()), "")


def _failing_cell(notebook: NotebookNode, source: str) -> tuple[int | None, int | None]:
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source == source:
            info = cell.metadata.get("titanic", {})
            return info.get("cell"), info.get("line")
    return None, None


def _timed_out_cell(notebook: NotebookNode, message: str) -> NotebookNode | None:
    """Find the cell that nbclient's timeout message previews (its source, or first lines)."""
    for cell in notebook.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        head = str(cell.source.strip().split("\n")[:5])
        if f"\n{cell.source}\n" in message or f"\n{head}\n" in message:
            return cell
    return None


def execute_report(
    notebook: NotebookNode,
    staging: Path,
    parameters: dict[str, Any],
    origin: str,
    cell_timeout: int,
    progress: bool,
    cwd: Path,
) -> Path:
    """Execute the notebook with papermill into ``staging/report.ipynb``.

    Raises
    ------
    ReportError
        Naming the failing cell (number in the report and line) and its first line of code.
    """
    source_path = staging / "report.source.ipynb"
    executed_path = staging / "report.ipynb"
    nbformat.write(notebook, source_path)
    try:
        papermill.execute_notebook(
            str(source_path),
            str(executed_path),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=progress,
            request_save_on_cell_execute=False,
            execution_timeout=cell_timeout,
            cwd=str(cwd),
            # The kernel's own log (TCP transport notice, shutdown interrupt) is noise here.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except PapermillExecutionError as err:
        number, line = _failing_cell(notebook, err.source)
        where = f"cell {number} (line {line})" if number else f"cell [{err.exec_count}]"
        raise ReportError(
            f"{origin}: {where} failed: `{_first_code_line(err.source)}`:"
            f" {err.ename}: {err.evalue}",
            number,
        ) from err
    except CellTimeoutError as err:
        cell = _timed_out_cell(notebook, str(err))
        if cell is None:
            where, number = "a cell", None
        else:
            number = cell.metadata["titanic"]["cell"]
            where = f"cell {number} (line {cell.metadata['titanic']['line']})"
            where += f" `{_first_code_line(cell.source)}`"
        raise ReportError(
            f"{origin}: {where} ran longer than the {cell_timeout} s cell timeout;"
            " raise it with --cell-timeout",
            number,
        ) from err
    except DeadKernelError as err:
        raise ReportError(f"{origin}: the kernel died during execution ({err})") from err
    finally:
        source_path.unlink(missing_ok=True)
    return executed_path


# --- typesetting --------------------------------------------------------------------------


def find_chromium() -> str | None:
    """Return the path of a Chromium or Chrome binary (``$TITANIC_CHROMIUM`` first), or None."""
    configured = os.environ.get("TITANIC_CHROMIUM")
    if configured:
        return shutil.which(configured)
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


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


def typeset_quarto(executed: Path, formats: Sequence[str], project_config: Path) -> None:
    """Typeset an executed notebook with ``quarto render`` (Quarto does not re-execute it).

    The project's format options are copied beside the notebook, so Quarto renders it as a
    standalone project into the same folder.
    """
    config = (
        yaml.safe_load(project_config.read_text(encoding="utf-8"))
        if (project_config.is_file())
        else {}
    )
    standalone = {key: value for key, value in config.items() if key != "project"}
    standalone["project"] = {"type": "default"}
    (executed.parent / "_quarto.yml").write_text(yaml.safe_dump(standalone), encoding="utf-8")
    command = [
        shutil.which("quarto") or "quarto",
        "render",
        executed.name,
        "--to",
        ",".join(QUARTO_FORMATS[name] for name in formats),
    ]
    _run(command, executed.parent, "quarto render")


def _run(command: list[str], cwd: Path, what: str) -> None:
    try:
        completed = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=CHROMIUM_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ReportError(f"{what} failed: {err}") from err
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
        raise ReportError(f"{what} exited with code {completed.returncode}: {' '.join(detail)}")


def _numbering(cells: Sequence[NotebookNode]) -> dict[str, str]:
    names: dict[str, str] = {}
    counts = {"fig": 0, "tbl": 0}
    for cell in cells:
        if cell.cell_type != "code":
            continue
        label = str(split_options(cell.source)[0].get("label", ""))
        kind = label.split("-", 1)[0]
        if kind in counts and label not in names:
            counts[kind] += 1
            names[label] = f"{'Figure' if kind == 'fig' else 'Table'} {counts[kind]}"
    return names


def _link_references(text: str, names: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        label = match.group(1)
        return f"[{names[label]}](#{label})" if label in names else match.group(0)

    return _CROSS_REFERENCE.sub(replace, text)


def _front_matter_of(notebook: NotebookNode) -> dict[str, Any]:
    first = notebook.cells[0] if notebook.cells else None
    if first is None or first.cell_type != "raw":
        return {}
    loaded = yaml.safe_load(first.source.strip().strip("-")) or {}
    return loaded if isinstance(loaded, dict) else {}


def prepare_for_html(notebook: NotebookNode) -> tuple[NotebookNode, dict[str, Any]]:
    """Apply Quarto's cell options for nbconvert: hide, fold, caption, number, cross-reference.

    Returns a copy of the notebook whose code cells carry a ``report`` metadata entry read by
    the template, and the front matter (title, subtitle, date).
    """
    copy = nbformat.from_dict(notebook)
    names = _numbering(copy.cells)
    cells = []
    for cell in copy.cells:
        if cell.cell_type == "markdown":
            cell.source = _link_references(cell.source, names)
        elif cell.cell_type == "code":
            options, code = split_options(cell.source)
            if options.get("include") is False:
                continue
            label = str(options.get("label", ""))
            injected = "injected-parameters" in cell.metadata.get("tags", [])
            cell.source = code
            cell.metadata["report"] = {
                "echo": options.get("echo", True) is not False and bool(code.strip()),
                "summary": "Parameters of this run" if injected else "Code",
                "label": label if label in names else "",
                "number": names.get(label, ""),
                "caption": options.get("fig-cap") or options.get("tbl-cap") or "",
                "kind": label.split("-", 1)[0] if label in names else "",
                "alt": options.get("fig-alt") or options.get("fig-cap") or "figure",
            }
            outputs = []
            for output in cell.get("outputs", []):
                if output.output_type == "stream" and output.name == "stderr":
                    continue  # warning: false, as in _quarto.yml
                if "text/markdown" in output.get("data", {}):
                    markdown = output.data["text/markdown"]
                    output.data["text/markdown"] = _link_references(markdown, names)
                outputs.append(output)
            cell.outputs = outputs
        cells.append(cell)
    copy.cells = cells
    front = _front_matter_of(copy)
    if front.get("date") == "today":
        front["date"] = date.today().isoformat()
    return copy, front


def _table_of_contents(html: str) -> str:
    headings = re.findall(r'<h2 id="([^"]+)">(.*?)<a class="anchor-link"', html)
    if not headings:
        return ""
    items = "".join(
        f'<li><a href="#{anchor}">{re.sub(r"<[^>]+>", "", text)}</a></li>'
        for anchor, text in headings
    )
    return f'<nav class="toc"><h2 class="toc-title">Contents</h2><ul>{items}</ul></nav>'


def export_html(notebook: NotebookNode) -> str:
    """Return a single self-contained HTML page for an executed notebook.

    Images are inline ``data:`` URIs, the style sheet is inline and the page has no script:
    it loads nothing from the network. Code is folded in ``<details>`` and hidden in print.
    """
    prepared, front = prepare_for_html(notebook)
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    resources = {
        "report": {
            "title": str(front.get("title", "Report")),
            "subtitle": str(front.get("subtitle", "")),
            "date": str(front.get("date", "")),
            "pygments_css": HtmlFormatter(style="friendly").get_style_defs(".highlight"),
        }
    }
    html, _ = exporter.from_notebook_node(prepared, resources=resources)
    return html.replace("<!--toc-->", _table_of_contents(html), 1)


def print_pdf(html: Path, pdf: Path) -> None:
    """Print an HTML file to PDF with headless Chromium, with the network off.

    Raises
    ------
    ReportError
        When Chromium is missing, fails or writes no PDF.
    """
    chromium = find_chromium()
    if chromium is None:
        raise ReportError("no Chromium on PATH to print the PDF: run `make setup`")
    with tempfile.TemporaryDirectory(prefix="titanic-chromium-") as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ]
        _run(command, html.parent, "Chromium --print-to-pdf")
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise ReportError(f"Chromium wrote no PDF to {pdf}")


def typeset_nbconvert(executed: Path, formats: Sequence[str]) -> None:
    """Write report.html (nbconvert) and, if asked, report.pdf (Chromium) beside ``executed``."""
    html = executed.with_suffix(".html")
    html.write_text(export_html(nbformat.read(executed, as_version=4)), encoding="utf-8")
    if "pdf" in formats:
        print_pdf(html, executed.with_suffix(".pdf"))


# --- orchestration ------------------------------------------------------------------------


def _check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """Return the formats to write: the HTML always (the PDF is printed from it), first."""
    asked = tuple(dict.fromkeys(name.strip().lower() for name in formats))
    unknown = [name for name in asked if name not in FORMATS]
    if unknown or not asked:
        raise ReportError(
            f"unknown output format(s) {', '.join(unknown) or '(none)'}: choose html and/or pdf"
        )
    return tuple(dict.fromkeys(("html", *asked)))


def publish(staging: Path, target: Path) -> None:
    """Move the outputs in ``staging`` into ``target`` (one rename each), metrics.json last.

    Hidden files and folders (Quarto's caches) and the copied ``_quarto.yml`` stay behind.
    """
    files = sorted(
        (
            path
            for path in staging.rglob("*")
            if path.is_file()
            and path.name != "_quarto.yml"
            and not any(part.startswith(".") for part in path.relative_to(staging).parts)
        ),
        key=lambda path: path.name == "metrics.json",
    )
    for path in files:
        destination = target / path.relative_to(staging)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, destination)


def notebook_parameters(
    root: Path, overrides: Sequence[str], params_files: Sequence[Path]
) -> dict[str, Any]:
    """Return the values papermill injects into the report's parameters cell.

    Paths are absolute, so the executed notebook re-runs from any folder. ``output_dir`` is
    added by :func:`render_report` (the staging folder).
    """
    parameters: dict[str, Any] = {
        "params_file": str(root / PARAMS_FILENAME),
        "overrides": list(overrides),
    }
    if params_files:
        parameters["extra_params_files"] = [str(Path(path).resolve()) for path in params_files]
    return parameters


def _execute_and_typeset(
    notebook: NotebookNode,
    staging: Path,
    parameters: dict[str, Any],
    origin: str,
    backend: str,
    formats: Sequence[str],
    cell_timeout: int,
    progress: bool,
) -> None:
    root = find_project_root()
    executed = execute_report(notebook, staging, parameters, origin, cell_timeout, progress, root)
    if not (staging / "metrics.json").is_file():
        raise ReportError(f"{origin}: the report wrote no metrics.json")
    if backend == "quarto":
        typeset_quarto(executed, formats, root / "_quarto.yml")
    else:
        typeset_nbconvert(executed, formats)


def _validated_target(parameters: dict[str, Any], output_dir: Path | None, root: Path) -> Path:
    """Validate the parameters before any kernel starts; return the output folder."""
    settings = report_settings(
        parameters["params_file"],
        parameters["overrides"],
        parameters.get("extra_params_files", ()),
    )
    return Path(output_dir) if output_dir else resolve_output_dir(settings, root)


def render_report(
    overrides: Sequence[str] = (),
    params_files: Sequence[Path] = (),
    output_dir: Path | None = None,
    formats: Sequence[str] = FORMATS,
    report: Path | None = None,
    cell_timeout: int = 600,
    progress: bool = True,
) -> RenderResult:
    """Render the report: validate, execute with papermill, typeset, publish atomically.

    Parameters
    ----------
    overrides : sequence of str
        ``section.key=value`` overrides, applied after params.yaml and ``params_files``.
    params_files : sequence of Path
        Partial parameter files merged over params.yaml, in order.
    output_dir : Path, optional
        Where to write; the parameters' ``output_dir`` by default.
    formats : sequence of str
        ``"html"`` and/or ``"pdf"``; the HTML is always written.
    report : Path, optional
        The .qmd file; ``report.qmd`` of the project root by default.
    cell_timeout : int
        Seconds a single cell may run.
    progress : bool
        Show papermill's progress bar.

    Returns
    -------
    RenderResult
        Paths of report.html, report.pdf (None if not asked for), the executed notebook and
        metrics.json, the backend used and the wall time.

    Raises
    ------
    ConfigError
        For an unknown parameter or a bad value, before anything is executed.
    ReportError
        For a missing or malformed report, a failing cell or a failed typesetting step; the
        previous outputs are then left untouched.
    """
    started = time.perf_counter()
    root = find_project_root()
    report = (report or root / "report.qmd").resolve()
    formats = _check_formats(formats)
    parameters = notebook_parameters(root, overrides, params_files)
    target = _validated_target(parameters, output_dir, root)
    notebook = load_report(report)
    backend = choose_backend(formats)
    logger.info("rendering %s with the %s backend into %s", report.name, backend, target)
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".render-", dir=target))
    try:
        parameters["output_dir"] = str(staging)
        _execute_and_typeset(
            notebook, staging, parameters, report.name, backend, formats, cell_timeout, progress
        )
        publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    seconds = time.perf_counter() - started
    logger.info("rendered %s in %.1f s (%s backend)", target / "report.html", seconds, backend)
    return RenderResult(
        html=target / "report.html",
        pdf=target / "report.pdf" if "pdf" in formats else None,
        notebook=target / "report.ipynb",
        metrics=target / "metrics.json",
        backend=backend,
        seconds=seconds,
    )


__all__ = ["ConfigError", "RenderResult", "ReportError", "render_report"]
