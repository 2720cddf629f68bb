"""Variants on workers that share no filesystem with the sweep: what travels, and checks.

The client packs the report, its typesetting files and the checkout's git state into a
:class:`ProjectBundle` (bytes), sent once to the cluster; each task carries its variant's
settings, validated once by the client. A worker unpacks it
once per sweep into a project folder of its own, refuses the task if its ``titanic`` package
or its Python/Dask versions differ from the client's, renders the variant there with
:func:`titanic.sweep.worker.execute_variant` (the local pool's code), and returns the sealed set
as bytes (:class:`SealedFiles`). The client
writes those bytes into a staging folder inside the variant's folder, checks each against the
manifest's sha256 and size, and publishes it as it publishes a local worker's staging folder.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import platform
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from titanic.config import DataSettings
from titanic.errors import ClusterError, OutputError, SweepError
from titanic.fingerprint import files_sha256, package_sha256
from titanic.io.atomic import write_bytes
from titanic.io.locations import resolve_location
from titanic.io.output_sets import (
    MANIFEST,
    Staging,
    _files_of,
    os_error,
    read_manifest,
    verify,
)
from titanic.project import Project
from titanic.provenance import SHIPPED_GIT_STATE, git_state
from titanic.sweep.cache import TYPESETTING_FILES
from titanic.sweep.pool import render_pool
from titanic.sweep.worker import (
    FAILED_LOG_FILENAME,
    SealedFiles,
    VariantRun,
    VariantTask,
    execute_variant,
)


@dataclass(frozen=True)
class Compatibility:
    """What must be equal on the client and its workers for a variant to mean the same."""

    package: str
    python: str
    dask: str

    def differences(self, worker: Compatibility) -> list[str]:
        """Name each field that differs, with both sides (client first)."""
        labels = {"package": "titanic source", "python": "Python", "dask": "Dask"}
        return [
            f"{labels[name]} {getattr(self, name)[:12]} on the client,"
            f" {getattr(worker, name)[:12]} on the worker"
            for name in labels
            if getattr(self, name) != getattr(worker, name)
        ]


@functools.cache
def this_environment() -> Compatibility:
    """Return this process's package fingerprint (as in the cache key) and versions."""
    import distributed  # pylint: disable=import-outside-toplevel

    return Compatibility(package_sha256(), platform.python_version(), distributed.__version__)


@dataclass(frozen=True)
class ProjectBundle:
    """The project files a worker needs, as bytes, keyed by their path inside the project."""

    files: Mapping[str, bytes]
    client: Compatibility

    def unpack(self, root: Path) -> Project:
        """Write the files under ``root`` and return the project they make."""
        for name, content in self.files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        return Project.at(root)

    def digest(self) -> str:
        """Return the sha256 of the files' names and bytes."""
        return files_sha256(self.files)

    def unpack_once(self, folder: Path) -> Project:
        """Return the project of these files in ``folder``, unpacked by the first caller.

        Every variant of a sweep that a worker renders then runs in one project folder, so
        the report's shared cache (``<output_dir>/.cache`` of a relative ``output_dir``)
        draws the data's tables and figures once per worker, not once per variant. The
        folder is named by :meth:`digest` and moved into place whole, so a caller never sees
        it half-written and another sweep's files never share it.
        """
        root = folder / self.digest()
        if not root.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            unpacked = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=folder))
            self.unpack(unpacked)
            try:
                unpacked.rename(root)
            except OSError:  # another variant of this worker put it in place first
                shutil.rmtree(unpacked, ignore_errors=True)
        return Project.at(root)


def _inside(project: Project, path: Path) -> str | None:
    try:
        return path.resolve().relative_to(project.root).as_posix()
    except ValueError:
        return None


def bundle_project(
    project: Project,
    report: Path,
    data: Iterable[DataSettings],
    client: Compatibility,
) -> ProjectBundle:
    """Pack what a worker reads from the project: the report and its typesetting files.

    The parameters travel in each task, resolved and validated (no parameter file does); the
    training and test files of a relative local ``data.source`` travel too (only a local
    cluster can have one), and so does the checkout's git state, which a worker's metrics
    record as the client's.
    """
    files = {SHIPPED_GIT_STATE: json.dumps(git_state(project.root)).encode()}
    for path in (report, *(report.parent / name for name in TYPESETTING_FILES)):
        if path.is_file():
            files[_inside(project, path) or path.name] = path.read_bytes()
    for settings in data:
        if resolve_location(settings).kind == "local" and not Path(settings.source).is_absolute():
            folder = project.resolve(settings.source)
            for name in (settings.train_file, settings.test_file):
                files[f"{Path(settings.source).as_posix()}/{name}"] = (folder / name).read_bytes()
    return ProjectBundle(files, client)


def refuse_local_data(data: Iterable[DataSettings]) -> None:
    """Refuse a local ``data.source`` before a remote cluster gets any variant.

    Raises
    ------
    SweepError
        Naming the source and the three sources every worker can read.
    """
    for settings in data:
        if resolve_location(settings).kind == "local":
            raise SweepError(
                f"data.source {settings.source} is a local folder the cluster's workers cannot"
                " see: push it with `titanic data push --to s3://bucket/prefix` and use that,"
                " an https:// URL, or data.source=embedded"
            )


def _task_in(task: VariantTask, project: Project, original: Project, folder: Path) -> VariantTask:
    """Point a client's task at the unpacked project and a private variant folder."""
    report = project.root / (
        _inside(original, task.request.report_path) or task.request.report_path.name
    )
    request = replace(task.request, project=project, report=report)
    return replace(task, request=request, folder=folder)


def execute_shipped(task: VariantTask, bundle: ProjectBundle) -> VariantRun:
    """Render a variant on a worker with no shared filesystem; return the sealed set as bytes.

    Raises
    ------
    ClusterError
        When this worker's package fingerprint, Python or Dask version is not the client's.
    """
    worker = this_environment()
    differences = bundle.client.differences(worker)
    if differences:
        raise ClusterError(
            f"worker {platform.node()} refuses variant {task.name}: {'; '.join(differences)};"
            " rebuild the worker image (or environment) from the client's checkout and uv.lock"
        )
    with tempfile.TemporaryDirectory(prefix="titanic-variant-") as temporary:
        root = Path(temporary)
        project = bundle.unpack_once(_projects_folder())
        local = _task_in(task, project, task.request.project, root / "variants" / task.name)
        run = _execute(local)
        if run.staging is not None:
            staging = Path(run.staging)
            files = {name: (staging / name).read_bytes() for name in _files_of(staging)}
            return replace(run, staging=None, files=SealedFiles(files))
        failed_log = local.folder / FAILED_LOG_FILENAME
        log = failed_log.read_bytes() if failed_log.is_file() else None
        return replace(run, files=SealedFiles({FAILED_LOG_FILENAME: log}) if log else None)


def _projects_folder() -> Path:
    """Return where this Dask worker keeps the projects it unpacked.

    In the worker's own local directory, which Dask removes when the worker ends; in the
    temporary folder outside a worker.
    """
    import distributed  # pylint: disable=import-outside-toplevel

    try:
        local = Path(distributed.get_worker().local_directory)
    except ValueError:  # not in a worker
        local = Path(tempfile.gettempdir())
    return local / "titanic-projects"


def _execute(task: VariantTask) -> VariantRun:
    """Run :func:`~titanic.sweep.worker.execute_variant` in this Dask worker's render process.

    A Dask worker runs threads, so it cannot fork a kernel with the stack already imported
    (:mod:`titanic.report.kernels`); a process of its own, forked from a server that imported
    the stack once, can, as the local pool's workers do. A fresh one serves each variant.
    If that process dies, the variant fails, as in the local pool; if the Dask worker dies,
    Dask runs the variant again elsewhere. A daemonic worker (Dask's default,
    ``distributed.worker.daemon``) may not start processes: it renders in its own thread,
    launching each kernel as a new interpreter. So does a stand-in render (tests,
    benchmarks), which may not be importable by the render process.
    """
    if task.render is not None or multiprocessing.current_process().daemon:
        return execute_variant(task)
    with render_pool(1) as render_process:
        return render_process.submit(execute_variant, task).result()


def receive(run: VariantRun, folder: Path) -> VariantRun:
    """Write a shipped set into a staging folder of ``folder``, checked against its manifest.

    A failed variant's shipped log becomes ``<folder>/sweep-failed.log``, as locally.

    Raises
    ------
    OutputError
        When a file is missing, altered or unlisted, or the staging folder cannot be written.
    """
    if run.files is None:
        return run
    if not run.ok:
        log = run.files.files.get(FAILED_LOG_FILENAME)
        if log is not None:
            folder.mkdir(parents=True, exist_ok=True)
            write_bytes(folder / FAILED_LOG_FILENAME, log)
        return replace(run, files=None)
    with Staging(folder) as staging:
        try:
            for name, content in run.files.files.items():
                path = staging.path / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        except OSError as err:
            raise os_error(err, staging.path, "write the variant's files into") from err
        problem = verify(staging.path)
        listed = set(run.files.files) - {MANIFEST}
        if problem is None and listed != set(_manifest_files(staging.path)):
            problem = "outputs not in the manifest"
        if problem is not None:
            raise OutputError(
                f"{folder.name}: the files sent by the worker fail their manifest: {problem}",
                path=str(folder),
            )
        return replace(run, staging=str(staging.keep()), files=None)


def _manifest_files(folder: Path) -> list[str]:
    manifest = read_manifest(folder) or {"files": {}}
    return list(manifest["files"])
