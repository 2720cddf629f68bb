"""Convert report.qmd (Quarto Markdown with ``{python}`` cells) to a notebook for papermill."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import yaml
from nbformat import NotebookNode

from titanic.errors import ReportError

PARAMETERS_TAG = "parameters"
# The tag of the cell papermill injects after the parameters cell: not one of the report's.
INJECTED_TAG = "injected-parameters"
KERNEL_NAME = "python3"
KERNELSPEC = {"name": KERNEL_NAME, "display_name": "Python 3 (ipykernel)", "language": "python"}
_FENCE_OPEN = re.compile(r"^```\{python\b[^}]*\}\s*$")
_FENCE_CLOSE = re.compile(r"^```\s*$")
_OPTION = re.compile(r"^#\|\s?(.*)$")


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


def _markdown_cell(lines: list[str], line: int) -> NotebookNode | None:
    """Return the prose of ``lines`` (the first on ``line``) as a cell, or None if blank.

    Its ``metadata.titanic.line`` is the line of its first non-blank line in the report, so
    that an inline expression that fails is named by its line.
    """
    text = "\n".join(lines).strip("\n")
    if not text.strip():
        return None
    cell = nbformat.v4.new_markdown_cell(text)
    leading = next(index for index, content in enumerate(lines) if content)
    cell.metadata["titanic"] = {"line": line + leading}
    return cell


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
            _check_front_matter(lines[1:index], origin)
            return lines[: index + 1], index + 1
    raise ReportError(f"{origin}: the front matter opened on line 1 is never closed with ---")


def _check_front_matter(lines: list[str], origin: str) -> None:
    """Parse the front matter now, so that a malformed one fails before any cell runs."""
    try:
        content = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise ReportError(f"{origin}: malformed front matter{line}: {problem}") from err
    if content is not None and not isinstance(content, dict):
        raise ReportError(
            f"{origin}: the front matter must be 'key: value' lines,"
            f" got a {type(content).__name__}"
        )


def qmd_to_notebook(text: str, origin: str = "report.qmd") -> NotebookNode:
    """Convert Quarto Markdown with ``{python}`` cells to a notebook ready for papermill.

    The front matter becomes the first raw cell (where Quarto reads it in a notebook), each
    ``{python}`` block a code cell whose ``#|`` options stay in its source for Quarto and whose
    ``tags`` option is copied into its metadata for papermill, and the text between blocks
    markdown cells. Every code and markdown cell records its first line in the report
    (``metadata.titanic.line``). The kernelspec is set to ``python3``.

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
    prose_from = start + 1
    code: list[str] | None = None
    opened_at = 0
    for number, line in enumerate(lines[start:], start=start + 1):
        if code is None and _FENCE_OPEN.match(line):
            if markdown := _markdown_cell(pending, prose_from):
                cells.append(markdown)
            pending, code, opened_at = [], [], number
        elif code is not None and _FENCE_CLOSE.match(line):
            count = sum(cell.cell_type == "code" for cell in cells) + 1
            cells.append(_code_cell(code, count, opened_at, origin))
            code, prose_from = None, number + 1
        elif code is not None:
            code.append(line)
        else:
            pending.append(line)
    if code is not None:
        raise ReportError(f"{origin}: the code block opened on line {opened_at} is never closed")
    if markdown := _markdown_cell(pending, prose_from):
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


def front_matter(notebook: NotebookNode) -> dict[str, Any]:
    """Return the front matter of a notebook (its first cell, when raw YAML), or ``{}``."""
    first = notebook.cells[0] if notebook.cells else None
    if first is None or first.cell_type != "raw":
        return {}
    loaded = yaml.safe_load(first.source.strip().strip("-")) or {}
    return loaded if isinstance(loaded, dict) else {}


def set_front_matter(notebook: NotebookNode, values: dict[str, Any]) -> None:
    """Replace the notebook's front matter (its first raw cell) with ``values``, in place."""
    text = "---\n" + yaml.safe_dump(values, sort_keys=False, allow_unicode=True) + "---"
    if front_matter(notebook) or (notebook.cells and notebook.cells[0].cell_type == "raw"):
        notebook.cells[0].source = text
    else:
        notebook.cells.insert(0, nbformat.v4.new_raw_cell(text))


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
