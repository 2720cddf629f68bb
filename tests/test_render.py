"""report.qmd -> notebook -> papermill -> nbconvert/Chromium (or quarto): titanic.report.render."""

import base64
import json
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from urllib.parse import unquote

import jinja2
import nbformat
import papermill
import pytest
from typer.testing import CliRunner

from titanic.cli import app
from titanic.config import read_resolved_settings, report_settings
from titanic.errors import ConfigError, ReportError
from titanic.io.memo import CACHE_DIRNAME
from titanic.project import Project
from titanic.report import html as report_html
from titanic.report import render
from titanic.report.figures import parse_figure_markdown
from titanic.report.html import export_html, prepare_for_html
from titanic.report.qmd import qmd_to_notebook, split_options
from titanic.report.quarto import typeset_quarto
from titanic.report.render import RenderRequest, RenderResult, render_report

from .conftest import (
    REPO_ROOT,
    TINY_MODEL,
    count_validations,
    counting_report_project,
    write_params,
)

REPORT = REPO_ROOT / "report.qmd"
PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
    "AAAABJRU5ErkJggg=="
)
runner = CliRunner()


def figure_labels(text: str) -> list[str]:
    """The figures of a report: labelled cells, and figures with computed captions."""
    labelled = re.findall(r"^#\| label: (fig-[\w-]+)$", text, flags=re.MULTILINE)
    return labelled + re.findall(r'^show\.figure\([^\n]*"(fig-[\w-]+)"', text, flags=re.MULTILINE)


def parameters_cells(notebook) -> list[int]:
    return [
        index
        for index, cell in enumerate(notebook.cells)
        if "parameters" in cell.metadata.get("tags", [])
    ]


# --- conversion, without a kernel ----------------------------------------------------------


def test_report_converts_with_one_parameters_cell_and_a_python_kernel():
    text = REPORT.read_text(encoding="utf-8")
    notebook = qmd_to_notebook(text)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code) == text.count("```{python}")
    assert len(parameters_cells(notebook)) == 1
    assert notebook.metadata.kernelspec.name == "python3"
    assert notebook.cells[0].cell_type == "raw"
    assert notebook.cells[0].source.startswith("---\ntitle:")
    # The parameters cell holds literal assignments only, None meaning "params.yaml's value".
    _, parameters = split_options(notebook.cells[parameters_cells(notebook)[0]].source)
    assignments = [line for line in parameters.splitlines() if line and not line.startswith("#")]
    assert all(re.fullmatch(r"\w+ = (None|\[\]|\"[^\"]*\")", line) for line in assignments)


def test_papermill_injects_right_after_the_parameters_cell(tmp_path):
    source = tmp_path / "report.ipynb"
    nbformat.write(qmd_to_notebook(REPORT.read_text(encoding="utf-8")), source)
    notebook = papermill.iorw.load_notebook_node(str(source))  # as execute_notebook does
    injected = papermill.parameterize.parameterize_notebook(
        notebook, {"resolved_params_file": "/staging/params.resolved.yaml"}, kernel_name="python3"
    )
    index = parameters_cells(injected)[0]
    assert "injected-parameters" in injected.cells[index + 1].metadata.tags
    assert "/staging/params.resolved.yaml" in injected.cells[index + 1].source
    again = papermill.parameterize.parameterize_notebook(injected, {"staging_dir": "/staging"})
    assert sum("injected-parameters" in c.metadata.get("tags", []) for c in again.cells) == 1


def test_cell_options_and_line_numbers_are_kept():
    notebook = qmd_to_notebook(
        "Intro\n\n```{python}\n#| tags: [parameters]\nx = 1\n```\n\ntext\n\n"
        '```{python}\n#| label: fig-a\n#| fig-cap: "A: b"\ny = 2\n```\n'
    )
    first, second = (cell for cell in notebook.cells if cell.cell_type == "code")
    assert first.metadata.tags == ["parameters"]
    assert second.metadata.titanic == {"cell": 2, "line": 10}
    assert split_options(second.source) == ({"label": "fig-a", "fig-cap": "A: b"}, "y = 2")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("```{python}\nx = 1\n```\n", "exactly one cell tagged 'parameters'"),
        (
            "```{python}\n#| tags: [parameters]\n```\n```{python}\n#| tags: [parameters]\n```\n",
            "found 2",
        ),
        ("```{python}\n#| tags: [parameters]\nx = 1\n", "opened on line 1 is never closed"),
        ("---\ntitle: x\n", "front matter"),
        ("```{python}\n#| tags: [parameters\n```\n", "cell 1 (line 1)"),
    ],
)
def test_malformed_reports_are_refused(text, fragment):
    with pytest.raises(ReportError, match=re.escape(fragment)):
        qmd_to_notebook(text)


def executed_stub() -> nbformat.NotebookNode:
    """A small 'executed' notebook: front matter, a hidden cell, a figure, a table, prose."""
    notebook = qmd_to_notebook(
        '---\ntitle: "Stub report"\n---\n\n```{python}\n#| tags: [parameters]\nx = 1\n```\n\n'
        "See @fig-one and @tbl-one.\n\n"
        "```{python}\n#| include: false\nsecret_setup()\n```\n\n"
        '```{python}\n#| label: fig-one\n#| fig-cap: "One pixel."\n#| fig-alt: "A dot."\n'
        "show_figure()\n```\n\n"
        '```{python}\n#| label: tbl-one\n#| tbl-cap: "A table."\n#| echo: false\n'
        "show_table()\n```\n"
    )
    figure, table = notebook.cells[-2], notebook.cells[-1]
    figure.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": PNG_1PX, "text/plain": "f"})
    ]
    table.outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": "| a |\n|---|\n| 1 |\n"}),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: noise\n"),
    ]
    return notebook


def test_quarto_options_are_honoured_in_the_html():
    prepared, front = prepare_for_html(executed_stub())
    assert front["title"] == "Stub report"
    assert not any("secret_setup" in cell.source for cell in prepared.cells)
    html = export_html(executed_stub())
    assert "secret_setup" not in html
    assert "#|" not in html
    assert re.search(r'<figure class="cell figure" id="fig-one">', html)
    assert "Figure 1: One pixel." in html
    assert "Table 1: A table." in html
    assert 'href="#fig-one">Figure 1</a>' in html and 'href="#tbl-one">Table 1</a>' in html
    (image,) = re.findall(r"<img [^>]*>", html)
    assert f'src="data:image/png;base64,{PNG_1PX}"' in image and 'alt="A dot."' in image
    assert "show_table" not in html  # echo: false
    assert '<details class="code">' in html and "show_figure" in html  # folded code
    assert "UserWarning" not in html  # warning: false
    assert re.search(r"<td[^>]*>1</td>", html)


def test_one_exporter_gives_each_page_as_a_fresh_one_would():
    stub = executed_stub()
    other = qmd_to_notebook(
        '---\ntitle: "Other"\n---\n\n```{python}\n#| tags: [parameters]\nx = 2\n```\n\n'
        'See @tbl-two.\n\n```{python}\n#| label: tbl-two\n#| tbl-cap: "Two."\nx\n```\n'
    )
    first = export_html(stub)
    assert "Table 1: Two." in export_html(other)
    assert export_html(stub) == first


def test_after_the_warm_up_an_export_compiles_no_template(monkeypatch):
    report_html._exporter.cache_clear()  # pylint: disable=protected-access  # as a new process
    report_html.warm_up()
    compiled = []
    compile_template = jinja2.Environment.compile

    def recording(environment, source, name=None, *args, **kwargs):
        compiled.append(name)
        return compile_template(environment, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", recording)
    assert "Figure 1: One pixel." in export_html(executed_stub())
    assert compiled == []


needs_quarto = pytest.mark.skipif(
    shutil.which("quarto") is None, reason="needs a quarto binary on PATH"
)


def typeset_stub(folder: Path, formats: tuple[str, ...]) -> Path:
    """Typeset the stub with the quarto backend in ``folder``, as render_report's staging."""
    folder.mkdir(parents=True)
    executed = folder / "report.ipynb"
    nbformat.write(executed_stub(), executed)
    typeset_quarto(executed, formats, REPO_ROOT / "_quarto.yml")
    return executed


@pytest.mark.quarto
@needs_quarto
def test_quarto_backend_writes_one_self_contained_page_from_a_hidden_staging_folder(tmp_path):
    # render_report's staging folder is hidden (.render-*), like this one.
    executed = typeset_stub(tmp_path / ".render-stub", ("html",))
    visible = [path.name for path in executed.parent.iterdir() if not path.name.startswith(".")]
    assert sorted(visible) == ["report.html", "report.ipynb"]  # what publish() would move
    html = executed.with_suffix(".html").read_text(encoding="utf-8")
    assert "report_files" not in html
    assert f"data:image/png;base64,{PNG_1PX}" in html
    assert '<details class="code-fold">' in html  # _quarto.yml's code-fold applied
    assert "report.pdf" not in html  # no link to a format that was not asked for
    assert_fetches_nothing(html)


def assert_fetches_nothing(html: str) -> None:
    """No link, script, image or CSS import from the network; system fonts, no web font."""
    page = unquote(html)  # embedded style sheets are percent-encoded data: URIs
    assert not re.search(r"""<(link|script|img)[^>]+(src|href)=["']?(https?:)?//""", page)
    assert not re.search(r"""(@import\s+(url\()?|url\()\s*["']?(https?:)?//""", page)
    assert "Source Sans Pro" not in page and "googleapis" not in page
    assert re.search(r"font-family:\s*system-ui", page)


# --- validation before execution -----------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("model.n_trees=5", "model.n_trees: unknown key"),
        ("model.n_estimators=many", "model.n_estimators: Input should be a valid integer"),
        ("split.test_size=2", "split.test_size"),
    ],
)
def test_bad_parameters_fail_before_execution_naming_the_key(project, override, fragment):
    output = project / "out"
    result = runner.invoke(app, ["render", "-P", override, "--output-dir", str(output)])
    assert result.exit_code == 1
    assert fragment in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert not output.exists()  # nothing started, nothing written


def test_missing_report_and_unknown_format_are_report_errors(project):
    with pytest.raises(ReportError, match="report not found"):
        render_report(
            RenderRequest.resolve(Project.at(Path.cwd()), report=project / "missing.qmd"),
            output_dir=project / "out",
        )
    with pytest.raises(ReportError, match="unknown output format"):
        render_report(
            RenderRequest.resolve(Project.at(Path.cwd()), formats=("docx",), report=REPORT),
            output_dir=project / "out",
        )
    assert not (project / "out").exists()


def test_a_shortcut_of_the_wrong_type_is_refused_like_an_override(project):
    with pytest.raises(ConfigError) as caught:
        report_settings("params.yaml", n_estimators="many")
    assert caught.value.keys == ("model.n_estimators",)


# --- end to end, without quarto ------------------------------------------------------------

RENDER_PARAMS = {
    **TINY_MODEL,
    "model": {"n_estimators": 12, "max_depth": 4},
    "selection": {"enabled": True, "n_estimators": 5},
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Render HTML and PDF once, in a copy of this project whose params.yaml sets 12 trees."""
    root = tmp_path_factory.mktemp("project")
    write_params(root, **RENDER_PARAMS)
    for name in ("report.qmd", "_quarto.yml", "report.scss"):
        shutil.copyfile(REPO_ROOT / name, root / name)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setattr(shutil, "which", _without_quarto(shutil.which))
        result = render_report(RenderRequest.resolve(Project.at(Path.cwd()), progress=False))
    return root, result


def _without_quarto(which):
    return lambda name, *args, **kwargs: None if name == "quarto" else which(name, *args, **kwargs)


@pytest.mark.slow
def test_render_writes_report_pdf_notebook_and_metrics(rendered):
    root, result = rendered
    assert result.backend == "nbconvert"
    assert result.html == root / "_output" / "report.html"
    for path in (result.html, result.pdf, result.notebook, result.metrics):
        assert path.stat().st_size > 0, path
    assert result.pdf.read_bytes().startswith(b"%PDF")
    assert not list((root / "_output").glob(".render-*"))  # staging folder removed


@pytest.mark.slow
def test_params_yaml_values_are_used_without_overrides(rendered):
    _, result = rendered
    document = json.loads(result.metrics.read_text())
    assert document["parameters"]["model"]["n_estimators"] == 12
    html = result.html.read_text(encoding="utf-8")
    assert re.search(r"model\.n_estimators</td>\s*<td[^>]*>12</td>", html)
    accuracy = document["metrics"]["validation"]["accuracy"]
    assert f"<strong>{accuracy:.1%}</strong>" in html


@pytest.mark.slow
def test_the_nested_estimate_reaches_the_report(rendered):
    _, result = rendered
    nested = json.loads(result.metrics.read_text())["metrics"]["nested_cross_validation"]
    assert nested["n_estimators"] == 5 and len(nested["folds"]) == 2
    html = result.html.read_text(encoding="utf-8")
    expected = nested["accuracy"]["mean"]
    assert f"<strong>Accuracy to expect on 418 new passengers: {expected:.1%}, between" in html


@pytest.mark.slow
def test_html_is_self_contained_with_every_figure_inline(rendered):
    _, result = rendered
    html = result.html.read_text(encoding="utf-8")
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", html)
    assert "<script" not in html
    images = re.findall(r"<img [^>]*>", html)
    assert len(images) == len(figure_labels(REPORT.read_text(encoding="utf-8"))) == 12
    for image in images:
        payload = re.search(r'src="data:image/png;base64,([^"]+)"', image).group(1)
        assert base64.b64decode(payload).startswith(b"\x89PNG")
        assert re.search(r'alt="[^"]{20,}"', image)
    assert "#|" not in html and "--- title:" not in html
    assert html.count("<figcaption>Figure ") == 12


class RecordingTypesetter:
    """A typesetter that writes a one-line page and remembers what it typeset."""

    name = "recording"

    def __init__(self):
        self.typeset_notebooks = []

    def typeset(self, executed, formats):
        self.typeset_notebooks.append(executed.name)
        executed.with_suffix(".html").write_text("<html></html>", encoding="utf-8")


def test_a_render_loads_its_report_and_chooses_its_backend_once(project, monkeypatch):
    shutil.copyfile(REPORT, project / "report.qmd")
    request = RenderRequest.resolve(
        Project.at(project), ("model.n_estimators=7",), formats=("html",), progress=False
    )
    loads, chosen, handed = [], [], []
    load_report = render.load_report
    monkeypatch.setattr(
        render, "load_report", lambda path: loads.append(path) or load_report(path)
    )
    typesetter = RecordingTypesetter()
    monkeypatch.setattr(
        render, "choose_typesetter", lambda formats, config: chosen.append(formats) or typesetter
    )

    def execute(notebook, staging, parameters, *args):
        # The resolved parameters are in the staging folder before the kernel starts.
        handed.append(read_resolved_settings(parameters["resolved_params_file"]))
        assert parameters["staging_dir"] == str(staging)
        nbformat.write(notebook, staging / "report.ipynb")
        (staging / "metrics.json").write_text("{}", encoding="utf-8")
        return staging / "report.ipynb"

    monkeypatch.setattr(render, "execute_report", execute)
    result = render_report(request, output_dir=project / "out")
    assert (len(loads), chosen, typesetter.typeset_notebooks) == (1, [("html",)], ["report.ipynb"])
    assert result.backend == "recording"
    assert handed == [request.settings] and handed[0].model.n_estimators == 7


def test_no_thread_of_the_render_imports_beside_papermill(project, monkeypatch):
    # Two threads importing the same packages at once failed a render now and then
    # (KeyError: 'IPython' in the import system).
    shutil.copyfile(REPORT, project / "report.qmd")
    monkeypatch.setattr(shutil, "which", _without_quarto(shutil.which))
    counts = []

    def execute(*args, **kwargs):
        counts.append(threading.active_count())
        raise ReportError("stopped before the kernel")

    monkeypatch.setattr(render, "execute_report", execute)
    before = threading.active_count()
    request = RenderRequest.resolve(Project.at(project), formats=("html",), progress=False)
    with pytest.raises(ReportError, match="stopped before the kernel"):
        render.render_into(request, project / "staging")
    assert counts == [before]


@pytest.mark.slow
def test_the_figures_saved_beside_the_report_are_those_it_shows(rendered):
    _, result = rendered
    notebook = nbformat.read(result.notebook, as_version=4)
    figures_shown = [
        parse_figure_markdown(output.data["text/markdown"])
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "text/markdown" in output.get("data", {})
    ]
    shown = {
        figure.label: base64.b64decode(figure.png_base64) for figure in figures_shown if figure
    }
    figures = result.metrics.parent / "figures"
    for label, name in [
        ("fig-confusion", "confusion_matrix"),
        ("fig-roc", "roc_curve"),
        ("fig-importance", "permutation_importance"),
    ]:
        assert (figures / f"{name}.png").read_bytes() == shown[label], name


@pytest.mark.slow
def test_executed_notebook_has_the_injected_cell_after_the_parameters_cell(rendered):
    _, result = rendered
    notebook = nbformat.read(result.notebook, as_version=4)
    (index,) = parameters_cells(notebook)
    assert notebook.cells[index + 1].metadata.tags == ["injected-parameters"]
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code)
    parameters = notebook.metadata.papermill.parameters
    assert set(parameters) == {"resolved_params_file", "staging_dir"}


@pytest.mark.slow
def test_override_changes_the_numbers_in_report_and_metrics(rendered):
    root, first = rendered
    before = json.loads(first.metrics.read_text())
    output = root / "override"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setattr(shutil, "which", _without_quarto(shutil.which))
        result = runner.invoke(
            app,
            ["render", "-P", "model.n_estimators=3", "-P", "model.max_depth=2", "--to", "html",
             "--output-dir", str(output)],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "nbconvert backend" in result.stdout
    after = json.loads((output / "metrics.json").read_text())
    assert after["parameters"]["model"]["n_estimators"] == 3
    assert after["metrics"]["validation"]["roc_auc"] != before["metrics"]["validation"]["roc_auc"]
    html = (output / "report.html").read_text(encoding="utf-8")
    assert re.search(r"model\.n_estimators</td>\s*<td[^>]*>3</td>", html)
    assert f"<strong>{after['metrics']['validation']['roc_auc']:.3f}</strong>" in html
    assert not (output / "report.pdf").exists()


@pytest.mark.slow
def test_a_failing_cell_is_named_and_the_previous_report_stays(rendered, tmp_path):
    root, first = rendered
    broken = tmp_path / "broken.qmd"
    text = REPORT.read_text(encoding="utf-8")
    marker = "## Context and data"
    broken.write_text(
        text.replace(marker, '```{python}\nraise ValueError("on purpose")\n```\n\n' + marker, 1),
        encoding="utf-8",
    )
    previous = {path.name: path.read_bytes() for path in (first.html, first.pdf, first.metrics)}
    with pytest.MonkeyPatch.context() as patch, pytest.raises(ReportError) as caught:
        patch.chdir(root)
        render_report(RenderRequest.resolve(Project.at(Path.cwd()), report=broken, progress=False))
    message = str(caught.value)
    assert caught.value.cell_index == 3
    assert "broken.qmd: cell 3 (line " in message
    assert 'raise ValueError("on purpose")' in message and "ValueError: on purpose" in message
    for name, content in previous.items():
        assert (root / "_output" / name).read_bytes() == content
    assert not list((root / "_output").glob(".render-*"))


def published_files(folder: Path) -> list[str]:
    """The files of an output folder, its cache of shared work (``.cache/``) left out."""
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and path.relative_to(folder).parts[0] != CACHE_DIRNAME
    )


def without_timings(metrics: Path) -> dict:
    document = json.loads(metrics.read_text(encoding="utf-8"))
    del document["provenance"]["timestamp"]
    return document


def cross_references(html: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The figure and table anchors of a page, and its links to them with their text."""
    text = html.read_text(encoding="utf-8").replace("&nbsp;", " ").replace("\xa0", " ")
    found = re.findall(r'id="((?:fig|tbl)-[\w-]+)"', text)
    anchors = sorted({anchor for anchor in found if "-caption-" not in anchor})  # Quarto's
    links = sorted(set(re.findall(r'<a href="#((?:fig|tbl)-[\w-]+)"[^>]*>([^<]+)</a>', text)))
    return anchors, links


def assert_same_report(quarto: RenderResult, nbconvert: RenderResult) -> None:
    """Same metrics apart from the time, same figures, same numbered tables and references."""
    assert without_timings(quarto.metrics) == without_timings(nbconvert.metrics)
    for figure in (nbconvert.metrics.parent / "figures").glob("*.png"):
        copy = quarto.metrics.parent / "figures" / figure.name
        assert copy.read_bytes() == figure.read_bytes()
    anchors, links = cross_references(quarto.html)
    assert (anchors, links) == cross_references(nbconvert.html)
    report = REPORT.read_text()
    labels = re.findall(r"^#\| label: (tbl-[\w-]+)$", report, re.MULTILINE) + figure_labels(report)
    assert sorted(anchors) == sorted(labels)  # every figure and table of report.qmd, numbered
    assert ("fig-sex", "Figure 1") in links and len(links) >= 15


@pytest.mark.slow
@pytest.mark.quarto
@needs_quarto
def test_quarto_backend_matches_the_nbconvert_backend(rendered, tmp_path):
    root, first = rendered
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        request = RenderRequest.resolve(Project.at(Path.cwd()), report=REPORT, progress=False)
        result = render_report(request, output_dir=tmp_path)
    assert result.backend == "quarto"
    assert result.pdf.read_bytes().startswith(b"%PDF")
    assert published_files(tmp_path) == published_files(first.metrics.parent)
    assert_same_report(result, first)
    html = result.html.read_text(encoding="utf-8")
    assert_fetches_nothing(html)
    figures = len(figure_labels(REPORT.read_text(encoding="utf-8")))
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', html)) == figures


def quarto_project(folder: Path) -> Path:
    """A copy of the project's report files, with the parameters of :data:`RENDER_PARAMS`."""
    project = folder / "project"
    project.mkdir()
    for name in ("report.qmd", "_quarto.yml", "report.scss", ".gitignore"):
        shutil.copyfile(REPO_ROOT / name, project / name)
    write_params(project, **RENDER_PARAMS)
    return project


@pytest.mark.slow
@pytest.mark.quarto
@needs_quarto
def test_quarto_render_of_report_qmd_matches_and_leaves_the_tree_clean(rendered, tmp_path):
    _, first = rendered
    project = quarto_project(tmp_path)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "project"], cwd=project, check=True)
    subprocess.run(
        ["quarto", "render", "report.qmd", "--to", "html"],
        cwd=project, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, check=True, capture_output=True, text=True
    )
    assert status.stdout == ""  # .gitignore already ignores what Quarto leaves
    output = project / "_output"
    assert not (output / "report_files").exists()
    quarto = RenderResult(output / "report.html", None, output, output / "metrics.json", "", 0)
    # The commit differs (another repository); everything else is the same.
    first_document, document = without_timings(first.metrics), without_timings(quarto.metrics)
    first_document["provenance"]["git"] = document["provenance"]["git"]
    assert document == first_document
    assert cross_references(quarto.html) == cross_references(first.html)
    assert_fetches_nothing(quarto.html.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_a_cell_over_the_timeout_is_named(project):
    report = project / "slow.qmd"
    report.write_text(
        "```{python}\n#| tags: [parameters]\nresolved_params_file = None\n"
        "staging_dir = None\n```\n\nA slow cell:\n\n"
        "```{python}\nimport time\n\ntime.sleep(60)\n```\n",
        encoding="utf-8",
    )
    with pytest.raises(ReportError) as caught:
        render_report(
            RenderRequest.resolve(
                Project.at(Path.cwd()),
                report=report,
                cell_timeout=2,
                formats=("html",),
                progress=False,
            )
        )
    assert "slow.qmd: cell 2 (line 9) `import time` ran longer than the 2 s" in str(caught.value)
    assert caught.value.cell_index == 2
    assert not (project / "_output" / "report.html").exists()


@pytest.mark.slow
@pytest.mark.quarto
@needs_quarto
def test_every_report_parameter_works_with_quarto_render_p(tmp_path, kaggle_dir):
    project = quarto_project(tmp_path)
    output = tmp_path / "elsewhere"
    values = {
        "staging_dir": str(output),
        "n_estimators": "7",
        "max_depth": "3",
        "min_samples_split": "3",
        "min_samples_leaf": "2",
        "max_features": "log2",
        "test_size": "0.3",
        "cv_folds": "3",
        "random_state": "5",
        "data_source": str(kaggle_dir),
    }
    cell = qmd_to_notebook(REPORT.read_text(encoding="utf-8")).cells[1].source
    # All but the resolved parameters file, which only a process that validated it writes.
    assert {*values, "resolved_params_file"} == set(re.findall(r"^(\w+) = ", cell, re.MULTILINE))
    flags = [part for name, value in values.items() for part in ("-P", f"{name}:{value}")]
    subprocess.run(
        ["quarto", "render", "report.qmd", "--to", "html", *flags],
        cwd=project, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    document = json.loads((output / "metrics.json").read_text(encoding="utf-8"))
    parameters = document["parameters"]
    assert (
        parameters["model"]
        | {
            "n_estimators": 7,
            "max_depth": 3,
            "min_samples_split": 3,
            "min_samples_leaf": 2,
            "max_features": "log2",
        }
        == parameters["model"]
    )
    assert parameters["split"]["test_size"] == 0.3 and parameters["split"]["cv_folds"] == 3
    assert parameters["random_state"] == 5
    assert parameters["data"]["source"] == str(kaggle_dir)


TINY_REPORT = (
    "```{python}\n#| tags: [parameters]\nresolved_params_file = None\n"
    "staging_dir = None\n```\n\nA cell that works:\n\n```{python}\nanswer = 42\n```\n\n"
    'A cell that raises:\n\n```{python}\nraise ValueError("on purpose")\n```\n\n'
    'A cell after it:\n\n```{python}\nopen("after.txt", "w").close()\n```\n'
)


def test_a_cell_that_raises_stops_a_tiny_render(project, tmp_path):
    report = project / "tiny.qmd"
    report.write_text(TINY_REPORT, encoding="utf-8")
    output = tmp_path / "out"
    with pytest.raises(ReportError) as caught:
        render_report(
            RenderRequest.resolve(
                Project.at(project), report=report, formats=("html",), progress=False
            ),
            output_dir=output,
        )
    assert caught.value.cell_index == 3
    assert str(caught.value) == (
        'tiny.qmd: cell 3 (line 15) failed: `raise ValueError("on purpose")`:'
        " ValueError: on purpose"
    )
    assert not (output / "report.html").exists()
    assert list(project.rglob("after.txt")) == []


def test_a_render_leaves_the_command_s_signal_handlers_in_place(project, tmp_path):
    # The CLI's SIGTERM handler must still run after the cells ran (and a signal during them
    # must reach it): nbclient's event loop replaces both handlers while it runs in the main
    # thread, then puts back the defaults, under which SIGTERM kills without any clean-up.
    def the_command_s_handler(signum, frame):
        raise AssertionError("no signal is sent in this test")

    report = project / "tiny.qmd"
    report.write_text(TINY_REPORT, encoding="utf-8")
    sigint = signal.getsignal(signal.SIGINT)
    sigterm = signal.signal(signal.SIGTERM, the_command_s_handler)
    try:
        with pytest.raises(ReportError):
            render_report(
                RenderRequest.resolve(
                    Project.at(project), report=report, formats=("html",), progress=False
                ),
                output_dir=tmp_path / "out",
            )
        assert signal.getsignal(signal.SIGTERM) is the_command_s_handler
        assert signal.getsignal(signal.SIGINT) is sigint
    finally:
        signal.signal(signal.SIGTERM, sigterm)


@pytest.mark.slow
def test_a_render_validates_its_parameters_once_and_its_kernel_never(tmp_path, monkeypatch):
    root = counting_report_project(tmp_path / "project", monkeypatch)
    calls = count_validations(monkeypatch)
    result = runner.invoke(app, ["render", "--to", "html", "-P", "model.n_estimators=7"])
    assert result.exit_code == 0, result.output
    assert len(calls) == 1
    assert (root / "kernel-validations.txt").read_text(encoding="utf-8") == "0\n"
    metrics = json.loads((root / "_output" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["parameters"]["model"]["n_estimators"] == 7
