"""Prose edits without re-execution: titanic.report.reuse and render_report's cached path."""

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from typer.testing import CliRunner

from titanic import fingerprint
from titanic.cli import app
from titanic.io.output_sets import OutputSet
from titanic.project import Project
from titanic.report import render
from titanic.report.inline import inline_expressions
from titanic.report.qmd import load_report
from titanic.report.render import RenderRequest, render_report
from titanic.report.reuse import (
    execution_components,
    execution_record,
    merge_prose,
    reuse_execution,
    stale_reason,
)

from .conftest import REPO_ROOT, TINY_MODEL, write_params

REPORT = """---
title: "A report"
---

Some prose.

```{python}
#| tags: [parameters]
resolved_params_file = None
staging_dir = None
```

More prose.

```{python}
#| label: answer
answer = 42
answer
```

The end: `{python} answer`.
"""


@pytest.fixture
def inputs(project, data_copy, monkeypatch):
    """A project with its own report, lock file, package copy and data folder."""
    (project / "report.qmd").write_text(REPORT, encoding="utf-8")
    (project / "uv.lock").write_text("version = 1\n", encoding="utf-8")
    package = project / "package"
    shutil.copytree(REPO_ROOT / "src" / "titanic", package, ignore=shutil.ignore_patterns("data"))
    monkeypatch.setattr(fingerprint, "PACKAGE_DIR", package)
    write_params(project, **TINY_MODEL, data={"source": str(data_copy)})
    return SimpleNamespace(project=project, data=data_copy, package=package)


def components_of(inputs, overrides=()) -> dict:
    project = Project.at(inputs.project)
    request = RenderRequest.resolve(project, overrides=tuple(overrides))
    return execution_components(project, load_report(project.report), request.settings)


def executed_notebook(source: Path) -> nbformat.NotebookNode:
    """What papermill leaves: outputs, an injected cell after the parameters cell."""
    notebook = load_report(source)
    for cell in notebook.cells:
        cell.metadata["papermill"] = {"status": "completed"}
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text=f"ran {len(cell.source)}\n")]
        elif found := inline_expressions(cell.source):
            cell.metadata["user_expressions"] = [
                {"expression": text, "result": {"status": "ok", "data": {"text/plain": "42"}}}
                for _, text in found
            ]
    injected = nbformat.v4.new_code_cell('staging_dir = "/staging"')
    injected.metadata.update(tags=["injected-parameters"], papermill={"status": "completed"})
    notebook.cells.insert(3, injected)  # front matter, prose, parameters, injected
    return notebook


def publish_render(inputs, components: dict) -> Path:
    """Publish a render's set (notebook, metrics.json, a figure) with its execution record."""
    target = inputs.project / "_output"
    with OutputSet(target, "render", {}, extra=execution_record(components)) as output:
        nbformat.write(
            executed_notebook(inputs.project / "report.qmd"), output.path / "report.ipynb"
        )
        (output.path / "metrics.json").write_text('{"accuracy": 0.8}', encoding="utf-8")
        (output.path / "figures").mkdir()
        (output.path / "figures" / "roc.png").write_bytes(b"png")
        (output.path / "report.html").write_text("<html>old prose</html>", encoding="utf-8")
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def move_the_expression_before_the_cell(path: Path) -> None:
    edit(path, "The end: `{python} answer`.", "The end.")
    edit(path, "More prose.", "More prose: `{python} answer`.")


@pytest.mark.parametrize(
    ("change", "component"),
    [
        (lambda i: edit(i.project / "report.qmd", "answer = 42", "answer = 43"), "code"),
        (lambda i: edit(i.project / "report.qmd", "#| label: answer", "#| echo: true"), "code"),
        (
            lambda i: edit(i.project / "params.yaml", "n_estimators: 10", "n_estimators: 11"),
            "parameters",
        ),
        (
            lambda i: (i.data / "train.csv").write_bytes(
                (i.data / "train.csv").read_bytes() + b"\n"
            ),
            "data",
        ),
        (
            lambda i: (i.package / "features.py").write_text("# edited\n", encoding="utf-8"),
            "package",
        ),
        (lambda i: (i.project / "uv.lock").write_text("version = 2\n", encoding="utf-8"), "lock"),
        (
            lambda i: edit(i.project / "report.qmd", "{python} answer`", "{python} -answer`"),
            "inline",
        ),
        (lambda i: move_the_expression_before_the_cell(i.project / "report.qmd"), "inline"),
    ],
    ids=[
        "code-cell",
        "cell-option",
        "parameter",
        "data-byte",
        "package-file",
        "lock",
        "inline-expression",
        "inline-place",
    ],
)
def test_any_change_to_what_the_cells_depend_on_re_executes(inputs, change, component):
    target = publish_render(inputs, components_of(inputs))
    change(inputs)
    assert stale_reason(target, components_of(inputs)) == f"{component} changed"


def test_an_override_re_executes(inputs):
    target = publish_render(inputs, components_of(inputs))
    changed = stale_reason(target, components_of(inputs, ["model.max_depth=3"]))
    assert changed == "parameters changed"


def test_a_prose_edit_reuses_the_cells_with_the_new_text(inputs, tmp_path):
    target = publish_render(inputs, components_of(inputs))
    edit(inputs.project / "report.qmd", "More prose.", "Better prose,\n\nover two paragraphs.")
    edit(inputs.project / "report.qmd", 'title: "A report"', 'title: "The report"')
    staging = tmp_path / "staging"
    staging.mkdir()
    notebook = load_report(inputs.project / "report.qmd")
    assert reuse_execution(target, staging, notebook, components_of(inputs)) is None
    merged = nbformat.read(staging / "report.ipynb", as_version=4)
    previous = nbformat.read(target / "report.ipynb", as_version=4)
    assert [cell.source for cell in merged.cells if cell.cell_type != "code"] == [
        cell.source for cell in notebook.cells if cell.cell_type != "code"
    ]
    assert [(c.source, c.outputs) for c in merged.cells if c.cell_type == "code"] == [
        (c.source, c.outputs) for c in previous.cells if c.cell_type == "code"
    ]
    assert merged.cells[0].source == '---\ntitle: "The report"\n---'
    assert merged.cells[3].metadata["tags"] == ["injected-parameters"]
    assert merged.cells[4].source == "Better prose,\n\nover two paragraphs."
    # The value of `{python} answer` goes with the prose it sits in, and only there.
    values = [cell.metadata.get("user_expressions") for cell in merged.cells]
    assert values[-1] == previous.cells[-1].metadata["user_expressions"]
    assert values[-1][0]["expression"] == "answer" and values[:-1] == [None] * (len(values) - 1)
    answer = next(cell for cell in merged.cells if "answer = 42" in cell.source)
    assert answer.metadata["titanic"]["line"] == 17  # its new place in report.qmd
    assert all(cell.metadata["papermill"] == {"status": "completed"} for cell in merged.cells)
    # The cells' files are carried over unchanged; the typeset page is not.
    assert (staging / "metrics.json").read_bytes() == (target / "metrics.json").read_bytes()
    assert (staging / "figures" / "roc.png").read_bytes() == b"png"
    assert not (staging / "report.html").exists()


@pytest.mark.parametrize("name", ["report.ipynb", "metrics.json", "figures/roc.png"])
def test_an_edited_or_missing_output_is_not_served(inputs, tmp_path, name):
    target = publish_render(inputs, components_of(inputs))
    staging = tmp_path / "staging"
    staging.mkdir()
    notebook = load_report(inputs.project / "report.qmd")
    with (target / name).open("ab") as handle:
        handle.write(b" ")
    assert reuse_execution(target, staging, notebook, components_of(inputs)) == (
        f"outputs changed: {name}"
    )
    (target / name).unlink()
    assert reuse_execution(target, staging, notebook, components_of(inputs)) == (
        f"outputs missing: {name}"
    )
    assert not [path for path in staging.rglob("*") if path.is_file()]


def test_a_set_without_a_render_record_is_not_reused(inputs):
    target = inputs.project / "_output"
    with OutputSet(target, "run", {}) as output:
        (output.path / "metrics.json").write_text("{}", encoding="utf-8")
    assert stale_reason(target, components_of(inputs)) == "no previous render"


def test_cells_that_differ_from_the_notebook_are_not_merged(inputs):
    executed = executed_notebook(inputs.project / "report.qmd")
    edit(inputs.project / "report.qmd", "answer = 42", "answer = 43")
    assert merge_prose(executed, load_report(inputs.project / "report.qmd")) is None


def test_prose_whose_values_were_not_stored_at_their_place_is_not_merged(inputs):
    notebook = load_report(inputs.project / "report.qmd")
    executed = executed_notebook(inputs.project / "report.qmd")
    assert merge_prose(executed, notebook) is not None
    del executed.cells[-1].metadata["user_expressions"]  # as a render before inline values
    assert merge_prose(executed, notebook) is None
    move_the_expression_before_the_cell(inputs.project / "report.qmd")
    assert merge_prose(executed_notebook(inputs.project / "report.qmd"), notebook) is None


# --- the whole render, cold and re-used ---------------------------------------------------

VARYING = [
    re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"),  # timestamps
    re.compile(r"\d+\.\d s"),  # durations
    # The staging folder and the resolved parameters file in it, both injected.
    re.compile(r"\.staging-[0-9a-f]{12}"),
    re.compile(r'(?<=staging_dir</span> <span class="o">=</span> <span class="s2">)"[^"]*"'),
    re.compile(r'(?<=params_file</span> <span class="o">=</span> <span class="s2">)"[^"]*"'),
]


def normalised(text: str) -> str:
    for pattern in VARYING:
        text = pattern.sub("<varies>", text)
    return text


def tiny_report_project(root: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """Make ``root`` a project with the real report and a tiny model; the nbconvert backend."""
    root.mkdir()
    write_params(root, **TINY_MODEL)
    for name in ("report.qmd", "_quarto.yml", "report.scss"):
        shutil.copyfile(REPO_ROOT / name, root / name)
    monkeypatch.chdir(root)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    return Project.at(root)


@pytest.mark.slow
def test_prose_only_edit_reuses_and_equals_a_cold_render(tmp_path, monkeypatch):
    root = tmp_path / "project"
    project = tiny_report_project(root, monkeypatch)
    request = RenderRequest.resolve(project, formats=("html",), progress=False)
    first = render_report(request)
    assert first.executed
    edit(root / "report.qmd", "most of the people aboard died", "most of those aboard died")
    result = CliRunner().invoke(app, ["render", "--to", "html"])
    assert result.exit_code == 0, result.output
    assert "re-used the executed cells: only the text changed" in result.output
    out = root / "_output"
    assert "most of those aboard died" in (out / "report.html").read_text(encoding="utf-8")
    cold = render_report(request, output_dir=tmp_path / "cold")
    assert cold.executed
    for name in ("model.joblib", "params.resolved.yaml", "figures/roc_curve.png"):
        assert (out / name).read_bytes() == (tmp_path / "cold" / name).read_bytes(), name
    for name in ("report.html", "metrics.json"):
        reused = normalised((out / name).read_text(encoding="utf-8"))
        assert reused == normalised((tmp_path / "cold" / name).read_text(encoding="utf-8"))
    assert json.loads((out / "manifest.json").read_text())["execution"]["key"]
    # --force executes, though the cells could be re-used (an execution stand-in: its work was
    # checked above).
    executions = []

    def execute(request, notebook, typesetter, folder):
        executions.append(request.report_path)
        for name in ("report.html", "report.ipynb", "metrics.json"):
            shutil.copyfile(out / name, folder / name)

    monkeypatch.setattr(render, "execute_and_typeset", execute)
    forced = CliRunner().invoke(app, ["render", "--to", "html", "--force"])
    assert "executed (--force)" in forced.output
    assert executions == [root / "report.qmd"]
