"""The sweep on Dask: a real LocalCluster (worker processes on 127.0.0.1), no shared disk assumed.

Every cluster a test starts is closed in its teardown, which checks its processes are gone.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
import yaml
from typer.testing import CliRunner

from titanic.cli import app
from titanic.errors import ClusterError, OutputError, SweepError
from titanic.io.output_sets import FOLDER_LOCK, verify
from titanic.project import Project
from titanic.provenance import git_state
from titanic.report.request import RenderRequest
from titanic.sweep import executors
from titanic.sweep import run as sweep_run
from titanic.sweep.executors import DaskExecutor
from titanic.sweep.remote import bundle_project, receive, this_environment
from titanic.sweep.run import SweepOptions, run_sweep
from titanic.sweep.worker import SealedFiles, VariantRun

from .conftest import (
    HANG_SECONDS,
    REPO_ROOT,
    TINY_MODEL,
    assert_all_gone,
    metrics_json,
    start,
    stop,
    wait_for,
    write_params,
)

runner = CliRunner()
MARKERS = "TITANIC_TEST_MARKERS"


def instant_render(request: RenderRequest, output_dir: Path):
    """Stand-in for render_into on a worker: writes a variant's files; waits if asked to."""
    report = request.report_path
    assert report.is_file() and report.parent == request.project.root  # it travelled as bytes
    markers = os.environ.get(MARKERS)
    if markers:
        Path(markers, f"{output_dir.parent.name}.{os.getpid()}").touch()
        time.sleep(3)
    depth = request.settings.model.max_depth  # the variant's settings travelled with the task
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "metrics.json").write_text(metrics_json(0.7 + depth / 100, 0.7, 0.01))
    (output_dir / "report.html").write_text(f"<html>{depth}</html>")
    (output_dir / "report.ipynb").write_text("{}")
    return SimpleNamespace()


def is_process_helper(process: psutil.Process) -> bool:
    """Helpers of the test process itself, not a cluster's: multiprocessing's resource tracker
    and forkserver, and joblib's reusable loky workers (n_jobs: -1 in earlier tests)."""
    try:
        command = " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return False  # gone already: not a helper that stays
    return any(name in command for name in ("resource_tracker", "forkserver", "loky"))


def assert_children_end(children: list[psutil.Process]) -> None:
    """Fail naming the processes of ``children`` (helpers left out) alive after 20 s."""
    ending = [process for process in children if not is_process_helper(process)]
    _, alive = psutil.wait_procs(ending, timeout=20)
    assert not alive, f"cluster processes still running: {[p.cmdline() for p in alive]}"


def close_and_check(executor: DaskExecutor) -> None:
    children = psutil.Process().children(recursive=True)
    executor.shutdown(cancel=True)
    assert_children_end(children)


@pytest.fixture
def fake_project(project):
    (project / "report.qmd").write_text("# report\n", encoding="utf-8")
    write_params(project, **TINY_MODEL, variants={"grid": {"model.max_depth": [2, 3, 4]}})
    return project


@pytest.fixture
def local_cluster():
    executor = DaskExecutor.start_local(2)
    try:
        yield executor
    finally:
        close_and_check(executor)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- without a cluster -------------------------------------------------------------------


def test_received_files_must_match_their_manifest(tmp_path):
    staging = tmp_path / "sealed"
    staging.mkdir()
    (staging / "metrics.json").write_text("{}")
    from titanic.io.output_sets import seal

    seal(staging, "sweep", {})
    files = {name: (staging / name).read_bytes() for name in ("metrics.json", "manifest.json")}
    run = VariantRun("v", True, 1.0, 1, files=SealedFiles(dict(files)))
    received = receive(run, tmp_path / "v")
    assert json.loads(Path(received.staging, "metrics.json").read_text()) == {}

    tampered = VariantRun("v", True, 1.0, 1, files=SealedFiles({**files, "metrics.json": b"[]"}))
    with pytest.raises(OutputError, match="fail their manifest: outputs changed: metrics.json"):
        receive(tampered, tmp_path / "w")
    extra = VariantRun("v", True, 1.0, 1, files=SealedFiles({**files, "model.joblib": b"x"}))
    with pytest.raises(OutputError, match="not in the manifest"):
        receive(extra, tmp_path / "x")


def test_a_shipped_project_reports_the_client_s_git_state(fake_project, tmp_path_factory):
    for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t",
                 "commit", "-qm", "one"]):  # fmt: skip
        subprocess.run(["git", *args], cwd=fake_project, check=True, capture_output=True)
    (fake_project / "report.qmd").write_text("# edited\n", encoding="utf-8")
    client = git_state(fake_project)
    assert len(client["commit"]) == 40 and client["dirty"] is True
    project = Project.at(fake_project)
    bundle = bundle_project(project, project.report, (), this_environment())
    worker = bundle.unpack(tmp_path_factory.mktemp("worker") / "project")  # outside the checkout
    assert git_state(worker.root) == client


@pytest.fixture
def short_connect(monkeypatch):
    """Give up on a scheduler after 1 s instead of 10 (the tests' schedulers never answer)."""
    monkeypatch.setattr(executors, "SCHEDULER_CONNECT_SECONDS", 1.0)


@pytest.mark.usefixtures("short_connect")
def test_an_unreachable_scheduler_fails_in_seconds_naming_it(fake_project):
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = runner.invoke(app, ["sweep", "--scheduler", address])
    assert result.exit_code == 1
    assert f"cannot reach the Dask scheduler at {address} within 1 s" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert time.monotonic() - started < 20


@pytest.mark.usefixtures("short_connect")
def test_dask_scheduler_address_is_honoured(fake_project, monkeypatch):
    address = f"tcp://127.0.0.1:{free_port()}"
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    result = runner.invoke(app, ["sweep"])
    assert result.exit_code == 1 and address in result.stderr


def test_sweep_help_names_the_three_ways_to_a_cluster():
    text = runner.invoke(app, ["sweep", "--help"], terminal_width=200).output
    assert "--cluster" in text and "--scheduler" in text and "DASK_SCHEDULER_ADDRESS" in text


# --- on a LocalCluster -------------------------------------------------------------------


def log_a_worker_error() -> None:
    """Run on a worker: log an error with its traceback, as a lost heartbeat does."""
    try:
        raise OSError("the scheduler went away")
    except OSError:
        logging.getLogger("distributed.worker").exception("Failed to talk to the scheduler")


@pytest.mark.slow
@pytest.mark.parametrize(("level", "shown"), [(logging.CRITICAL, False), (logging.ERROR, True)])
def test_a_worker_s_logged_traceback_reaches_stderr_only_at_its_level(capfd, level, shown):
    executor = DaskExecutor.start_local(1, worker_log_level=level)
    try:
        executor.client.run(log_a_worker_error)
    finally:
        close_and_check(executor)
    assert ("the scheduler went away" in capfd.readouterr().err) is shown


@pytest.mark.parametrize(
    ("options", "level"), [([], logging.CRITICAL), (["--debug"], logging.ERROR)]
)
def test_workers_log_tracebacks_only_with_debug(fake_project, monkeypatch, options, level):
    started = {}

    def start_local(workers, dashboard=False, worker_log_level=logging.ERROR):
        started["level"] = worker_log_level
        raise SweepError("stop here")

    monkeypatch.setattr(DaskExecutor, "start_local", start_local)
    runner.invoke(app, [*options, "sweep", "--cluster", "local:1"])
    assert started == {"level": level}


@pytest.mark.slow
def test_the_cluster_s_info_logs_stay_off_the_live_display(fake_project):
    result = runner.invoke(app, ["sweep", "--cluster", "local:1", "--only", "max_depth-2"])
    assert "max_depth-2" in result.stderr  # the display itself is there
    for chatter in ("Scheduler at", "Start Nanny", "Register worker", "Receive client"):
        assert chatter not in result.stderr, result.stderr


def worker_settings() -> dict:
    """Run on a worker: the Dask settings it runs with, and whether it may start processes."""
    import dask  # pylint: disable=import-outside-toplevel

    keys = ("profile.enabled", "memory.monitor-interval", "daemon")
    found = {key: dask.config.get(f"distributed.worker.{key}") for key in keys}
    found["system-monitor"] = dask.config.get("distributed.admin.system-monitor.interval")
    found["process is daemonic"] = multiprocessing.current_process().daemon
    return found


@pytest.mark.slow
def test_a_local_cluster_s_workers_may_fork_and_are_not_profiled(local_cluster):
    settings = local_cluster.client.run(worker_settings)
    assert len(settings) == 2
    for found in settings.values():
        assert found == {
            "profile.enabled": False,
            "memory.monitor-interval": "1s",
            "daemon": False,
            "system-monitor": "5s",
            "process is daemonic": False,
        }


def render_naming_its_project(request: RenderRequest, output_dir: Path):
    """Stand-in render whose report.html names the project folder it rendered in."""
    instant_render(request, output_dir)
    (output_dir / "report.html").write_text(str(request.project.root))


@pytest.mark.slow
def test_a_worker_renders_every_variant_of_a_sweep_in_one_project_folder(fake_project):
    # One folder per worker and sweep, so that a relative output_dir's shared cache (the
    # data's tables and figures) serves all the variants that worker renders.
    executor = DaskExecutor.start_local(1)
    try:
        result = run_sweep(
            Project.at(fake_project), SweepOptions(), executor, render=render_naming_its_project
        )
        local_directory = next(
            iter(executor.client.run(lambda dask_worker: dask_worker.local_directory).values())
        )
    finally:
        close_and_check(executor)
    roots = {
        (result.folder / name / "report.html").read_text()
        for name in ("max_depth-2", "max_depth-3", "max_depth-4")
    }
    assert len(roots) == 1, roots
    assert Path(roots.pop()).parent == Path(local_directory) / "titanic-projects"


@pytest.mark.slow
def test_a_worker_with_another_package_refuses_naming_both_sides(
    fake_project, local_cluster, monkeypatch
):
    client_side = sweep_run.this_environment()
    monkeypatch.setattr(
        sweep_run, "this_environment", lambda: replace(client_side, package="0" * 64)
    )
    result = run_sweep(
        Project.at(fake_project), SweepOptions(), local_cluster, render=instant_render
    )
    for outcome in result.outcomes:
        assert outcome.status == "failed"
        assert outcome.error.startswith(
            f"worker {socket.gethostname()} refuses variant {outcome.variant.name}: "
        )
        assert (
            f"titanic source 000000000000 on the client, {client_side.package[:12]} on the worker"
            in outcome.error
        )
        assert outcome.error.endswith(
            "rebuild the worker image (or environment) from the client's checkout and uv.lock"
        )
    assert not (result.folder / "max_depth-2" / "metrics.json").exists()


@pytest.mark.slow
def test_a_local_data_folder_is_refused_before_a_remote_cluster_gets_anything(
    fake_project, local_cluster, data_copy
):
    remote = DaskExecutor.connect(local_cluster.address)
    try:
        with pytest.raises(SweepError, match="local folder the cluster's workers cannot see"):
            run_sweep(
                Project.at(fake_project),
                SweepOptions(overrides=(f"data.source={data_copy}",)),
                remote,
                render=instant_render,
            )
        assert not local_cluster.cluster.scheduler.tasks  # nothing was submitted
    finally:
        remote.client.close()


@pytest.mark.slow
def test_a_killed_worker_s_variant_is_run_again_and_every_variant_finishes(
    fake_project, tmp_path, monkeypatch
):
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setenv(MARKERS, str(markers))  # the worker processes inherit it
    executor = DaskExecutor.start_local(2)
    killed: list[int] = []

    def kill_the_first_running_variant() -> None:
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            for marker in markers.iterdir():
                # The Dask worker that renders the variant (a stand-in render runs in its
                # thread): a child of this process, which runs the LocalCluster's nannies.
                renderer = psutil.Process(int(marker.suffix[1:]))
                worker = next(
                    process
                    for process in (renderer, *renderer.parents())
                    if process.ppid() == os.getpid()
                )
                os.kill(worker.pid, signal.SIGKILL)
                killed.append(worker.pid)
                break
            time.sleep(0.1)

    killer = threading.Thread(target=kill_the_first_running_variant)
    killer.start()
    try:
        result = run_sweep(
            Project.at(fake_project), SweepOptions(), executor, render=instant_render
        )
    finally:
        killer.join()
        close_and_check(executor)
    assert len(killed) == 1
    assert [outcome.status for outcome in result.outcomes] == ["done"] * 3
    for depth in (2, 3, 4):
        folder = result.folder / f"max_depth-{depth}"
        assert json.loads((folder / "metrics.json").read_text())["metrics"]["validation"][
            "accuracy"
        ] == (pytest.approx(0.7 + depth / 100))
    # The killed variant started twice, in two different processes.
    starts = sorted(marker.stem for marker in markers.iterdir())
    assert len(starts) == 4 and len(set(starts)) == 3
    assert killed[0] != os.getpid()


@pytest.mark.slow
def test_a_cluster_left_without_workers_fails_the_sweep_naming_it(
    fake_project, tmp_path, monkeypatch
):
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setenv(MARKERS, str(markers))
    executor = DaskExecutor.start_local(1)
    executor.no_workers_timeout = 2
    outcome: list[BaseException | object] = []

    def sweep() -> None:
        try:
            project = Project.at(fake_project)
            outcome.append(run_sweep(project, SweepOptions(), executor, render=instant_render))
        except BaseException as err:  # pylint: disable=broad-exception-caught
            outcome.append(err)

    try:
        runner_thread = threading.Thread(target=sweep, daemon=True)
        runner_thread.start()
        wait_for(lambda: any(markers.iterdir()), HANG_SECONDS, "a variant to start")
        executor.cluster.scale(0)  # its worker leaves mid-variant and nothing replaces it
        runner_thread.join(HANG_SECONDS)
        assert outcome, f"the sweep still waits for a worker after {HANG_SECONDS} s"
    finally:
        close_and_check(executor)
    error = outcome[0]
    assert isinstance(error, ClusterError), error
    assert "no worker" in str(error) and "local Dask cluster" in str(error)
    assert not list((fake_project / "_output" / "variants").glob("*/manifest.json"))


def kernels(tree: psutil.Process) -> list[psutil.Process]:
    """The notebook kernels below ``tree``: one per variant rendering now."""
    found = []
    for process in tree.children(recursive=True):
        try:
            if "ipykernel" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.NoSuchProcess:
            continue
    return found


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_dask_sweep_ends_the_cluster_and_publishes_only_whole_sets(
    project, signum
):
    shutil.copyfile(REPO_ROOT / "report.qmd", project / "report.qmd")
    depths = [2, 3, 4, 5, 6, 7]
    write_params(project, **TINY_MODEL, variants={"grid": {"model.max_depth": depths}})
    variants = project / "_output" / "variants"
    process, tree = start(project, "sweep", "--cluster", "local:2")
    # The first variant published, another one rendering, the rest queued.
    wait_for(
        lambda: list(variants.glob("*/manifest.json")) and kernels(tree), 300, "a second variant"
    )
    started = stop(process, tree, signum)
    _, stderr = process.communicate(timeout=HANG_SECONDS)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    assert_all_gone(started)  # nannies, workers, kernels; the scheduler was the command itself
    time.sleep(1.0)  # nothing may still write after the command is gone
    folders = [path for path in variants.iterdir() if path.is_dir()]
    published = [folder for folder in folders if (folder / "manifest.json").is_file()]
    assert 1 <= len(published) < len(depths), stderr  # the queued variants were cancelled
    for folder in published:
        assert verify(folder) is None
    for folder in set(folders) - set(published):
        leftovers = [path.name for path in folder.iterdir() if path.name != FOLDER_LOCK]
        assert not leftovers, f"{folder.name}: files without a manifest"  # the lock is no output
    assert not list(variants.glob("*/.staging-*")) and not list(variants.glob("*/.backup-*"))


# Timings differ; output_dir differs by this test's design.
STABLE_ONLY = ("timestamp", "seconds", "duration", "started", "finished", "elapsed", "output_dir")


def without_timings(document):
    if isinstance(document, dict):
        return {
            key: without_timings(value)
            for key, value in document.items()
            if not any(word in key for word in STABLE_ONLY)
        }
    if isinstance(document, list):
        return [without_timings(value) for value in document]
    return document


@pytest.mark.slow
def test_a_real_sweep_on_a_local_cluster_gives_the_local_pool_s_metrics(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    checkout = git_state(REPO_ROOT)
    assert checkout["commit"] is not None, "run this test in a git checkout"
    results = {}
    for label, how in (("pool", ["--jobs", "2"]), ("dask", ["--cluster", "local:2"])):
        params = tmp_path / f"{label}.yaml"
        tiny = {
            **TINY_MODEL,
            "output_dir": str(tmp_path / label),
            "variants": {"grid": {"model.max_depth": [2, 3]}},  # one variant per worker
        }
        params.write_text(yaml.safe_dump(tiny), encoding="utf-8")
        before = psutil.Process().children(recursive=True)
        result = runner.invoke(app, ["sweep", "--params", str(params), *how])
        assert result.exit_code == 0, result.output
        assert_children_end(
            [p for p in psutil.Process().children(recursive=True) if p not in before]
        )
        results[label] = tmp_path / label / "variants"
    for depth in (2, 3):
        name = f"max_depth-{depth}"
        documents = [
            json.loads((results[label] / name / "metrics.json").read_text())
            for label in ("pool", "dask")
        ]
        assert documents[0]["parameters"]["model"]["max_depth"] == depth
        # The worker renders outside the checkout: the client's git state travels with the task.
        assert documents[0]["provenance"]["git"] == checkout
        assert without_timings(documents[0]) == without_timings(documents[1])
        assert (results["dask"] / name / "report.html").stat().st_size > 10_000
        # On the Dask worker too, the kernel was forked with the stack imported.
        assert (
            "forked with the stack imported" in (results["dask"] / name / "sweep.log").read_text()
        )
        manifest = json.loads((results["dask"] / name / "manifest.json").read_text())
        assert {"report.html", "report.ipynb", "metrics.json", "sweep.log"} <= set(
            manifest["files"]
        )


def test_compose_file_starts_a_scheduler_two_workers_and_minio_on_loopback():
    compose = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"scheduler", "worker-1", "worker-2", "minio"}
    assert services["scheduler"]["command"][:2] == ["dask", "scheduler"]
    for name in ("worker-1", "worker-2"):
        assert services[name]["command"][:3] == ["dask", "worker", "tcp://scheduler:8786"]
        assert services[name]["environment"]["AWS_ENDPOINT_URL"] == "http://minio:9000"
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published and all(port.startswith("127.0.0.1:") for port in published)
