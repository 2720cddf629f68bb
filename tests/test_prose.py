"""Callouts and other fenced divs in the nbconvert backend's page (report.prose)."""

import re

import pytest

from titanic.report.html import export_html
from titanic.report.qmd import qmd_to_notebook

PARAMETERS = "```{python}\n#| tags: [parameters]\nx = 1\n```\n\n"


def page(prose: str) -> str:
    """The body of the page of a report made of a parameters cell and ``prose``."""
    html = export_html(qmd_to_notebook(PARAMETERS + prose))
    return html[html.index("<main>") : html.index("</main>")]


def callouts(html: str) -> list[tuple[str, str, str]]:
    """Each callout's kind, title and body, tags stripped from the body, spaces collapsed."""
    found = re.findall(
        r'<div class="callout callout-(\w+)"[^>]*>\s*<div class="callout-title">(.*?)</div>\s*'
        r'<div class="callout-body">(.*?)</div>\s*</div>',
        html,
        flags=re.DOTALL,
    )
    return [
        (kind, title, " ".join(re.sub(r"<[^>]+>", " ", body).split()))
        for kind, title, body in found
    ]


@pytest.mark.parametrize("kind", ["note", "tip", "warning", "important", "caution"])
def test_each_kind_of_callout_is_a_box_titled_by_its_kind_by_default(kind):
    html = page(f"::: {{.callout-{kind}}}\nMind the *gap*.\n:::\n")
    assert callouts(html) == [(kind, kind.capitalize(), "Mind the gap .")]
    assert "<em>gap</em>" in html and ":::" not in html


def test_a_callout_keeps_its_title_paragraphs_lists_and_references():
    html = page(
        'Before.\n\n::: {.callout-important title="Read *this* first"}\nOne.\n\nTwo, see @fig-a.'
        "\n\n- a point\n- another\n:::\n\nAfter.\n\n"
        '```{python}\n#| label: fig-a\n#| fig-cap: "A."\nplot()\n```\n'
    )
    assert callouts(html) == [
        ("important", "Read <em>this</em> first", "One. Two, see Figure 1 . a point another")
    ]
    assert re.search(r"<p>Two, see <a href=\"#fig-a\">Figure 1</a>.</p>\s*<ul>", html)
    assert html.index("Before.") < html.index("callout-important") < html.index("After.")


def test_no_fence_leaks_whatever_the_divs():
    html = page(
        "::: {#aside .column-margin}\nIn the margin.\n:::\n\n"
        "::: {.callout-note}\nOuter.\n\n::: {.callout-tip}\nInner.\n:::\n:::\n\n"
        "Stray closing fence:\n\n:::\n\n::: {.callout-warning}\nNever closed.\n"
    )
    assert ":::" not in html
    assert re.search(
        r'<div class="column-margin" id="aside">\s*<p>In the margin.</p>\s*</div>', html
    )
    prose = html[html.index("callout-note") - len('<div class="') :]
    structure = [" ".join(token.split()) for token in re.findall(
        r'callout callout-\w+|<p>\w+|</div>\s*</div>', prose)]  # fmt: skip
    assert structure == [
        "callout callout-note", "<p>Outer", "callout callout-tip", "<p>Inner",
        "</div> </div>", "</div> </div>",  # the tip's box closed, then the note's
        "<p>Stray", "callout callout-warning", "<p>Never", "</div> </div>",
    ]  # fmt: skip
    assert html.count("<div") == html.count("</div>")


def test_a_fence_inside_a_code_block_stays_code():
    html = page("```text\n::: {.callout-note}\n```\n")
    prose = html[html.index('<div class="text">') :]
    assert re.fullmatch(
        r'<div class="text">\s*<div class="highlight"><pre><span></span>'
        r"::: \{\.callout-note\}\s*</pre></div>\s*</div>\s*",
        prose,
    )
