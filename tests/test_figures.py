"""Figures with computed captions and alt texts: report.figures and their numbering in the page."""

import base64
import re

import nbformat
import pytest

from titanic.report.figures import figure_markdown, parse_figure_markdown
from titanic.report.html import export_html
from titanic.report.qmd import qmd_to_notebook

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PNG_BASE64 = base64.b64encode(PNG).decode()


def test_the_markdown_has_quarto_s_figure_form():
    markdown = figure_markdown(PNG, "fig-sex", "Women *survived* more", "Two bars")
    assert markdown == (
        f"![Women *survived* more](data:image/png;base64,{PNG_BASE64})"
        '{#fig-sex fig-alt="Two bars"}'
    )


def test_quotes_backslashes_brackets_and_line_breaks_cannot_break_the_form():
    markdown = figure_markdown(
        PNG, "fig-a_1", "A [draft]\n\ncaption \\[kept\\] ending in \\", 'Say "hi" \\ bye\n'
    )
    assert markdown.startswith(r"![A \[draft\] caption \[kept\] ending in \\](data:")
    assert markdown.endswith(r'{#fig-a_1 fig-alt="Say \"hi\" \\ bye"}')
    figure = parse_figure_markdown(markdown)
    assert figure is not None
    assert (figure.label, figure.alt, figure.png_base64) == (
        "fig-a_1",
        'Say "hi" \\ bye',
        PNG_BASE64,
    )


@pytest.mark.parametrize("label", ["sex", "fig-", "tbl-sex", "fig-a b", "fig-a}"])
def test_a_label_that_is_not_fig_name_is_refused(label):
    with pytest.raises(ValueError, match="fig-<name>"):
        figure_markdown(PNG, label, "c", "a")


def test_other_markdown_is_no_figure():
    assert parse_figure_markdown("| a |\n|---|\n| 1 |") is None
    assert parse_figure_markdown(f"![c](data:image/png;base64,{PNG_BASE64})") is None
    assert parse_figure_markdown(figure_markdown(PNG, "fig-a", "c", "a") + " and text") is None


def test_computed_figures_are_numbered_with_the_labelled_ones_in_document_order():
    notebook = qmd_to_notebook(
        "```{python}\n#| tags: [parameters]\nx = 1\n```\n\n"
        "See @fig-computed, @fig-labelled, @tbl-table and @fig-last.\n\n"
        '```{python}\n#| label: fig-labelled\n#| fig-cap: "Labelled."\nplot()\n```\n\n'
        "```{python}\nshow_computed()\n```\n\n"
        '```{python}\n#| label: tbl-table\n#| tbl-cap: "Table."\ntable()\n```\n\n'
        "```{python}\nshow_last()\n```\n"
    )
    labelled, computed, table, last = notebook.cells[-4:]
    labelled.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG_BASE64})]
    table.outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": "| a |\n|-|\n"})
    ]
    for cell, label, caption in ((computed, "fig-computed", "With *emphasis*, see @tbl-table"),
                                 (last, "fig-last", "Last")):  # fmt: skip
        markdown = figure_markdown(PNG, label, caption, f"Alt of {label} <&>")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": markdown})]
    html = export_html(notebook)
    assert re.findall(r'<a href="#([\w-]+)">([^<]+)</a>', html)[:4] == [
        ("fig-computed", "Figure 2"),
        ("fig-labelled", "Figure 1"),
        ("tbl-table", "Table 1"),
        ("fig-last", "Figure 3"),
    ]
    assert (
        "<figcaption>Figure 2: With <em>emphasis</em>, see"
        ' <a href="#tbl-table">Table 1</a></figcaption>'
    ) in html
    assert "<figcaption>Figure 3: Last</figcaption>" in html
    assert re.search(r'<figure class="figure" id="fig-computed">\s*<img ', html)
    images = re.findall(r"<img [^>]*>", html)
    assert len(images) == 3 and 'alt="Alt of fig-last &lt;&amp;&gt;"' in images[2]
    assert "fig-alt" not in html and "![" not in html
