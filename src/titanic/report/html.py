"""The fallback HTML: Quarto's cell options applied for nbconvert, one self-contained page."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from nbformat import NotebookNode
from pygments.formatters.html import HtmlFormatter

from titanic.report.figures import ComputedFigure, parse_figure_markdown
from titanic.report.inline import USER_EXPRESSIONS, substitute
from titanic.report.prose import inline_html, render_fenced_divs
from titanic.report.qmd import INJECTED_TAG, front_matter, qmd_to_notebook, split_options

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "titanic_report"
_CROSS_REFERENCE = re.compile(r"@((?:fig|tbl)-[A-Za-z0-9_-]+)")
# A report in miniature for :func:`warm_up`: prose, a captioned figure and a table.
_SAMPLE_REPORT = (
    '---\ntitle: "Sample"\n---\n\n```{python}\n#| tags: [parameters]\nx = 1\n```\n\n'
    "See @fig-one: *a* & `b < c`.\n\n## Part\n\n"
    '```{python}\n#| label: fig-one\n#| fig-cap: "One pixel."\nshow(x)\n```\n'
)
_PNG_1PX_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
    "AAAABJRU5ErkJggg=="
)


def _computed_figure(output: NotebookNode) -> ComputedFigure | None:
    """Return the figure a Markdown output describes (:mod:`titanic.report.figures`), if any."""
    markdown = output.get("data", {}).get("text/markdown")
    return parse_figure_markdown(markdown) if isinstance(markdown, str) else None


def _numbering(cells: Sequence[NotebookNode]) -> dict[str, str]:
    """Return "Figure N" or "Table N" by label, in document order (computed figures too)."""
    names: dict[str, str] = {}
    counts = {"fig": 0, "tbl": 0}
    for cell in cells:
        if cell.cell_type != "code":
            continue
        labels = [str(split_options(cell.source)[0].get("label", ""))]
        labels += [
            figure.label for o in cell.get("outputs", []) if (figure := _computed_figure(o))
        ]
        for label in labels:
            kind = label.split("-", 1)[0]
            if kind in counts and label not in names:
                counts[kind] += 1
                names[label] = f"{'Figure' if kind == 'fig' else 'Table'} {counts[kind]}"
    return names


def _prose_html(cell: NotebookNode, names: dict[str, str]) -> str:
    """Return a markdown cell's Markdown for nbconvert: values in, references linked, divs."""
    source = substitute(cell.source, cell.metadata.get(USER_EXPRESSIONS, []))
    return render_fenced_divs(_link_references(source, names))


def _prepare_output(output: NotebookNode, names: dict[str, str]) -> None:
    """Link a Markdown output's references; describe a computed figure for the template."""
    if "text/markdown" not in output.get("data", {}):
        return
    if figure := _computed_figure(output):
        output.metadata["titanic_figure"] = {
            "label": figure.label,
            "number": names[figure.label],
            "caption_html": inline_html(_link_references(figure.caption, names)),
            "alt": figure.alt,
            "png": figure.png_base64,
        }
    output.data["text/markdown"] = _link_references(output.data["text/markdown"], names)


def _link_references(text: str, names: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        label = match.group(1)
        return f"[{names[label]}](#{label})" if label in names else match.group(0)

    return _CROSS_REFERENCE.sub(replace, text)


def prepare_for_html(notebook: NotebookNode) -> tuple[NotebookNode, dict[str, Any]]:
    """Apply Quarto's cell options for nbconvert: hide, fold, caption, number, cross-reference.

    Also what Quarto does with the prose and outputs: inline values substituted, fenced divs
    and callouts turned into HTML, computed figures (:mod:`titanic.report.figures`) numbered.

    Returns a copy of the notebook whose code cells carry a ``report`` metadata entry read by
    the template (and computed figures' outputs a ``titanic_figure`` one), and the front
    matter (title, subtitle, date).
    """
    copy = nbformat.from_dict(notebook)
    names = _numbering(copy.cells)
    cells = []
    for cell in copy.cells:
        if cell.cell_type == "markdown":
            cell.source = _prose_html(cell, names)
        elif cell.cell_type == "code":
            options, code = split_options(cell.source)
            if options.get("include") is False:
                continue
            label = str(options.get("label", ""))
            injected = INJECTED_TAG in cell.metadata.get("tags", [])
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
                _prepare_output(output, names)
                outputs.append(output)
            cell.outputs = outputs
        cells.append(cell)
    copy.cells = cells
    front = front_matter(copy)
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
    resources = {
        "report": {
            "title": str(front.get("title", "Report")),
            "subtitle": str(front.get("subtitle", "")),
            "date": str(front.get("date", "")),
            "pygments_css": HtmlFormatter(style="friendly").get_style_defs(".highlight"),
        }
    }
    html, _ = _exporter().from_notebook_node(prepared, resources=resources)
    return html.replace("<!--toc-->", _table_of_contents(html), 1)


@functools.cache
def _exporter() -> HTMLExporter:
    """Return the process's one exporter: it compiles its templates once, on first use."""
    return HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def warm_up() -> None:
    """Export a sample report, so that the next export finds everything loaded and compiled.

    A process's first export spends half a second compiling the templates and loading the
    Markdown and code highlighters; a sweep's forkserver does it once for all its workers.
    """
    sample = qmd_to_notebook(_SAMPLE_REPORT)
    # The code highlighter that ipykernel names in an executed notebook's metadata.
    sample.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    sample.cells[-1].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="printed\n"),
        nbformat.v4.new_output(
            "display_data", data={"text/markdown": "| a |\n|--:|\n| *1* |", "text/plain": "1"}
        ),
        nbformat.v4.new_output(
            "display_data", data={"image/png": _PNG_1PX_BASE64, "text/plain": "."}
        ),
    ]
    export_html(sample)
