"""Inline `{python}` expressions: found, located and substituted as Quarto does (report.inline)."""

import pytest

from titanic.report.inline import inline_expressions, inline_sequence, substitute
from titanic.report.qmd import qmd_to_notebook


def stored(expression: str, **data: str) -> dict:
    """A ``metadata.user_expressions`` entry as the kernel's reply gives it."""
    mimes = {name.replace("_", "/"): value for name, value in data.items()}
    return {"expression": expression, "result": {"status": "ok", "data": mimes, "metadata": {}}}


def test_expressions_are_found_per_line_trimmed_and_in_order():
    source = "A `{python} a + 1 ` and `{python}\tb`.\n``{python} not_me`` x\n`{python} a + 1`"
    assert inline_expressions(source) == [(0, "a + 1"), (0, "b"), (2, "a + 1")]
    assert inline_expressions("`{r} x` and `{python}x` and `python y`") == []


def test_the_sequence_places_each_cell_s_expressions_after_the_code_before_it():
    notebook = qmd_to_notebook(
        "Intro `{python} early`.\n\n```{python}\n#| tags: [parameters]\nx = 1\n```\n\n"
        "No value here.\n\n```{python}\ny = 2\n```\n\nThen `{python} x` and `{python} y`.\n"
    )
    assert inline_sequence(notebook.cells) == [(0, ["early"]), (2, ["x", "y"])]


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"text_plain": "0.7421"}, "0.7421"),
        # A str: quotes dropped, Markdown escaped (Quarto's class takes in the comma too).
        ({"text_plain": "'a *b*, [c] #1'"}, r"a \*b\*\, \[c\] \#1"),
        ({"text_plain": '"it\'s"'}, "it's"),
        # Backslashes doubled, then escaped: Quarto turns each into four.
        ({"text_plain": "'C:\\\\x'"}, r"C:\\\\\\\\x"),
        ({"text_plain": "'x+y-z.w!'"}, r"x\+y\-z\.w\!"),
        # Markdown wins over plain text, HTML over both.
        ({"text_markdown": "**74%**", "text_plain": "<Markdown>"}, "**74%**"),
        ({"text_html": "<b>1</b>", "text_markdown": "**1**", "text_plain": "1"}, "<b>1</b>"),
    ],
)
def test_values_are_substituted_with_quarto_s_rules(result, expected):
    source = "Value: `{python} v`.\n"
    assert substitute(source, [stored("v", **result)]) == f"Value: {expected}.\n"


def test_an_unknown_or_empty_value_is_left_as_quarto_leaves_it():
    source = "`{python} unknown` and `{python} empty`, at the start of a line"
    assert substitute(source, [stored("empty", text_plain="''")]) == source


def test_every_occurrence_on_every_line_is_substituted():
    source = "`{python} n` first\nthen `{python} n` and `{python} m`\n"
    values = [stored("n", text_plain="1"), stored("m", text_plain="2")]
    assert substitute(source, values) == "1 first\nthen 1 and 2\n"


def test_markdown_cells_record_their_first_line_in_the_report():
    notebook = qmd_to_notebook(
        '---\ntitle: "t"\n---\n\n\nIntro\n\n```{python}\n#| tags: [parameters]\nx = 1\n```'
        "\n\n\nText `{python} x`\nmore\n"
    )
    prose = [
        cell.metadata["titanic"]["line"] for cell in notebook.cells if cell.cell_type == "markdown"
    ]
    assert prose == [6, 14]
