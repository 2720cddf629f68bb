"""Faults at the edges, through the real command line: outputs whole or untouched, one line.

Read-only and full folders are small tmpfs mounts (the machines here run as root); the tests
skip cleanly where mounting is not allowed. The signal tests send SIGTERM and SIGINT to a real
`titanic` process and check that nothing it started survives.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from titanic.cli import app
from titanic.io.output_sets import OutputSet, read_manifest, verify
from titanic.project import Project
from titanic.sweep.executors import InlineExecutor
from titanic.sweep.run import SweepOptions, SweepResult, run_sweep

from .conftest import (
    HANG_SECONDS,
    REPO_ROOT,
    TINY_MODEL,
    assert_all_gone,
    start,
    stop,
    wait_for,
    write_params,
)
from .test_dask import instant_render

runner = CliRunner()


@contextlib.contextmanager
def tmpfs(options: str) -> Iterator[Path]:
    """Mount a small tmpfs (``options`` such as ``size=64k`` or ``ro``), or skip."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    folder = Path(tempfile.mkdtemp(prefix="titanic-tmpfs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
        folder.rmdir()


def one_error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.output
    return errors[0]


def never_called(*args, **kwargs):
    raise AssertionError("the command went on to work it should have refused to start")


def test_run_into_a_file_fails_at_once_naming_it(project, monkeypatch):
    (project / "taken").write_text("not a folder", encoding="utf-8")
    monkeypatch.setattr("titanic.analysis.run_analysis", never_called)  # refused before training
    result = runner.invoke(app, ["run", "-P", f"output_dir={project / 'taken'}"])
    line = one_error_line(result)
    assert f"{project / 'taken'} is a file, not a folder" in line


def test_run_into_a_read_only_folder_fails_at_once_naming_it(project):
    with tmpfs("ro,size=64k") as folder:
        result = runner.invoke(app, ["run", "-P", f"output_dir={folder / 'out'}"])
        line = one_error_line(result)
        assert str(folder) in line and "Read-only file system" in line


def test_a_full_disk_leaves_the_previous_outputs_and_no_staging(project):
    with tmpfs("size=32k") as folder:
        with OutputSet(folder, "render", {}) as previous:
            (previous.path / "metrics.json").write_text('{"old": 1}', encoding="utf-8")
            (previous.path / "report.html").write_text("<html>old</html>", encoding="utf-8")
        result = runner.invoke(app, ["run", "-P", f"output_dir={folder}"])
        line = one_error_line(result)
        assert "No space left on device" in line and str(folder) in line
        assert (folder / "metrics.json").read_text() == '{"old": 1}'
        assert verify(folder) is None
        assert not [path for path in folder.iterdir() if path.name.startswith(".staging-")]


def test_run_after_a_render_removes_the_report_whose_numbers_it_would_contradict(project):
    output = project / "_output"
    with OutputSet(output, "render", {}) as render:
        for name in ("report.html", "report.pdf", "report.ipynb", "metrics.json"):
            (render.path / name).write_text("from the render", encoding="utf-8")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    assert "Removed report.html, report.ipynb, report.pdf" in result.output
    assert not (output / "report.html").exists() and not (output / "report.pdf").exists()
    manifest = read_manifest(output)
    assert manifest["command"] == "run" and "metrics.json" in manifest["files"]
    assert verify(output) is None


def test_predict_is_its_own_set_beside_the_run(project):
    assert runner.invoke(app, ["run"]).exit_code == 0
    result = runner.invoke(app, ["predict"])
    assert result.exit_code == 0, result.output
    output = project / "_output"
    assert verify(output) is None  # run's set untouched
    assert read_manifest(output, "submission.manifest.json")["command"] == "predict"


def test_a_malformed_front_matter_fails_before_any_kernel(project, monkeypatch):
    report = project / "report.qmd"
    text = (REPO_ROOT / "report.qmd").read_text(encoding="utf-8")
    report.write_text(text.replace("date: today", "date: [today"), encoding="utf-8")
    monkeypatch.setattr("titanic.report.render.execute_report", never_called)
    result = runner.invoke(app, ["render", "--to", "html"])
    line = one_error_line(result)
    assert "report.qmd: malformed front matter at line" in line


# --- signals --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_render_ends_everything_and_keeps_the_previous_report(project, signum):
    shutil.copyfile(REPO_ROOT / "report.qmd", project / "report.qmd")
    output = project / "_output"
    with OutputSet(output, "render", {}) as previous:
        (previous.path / "report.html").write_text("<html>previous</html>", encoding="utf-8")
    process, tree = start(project, "render", "--to", "html")
    wait_for(
        lambda: list(output.glob(".staging-*")) and tree.children(recursive=True),
        60,
        "a kernel to start",
    )
    time.sleep(2.0)
    started = stop(process, tree, signum)
    _, stderr = process.communicate(timeout=HANG_SECONDS)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    assert_all_gone(started)
    assert (output / "report.html").read_text() == "<html>previous</html>"
    assert verify(output) is None
    assert not [p for p in output.iterdir() if p.name.startswith((".staging-", ".backup-"))]


SILENT_CELL = (
    '```{python}\nopen("silent-cell-started", "w").close()\nimport time\ntime.sleep(600)\n```\n\n'
    "## Context and data\n"
)


@pytest.mark.slow
def test_a_signal_during_a_long_silent_cell_ends_the_render_at_once(project):
    # A cell that prints nothing for minutes: the kernel sends no message until it ends.
    text = (REPO_ROOT / "report.qmd").read_text(encoding="utf-8")
    (project / "report.qmd").write_text(
        text.replace("## Context and data\n", SILENT_CELL, 1), encoding="utf-8"
    )
    output = project / "_output"
    process, tree = start(project, "render", "--to", "html")
    wait_for(lambda: (project / "silent-cell-started").exists(), 180, "the silent cell")
    time.sleep(2.0)
    started = stop(process, tree, signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=HANG_SECONDS)
    except subprocess.TimeoutExpired:
        for running in [*started, tree]:
            with contextlib.suppress(psutil.NoSuchProcess):
                running.kill()
        pytest.fail(f"the render had not stopped {HANG_SECONDS} s after SIGTERM")
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert_all_gone(started)
    assert not list(output.glob(".staging-*"))


def next_sweep(project: Path, only: tuple[str, ...] = ()) -> SweepResult:
    """Run the sweep again in this process, renders stood in for (the real ones: test_sweep)."""
    return run_sweep(
        Project.at(project), SweepOptions(only=only), InlineExecutor(), render=instant_render
    )


@pytest.mark.slow
def test_sigterm_during_a_sweep_ends_every_process_and_publishes_nothing(project):
    shutil.copyfile(REPO_ROOT / "report.qmd", project / "report.qmd")
    write_params(project, **TINY_MODEL, variants={"grid": {"model.max_depth": [2, 3, 4]}})
    variants = project / "_output" / "variants"
    process, tree = start(project, "sweep", "--jobs", "2")
    wait_for(lambda: len(list(variants.glob("*/.staging-*"))) >= 2, 180, "two variants to start")
    time.sleep(1.5)
    started = stop(process, tree, signal.SIGTERM)
    _, stderr = process.communicate(timeout=HANG_SECONDS)
    assert process.returncode == 143, stderr
    assert_all_gone(started)
    time.sleep(1.0)  # nothing may still write after the command is gone
    assert not list(variants.glob("*/.staging-*"))
    assert not list(variants.glob("*/manifest.json"))
    # The cache vouches for nothing the signal interrupted: the next sweep renders it again.
    rerun = next_sweep(project, only=("max_depth-2",))
    assert [outcome.variant.name for outcome in rerun.with_status("done")] == ["max_depth-2"]


def test_a_subfolder_on_another_filesystem_is_refused_before_training(project, monkeypatch):
    output = project / "_output"
    with OutputSet(output, "render", {}) as previous:
        (previous.path / "metrics.json").write_text('{"old": 1}', encoding="utf-8")
    (output / "figures").mkdir()
    with tmpfs("size=1m") as other:
        subprocess.run(["mount", "--bind", str(other), str(output / "figures")], check=True)
        try:
            monkeypatch.setattr("titanic.analysis.run_analysis", never_called)
            line = one_error_line(runner.invoke(app, ["run"]))
        finally:
            subprocess.run(["umount", str(output / "figures")], check=False)
    assert f"{output / 'figures'} is on another filesystem than {output}" in line
    assert verify(output) is None


def test_a_sweep_into_a_blocked_variants_folder_fails_in_one_line(project, monkeypatch):
    (project / "report.qmd").write_text("# report\n", encoding="utf-8")
    (project / "_output").mkdir()
    (project / "_output" / "variants").write_text("a file", encoding="utf-8")
    monkeypatch.setattr("titanic.sweep.run.execute_variant", never_called)
    line = one_error_line(runner.invoke(app, ["sweep", "--jobs", "1"]))
    assert "variants is a file, not a folder" in line


@pytest.mark.slow
def test_kill_9_on_a_sweep_leaves_nothing_running_and_the_next_run_cleans_up(project):
    shutil.copyfile(REPO_ROOT / "report.qmd", project / "report.qmd")
    write_params(project, **TINY_MODEL, variants={"grid": {"model.max_depth": [2, 3]}})
    variants = project / "_output" / "variants"
    process, tree = start(project, "sweep", "--jobs", "2")
    wait_for(lambda: len(list(variants.glob("*/.staging-*"))) >= 2, 180, "two variants to start")
    time.sleep(1.5)
    started = stop(process, tree, signal.SIGKILL)
    process.communicate(timeout=60)  # its pipes close when the last worker is gone
    assert_all_gone(started)  # workers die with their forkserver, kernels with their workers
    assert list(variants.glob("*/.staging-*"))  # left behind by kill -9 ...
    rerun = next_sweep(project)
    assert len(rerun.with_status("done")) == 2
    assert not list(variants.glob("*/.staging-*"))  # ... and removed by the next run
    assert all(verify(variants / name) is None for name in ("max_depth-2", "max_depth-3"))
