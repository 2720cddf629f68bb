"""Kernels forked from a process that has the stack imported: titanic.report.kernels."""

import ast
import json
import os
import subprocess
import sys
import textwrap
import threading
from multiprocessing import forkserver

import psutil
import pytest
import yaml
from typer.testing import CliRunner

from titanic.cli import app
from titanic.project import Project
from titanic.report import kernels
from titanic.report.render import RenderRequest, render_report

from .conftest import REPO_ROOT, TINY_MODEL
from .test_reuse import normalised

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX only")

# Run in a fresh interpreter, as in a sweep worker: nothing else runs in it when it forks.
SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import nbformat, papermill
    from titanic.report import kernels

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.cells = [
        nbformat.v4.new_code_cell("answer = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('answer', answer)\\nanswer * 2"),
        nbformat.v4.new_code_cell("import os, sys\\n(os.getpid(), os.getcwd(),"
                                  " 'titanic.report.kernels' in sys.modules,"
                                  " 'tabnanny' in sys.modules)"),
    ]
    folder = sys.argv[1]
    nbformat.write(notebook, f"{folder}/in.ipynb")
    result = {}
    for standby in (True, False):
        if standby:
            kernels.fork_standby(preload=["tabnanny", "no_such_module_here"])
            result["standby_pid"] = kernels._STANDBY[os.getpid()].process.pid
        out = papermill.execute_notebook(
            f"{folder}/in.ipynb", f"{folder}/out.ipynb", parameters={"answer": 21},
            kernel_name="python3", progress_bar=False, cwd=folder,
            kernel_manager_class=kernels.StandbyKernelManager,
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
        result[standby] = [cell.get("outputs") for cell in out.cells]
    kernels.fork_standby(preload=["tabnanny"])
    kernels.discard_standby()
    result["parent_has_preloaded"] = "tabnanny" in sys.modules
    result["children"] = [child.pid for child in __import__("psutil").Process().children()]
    print(json.dumps(result))
    """
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kernels")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    return result, str(folder.resolve())


def test_the_kernel_is_the_standby_child_holding_its_parents_imports(runs):
    result, folder = runs
    forked = ast.literal_eval(result["true"][-1][0]["data"]["text/plain"])
    pid, cwd, has_parent_imports, _ = forked
    assert pid == result["standby_pid"]
    assert cwd == folder
    assert has_parent_imports
    launched = ast.literal_eval(result["false"][-1][0]["data"]["text/plain"])
    assert launched[0] != result["standby_pid"]
    assert not launched[2]  # a launched kernel imports afresh


def test_a_standby_imports_what_it_is_asked_to_preload_in_the_child_only(runs):
    result, _ = runs
    forked = ast.literal_eval(result["true"][-1][0]["data"]["text/plain"])
    launched = ast.literal_eval(result["false"][-1][0]["data"]["text/plain"])
    assert forked[3] and not launched[3]  # a module the kernel's cells never import
    assert not result["parent_has_preloaded"]


def test_a_forked_kernel_gives_the_outputs_of_a_launched_one(runs):
    result, _ = runs
    forked, launched = result["true"], result["false"]
    assert forked[:-1] == launched[:-1]
    assert forked[2][0]["text"] == "answer 21\n"  # after the injected parameters


def test_no_kernel_or_standby_outlives_its_use(runs):
    result, _ = runs
    assert result["children"] == []
    assert not psutil.pid_exists(result["standby_pid"]) or (
        psutil.Process(result["standby_pid"]).status() == psutil.STATUS_ZOMBIE
    )


@pytest.fixture
def path_without_quarto(monkeypatch):
    """PATH without Quarto (the nbconvert backend), for the sweep's workers too.

    A forkserver keeps the environment it started with: the one an earlier test started is
    stopped, so that this test's workers get this PATH, and again after it.
    """
    path = os.pathsep.join(
        folder for folder in os.environ["PATH"].split(os.pathsep) if "quarto" not in folder
    )
    monkeypatch.setenv("PATH", path)
    # The standard library's own way to stop its forkserver ("used by unit tests").
    forkserver._forkserver._stop()  # pylint: disable=protected-access
    yield
    forkserver._forkserver._stop()  # pylint: disable=protected-access


@pytest.mark.slow
@pytest.mark.usefixtures("path_without_quarto")
def test_sweep_variants_run_in_forked_kernels_and_equal_a_cold_render(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    params = tmp_path / "tiny.yaml"
    tiny = {**TINY_MODEL, "output_dir": str(tmp_path / "out")}
    params.write_text(yaml.safe_dump({**tiny, "variants": {"grid": {"model.max_depth": [2, 3]}}}))
    # One worker: the second variant's kernel is forked from a worker that already ran one.
    result = CliRunner().invoke(app, ["sweep", "--params", str(params), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    variants = tmp_path / "out" / "variants"
    for name in ("max_depth-2", "max_depth-3"):
        assert "forked with the stack imported" in (variants / name / "sweep.log").read_text()
    cold = tmp_path / "cold"
    request = RenderRequest.resolve(
        Project.at(REPO_ROOT),
        overrides=("model.max_depth=3",),
        params_files=(params,),
        formats=("html",),
        progress=False,
    )
    render_report(request, output_dir=cold)
    variant = variants / "max_depth-3"
    for name in ("report.html", "metrics.json"):
        forked = normalised((variant / name).read_text(encoding="utf-8"))
        assert forked == normalised((cold / name).read_text(encoding="utf-8")), name
    assert (variant / "model.joblib").read_bytes() == (cold / "model.joblib").read_bytes()


def test_a_process_with_other_threads_is_not_forked():
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert kernels.fork_standby() is False
        assert os.getpid() not in kernels._STANDBY
    finally:
        release.set()
        other.join()
