"""One small report with every Quarto feature the report uses, through both backends.

Inline `{python}` values (a float, a str, a Markdown value) in the prose and in a callout, a
callout, a figure whose caption and alt text are computed, a labelled table, and
cross-references to both: the nbconvert backend always, Quarto when a quarto binary is on PATH.
"""

import html
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from titanic.cli import app
from titanic.errors import ReportError
from titanic.project import Project
from titanic.report.render import RenderRequest, RenderResult, render_report

FEATURES = """---
title: "Features"
---

```{python}
#| tags: [parameters]
resolved_params_file = None
staging_dir = None
```

```{python}
import io
from pathlib import Path

from IPython.display import Markdown, display
from matplotlib.figure import Figure

from titanic.report.figures import figure_markdown

share = 0.7421
verdict = "women survived more often"
headline = Markdown("**74.2%** of women")
figure = Figure(figsize=(3, 2))
figure.add_subplot().bar(["men", "women"], [0.19, 0.74])
png = io.BytesIO()
figure.savefig(png, format="png")
_ = Path(staging_dir, "metrics.json").write_text("{}", encoding="utf-8")
```

The share is `{python} share`; `{python} verdict` (@fig-survival, @tbl-counts).

::: {.callout-tip title="Key finding"}
In this run `{python} headline` survived.

- See @fig-survival.
- Counts in @tbl-counts.
:::

```{python}
caption = f"Survival by sex: {verdict}"
alt = 'Two bars: women "0.74", men "0.19"'
display(Markdown(figure_markdown(png.getvalue(), "fig-survival", caption, alt)))
```

```{python}
#| label: tbl-counts
#| tbl-cap: "Counts by sex."
display(Markdown("| sex | n |\\n|---|--:|\\n| women | 2 |"))
```
"""
SENTENCES = (
    "The share is 0.7421; women survived more often (Figure 1, Table 1).",
    "Key finding",
    "In this run 74.2% of women survived.",
    "See Figure 1.",
    "Counts in Table 1.",
    "Figure 1: Survival by sex: women survived more often",
    "Table 1: Counts by sex.",
)
ALT = 'Two bars: women "0.74", men "0.19"'
runner = CliRunner()


HIDDEN_TAGS = frozenset({"style", "script", "details", "pre", "title"})
HIDDEN_CLASSES = frozenset({"screen-reader-only", "sourceCode", "code-copy-outer-scaffold"})
VOID_TAGS = frozenset({"img", "br", "meta", "link", "input", "hr"})


class VisibleText(HTMLParser):
    """The text a reader sees (code, styles and screen-reader-only text left out), and the
    alt texts of the images."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.alts: list[str] = []
        self.hidden: list[str] = []  # the open tags of the hidden element, outermost first

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "img":
            self.alts.append(values.get("alt") or "")
        classes = set((values.get("class") or "").split())
        hiding = self.hidden or tag in HIDDEN_TAGS or classes & HIDDEN_CLASSES
        if hiding and tag not in VOID_TAGS:
            self.hidden.append(tag)

    def handle_endtag(self, tag):
        if self.hidden and self.hidden[-1] == tag:
            self.hidden.pop()

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)

    @classmethod
    def of(cls, page: Path) -> "VisibleText":
        parser = cls()
        parser.feed(page.read_text(encoding="utf-8"))
        return parser

    @property
    def text(self) -> str:
        return " ".join(html.unescape("".join(self.parts)).replace("\xa0", " ").split())


def without_quarto(monkeypatch: pytest.MonkeyPatch) -> None:
    which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name, *a, **k: None if name == "quarto" else which(name)
    )


def render_features(project: Path, output: Path, formats=("html",)) -> RenderResult:
    request = RenderRequest.resolve(Project.at(project), formats=formats, progress=False)
    return render_report(request, output_dir=output)


@pytest.fixture
def features(project: Path) -> Path:
    """A project whose report.qmd is :data:`FEATURES`."""
    (project / "report.qmd").write_text(FEATURES, encoding="utf-8")
    return project


def assert_every_feature_typeset(result: RenderResult) -> None:
    page = result.html.read_text(encoding="utf-8")
    visible = VisibleText.of(result.html)
    for sentence in SENTENCES:
        assert sentence in visible.text, sentence
    for leftover in ("{python}", ":::", "fig-alt", "@fig-", "@tbl-", "data:image"):
        assert leftover not in visible.text, leftover
    assert visible.alts == [ALT]
    assert re.search(r'class="callout[^"]*\bcallout-tip\b', page)
    for label in ("fig-survival", "tbl-counts"):
        assert re.search(rf'<a href="#{label}"', page) and re.search(rf'id="{label}"', page)


def test_the_nbconvert_backend_typesets_every_feature(features, tmp_path, monkeypatch):
    without_quarto(monkeypatch)
    result = render_features(features, tmp_path / "out")
    assert result.backend == "nbconvert"
    assert_every_feature_typeset(result)


@pytest.mark.slow
@pytest.mark.quarto
@pytest.mark.skipif(shutil.which("quarto") is None, reason="needs a quarto binary on PATH")
def test_quarto_typesets_every_feature_from_the_same_notebook(features, tmp_path):
    result = render_features(features, tmp_path / "out")
    assert result.backend == "quarto"
    assert_every_feature_typeset(result)


def test_a_prose_edit_keeps_the_values_and_an_edited_expression_re_executes(
    features, tmp_path, monkeypatch
):
    without_quarto(monkeypatch)
    output = tmp_path / "out"
    assert render_features(features, output).executed
    report = features / "report.qmd"
    report.write_text(
        report.read_text(encoding="utf-8").replace("The share is", "Overall, the share is"),
        encoding="utf-8",
    )
    reused = render_features(features, output)
    assert not reused.executed
    text = VisibleText.of(reused.html).text
    assert "Overall, the share is 0.7421; women survived more often" in text
    assert "In this run 74.2% of women survived." in text
    report.write_text(
        report.read_text(encoding="utf-8").replace("{python} share`", "{python} share * 100`"),
        encoding="utf-8",
    )
    edited = render_features(features, output)
    assert edited.executed and edited.reason == "inline changed"
    assert "Overall, the share is 74.21; women" in VisibleText.of(edited.html).text


def test_a_failing_expression_stops_the_render_naming_its_line(features, tmp_path, monkeypatch):
    without_quarto(monkeypatch)
    output = features / "_output"
    render_features(features, output)
    previous = {path: path.read_bytes() for path in output.rglob("*") if path.is_file()}
    report = features / "report.qmd"
    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace("`{python} headline`", "`{python} head_line`"), "utf-8")
    result = runner.invoke(app, ["render", "--to", "html"])
    assert result.exit_code == 1
    line = text[: text.index("{python} headline")].count("\n") + 1
    assert result.stderr == (
        f"error: report.qmd: inline expression on line {line} failed: `head_line`:"
        " NameError: name 'head_line' is not defined\n"
    )
    assert {path: path.read_bytes() for path in output.rglob("*") if path.is_file()} == previous
    with pytest.raises(ReportError, match="inline expression on line"):
        render_features(features, tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere" / "report.html").exists()
