"""Inline ``{python}`` expressions in the prose, stored and substituted as Quarto does.

Quarto's Jupyter engine evaluates the expressions of each markdown cell through the kernel's
``user_expressions`` and stores, in the cell's metadata, ``user_expressions``: a list of
``{"expression": ..., "result": <the kernel's reply for it>}``. When it turns a notebook into
Markdown it replaces each expression, line by line, with its value (quarto-cli,
src/core/jupyter/jupyter-inline.ts). The executed notebook carries the same metadata, so that
``quarto render`` substitutes the values itself; :func:`substitute` applies the same rules for
the nbconvert backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from nbformat import NotebookNode

from titanic.report.qmd import INJECTED_TAG

USER_EXPRESSIONS = "user_expressions"
# Quarto's pattern, applied to one line at a time; the expression is trimmed.
_INLINE = re.compile(r"(^|[^`])`\{python\}[ \t]([^`]+)`")
# Which representation of a value is inserted into an HTML page: Quarto's priority.
_HTML_PRIORITY = ("text/html", "text/markdown", "text/plain")
# The characters Quarto escapes in a quoted text/plain value. Its JavaScript class reads
# "+-." as a range, which takes in the comma too.
_ESCAPED = re.compile(r"([\\`*_{}\[\]()>#+,\-.!])")


def inline_expressions(source: str) -> list[tuple[int, str]]:
    """Return the inline expressions of a markdown cell, in order, with their line in it.

    Parameters
    ----------
    source : str
        The cell's Markdown.

    Returns
    -------
    list of (int, str)
        The 0-based line within ``source`` and the trimmed expression, once per occurrence.
    """
    return [
        (number, match.group(2).strip())
        for number, line in enumerate(source.splitlines())
        for match in _INLINE.finditer(line)
    ]


def prose_by_place(cells: Iterable[NotebookNode]) -> list[tuple[int, NotebookNode]]:
    """Return the markdown cells, each with the number of the report's code cells before it.

    Papermill's injected-parameters cell is not one of the report's: an executed notebook and
    its source give every prose cell the same place.
    """
    placed = []
    code_cells = 0
    for cell in cells:
        if cell.cell_type == "code" and INJECTED_TAG not in cell.metadata.get("tags", []):
            code_cells += 1
        elif cell.cell_type == "markdown":
            placed.append((code_cells, cell))
    return placed


def inline_sequence(cells: Iterable[NotebookNode]) -> list[tuple[int, list[str]]]:
    """Return each markdown cell's expressions with the number of code cells before it.

    What the expressions evaluate to depends on the code that ran before them: two notebooks
    with the same code cells and the same sequence give the same values.
    """
    return [
        (place, [expression for _, expression in found])
        for place, cell in prose_by_place(cells)
        if (found := inline_expressions(cell.source))
    ]


def _escaped_markdown(text: str) -> str:
    """Quarto's treatment of a text/plain value: a quoted string loses its quotes, escaped."""
    for quote in ("'", '"'):
        if text.startswith(quote) and text.endswith(quote):
            return _ESCAPED.sub(r"\\\1", text[1:-1].replace("\\", "\\\\"))
    return text


def _as_text(data: str | Sequence[str]) -> str:
    return data if isinstance(data, str) else "".join(map(str, data))


def _html_value(result: Mapping[str, Any]) -> str:
    """Return the Markdown that replaces an expression whose kernel reply is ``result``."""
    data = result.get("data", {})
    mime = next((name for name in _HTML_PRIORITY if name in data), None)
    if mime is None:
        return ""
    text = _as_text(data[mime])
    if mime == "text/html":
        return text  # Quarto inserts `...`{=html}: raw HTML, here in a page of HTML already
    return text if mime == "text/markdown" else _escaped_markdown(text)


def substitute(source: str, user_expressions: Sequence[Mapping[str, Any]]) -> str:
    """Replace the inline expressions of ``source`` by their values, as Quarto does for HTML.

    Parameters
    ----------
    source : str
        A markdown cell's source.
    user_expressions : sequence of mapping
        Its ``metadata.user_expressions``: ``{"expression": ..., "result": ...}`` entries.

    Returns
    -------
    str
        The Markdown with each value in place. An expression without a stored value, or
        whose value is empty, is left as it is, as Quarto leaves it.
    """
    results = {entry["expression"]: entry["result"] for entry in user_expressions}

    def replace(match: re.Match[str]) -> str:
        result = results.get(match.group(2).strip())
        value = _html_value(result) if result else ""
        return match.group(1) + value if value else match.group(0)

    return "".join(_INLINE.sub(replace, line) for line in source.splitlines(keepends=True))
