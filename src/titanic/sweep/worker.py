"""Render one variant in a worker: its own log, bounded retries of kernel start failures."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from titanic.errors import TitanicError
from titanic.fingerprint import key_record
from titanic.io.output_sets import Staging, seal
from titanic.provenance import utc_timestamp
from titanic.report.kernels import discard_standby, fork_standby
from titanic.report.request import RenderRequest

logger = logging.getLogger(__name__)

LOG_FILENAME = "sweep.log"
FAILED_LOG_FILENAME = "sweep-failed.log"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
KERNEL_START_RETRIES = 2
RETRY_DELAY_SECONDS = 2.0
# What jupyter_client and pyzmq say when a kernel cannot start, typically because two kernels
# launched at once picked the same port (papermill issues #239 and #511).
KERNEL_START_MARKERS = (
    "Kernel didn't respond",
    "Kernel died before replying to kernel_info",
    "Address already in use",
)
# joblib (scikit-learn's n_jobs) counts at most this many cores: with 1, ``n_jobs: -1`` means
# one core, so the variants running side by side do not oversubscribe the machine.
CORES_VARIABLE = "LOKY_MAX_CPU_COUNT"
Status = Literal["done", "cached", "failed", "skipped"]
# render_into's signature: the render request and the (staging) folder to write into.
Renderer = Callable[[RenderRequest, Path], Any]


@dataclass(frozen=True)
class VariantTask:
    """What a worker needs to render one variant; picklable."""

    name: str
    request: RenderRequest
    folder: Path
    components: dict[str, Any]
    retries: int = KERNEL_START_RETRIES
    render: Renderer | None = None


@dataclass(frozen=True)
class SealedFiles:
    """A sealed set (or a failed variant's log) as bytes, for a client with no shared disk."""

    files: dict[str, bytes]


@dataclass(frozen=True)
class VariantRun:
    """What a worker reports back: its sealed set as a staging folder, or as bytes."""

    name: str
    ok: bool
    seconds: float
    attempts: int
    error: str | None = None
    staging: str | None = None
    files: SealedFiles | None = None


def is_kernel_start_error(error: BaseException) -> bool:
    """Tell whether an error, or one it was raised from, is a kernel that failed to start.

    An error raised by a cell of the notebook is never one, whatever its message.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    found = False
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in {"PapermillExecutionError", "CellExecutionError"}:
            return False
        found = found or any(marker in str(current) for marker in KERNEL_START_MARKERS)
        current = current.__cause__ or current.__context__
    return found


def one_line(error: BaseException) -> str:
    """Summarise an error on one line: our errors by their message, others with their type."""
    text = " ".join(str(error).split()) or "no message"
    if not isinstance(error, TitanicError):
        text = f"{type(error).__name__}: {text}"
    return text if len(text) <= 300 else text[:297] + "..."


def _default_renderer() -> Renderer:
    # Imported here: the report machinery (papermill, nbconvert) loads only in the workers.
    from titanic.report.render import render_into  # pylint: disable=import-outside-toplevel

    return render_into


def _clear(folder: Path, keep: str) -> None:
    """Remove what a failed attempt wrote into ``folder``, but its hidden files and ``keep``."""
    for path in folder.iterdir():
        if path.name != keep and not path.name.startswith("."):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def _render_with_retries(task: VariantTask, folder: Path, attempts: list[int]) -> Any:
    """Render into ``folder``; retry, a bounded number of times, only when no kernel started."""
    render = task.render or _default_renderer()
    while True:
        attempts.append(len(attempts) + 1)
        try:
            return render(task.request, folder)
        # Kernel start failures come as RuntimeError, TimeoutError, ZMQError or wrapped in a
        # ReportError: only the message tells them apart. Everything else is re-raised.
        except Exception as err:  # pylint: disable=broad-exception-caught
            if len(attempts) > task.retries or not is_kernel_start_error(err):
                raise
            logger.warning("%s: the kernel did not start (%s); retrying", task.name, one_line(err))
            _clear(folder, keep=LOG_FILENAME)
            time.sleep(RETRY_DELAY_SECONDS * len(attempts))


@contextmanager
def variant_log(path: Path) -> Iterator[None]:
    """Send every log record, and in a worker process also stderr, to ``path``.

    In a worker, the file replaces file descriptor 2 for the duration, so that the kernel's own
    messages land in the variant's log instead of garbling the sweep's live display.
    """
    path.write_text("", encoding="utf-8")
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    saved_stderr = None
    if in_worker():
        sys.stderr.flush()
        saved_stderr = os.dup(2)
        with path.open("ab") as log_file:
            os.dup2(log_file.fileno(), 2)
    try:
        yield
    finally:
        if saved_stderr is not None:
            sys.stderr.flush()
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def in_worker() -> bool:
    """Tell whether this is a worker process (of a pool or cluster), not the sweep itself."""
    return multiprocessing.parent_process() is not None


def one_core_per_variant() -> None:
    """Make ``n_jobs: -1`` mean one core in this worker and the kernels it starts."""
    os.environ[CORES_VARIABLE] = "1"


def execute_variant(task: VariantTask) -> VariantRun:
    """Render one variant into a staging folder inside its folder, sealed with its cache record.

    Runs in a worker, and publishes nothing: the sweep publishes the staging folder it returns
    (:func:`titanic.io.output_sets.publish`), so an interrupted sweep never leaves a variant
    half-replaced. Any failure is caught and returned, so that it stays this variant's: the
    traceback goes to ``<variant>/sweep-failed.log`` and one line to the summary; the
    variant's previous outputs stay as they were.
    """
    one_core_per_variant()
    attempts: list[int] = []
    started = time.perf_counter()
    failure: VariantRun | None = None
    with Staging(task.folder) as staging:
        with variant_log(staging.path / LOG_FILENAME):
            if in_worker():
                # The kernel, forked now from this worker, starts with the stack imported.
                fork_standby()
            try:
                logger.info("variant %s: rendering", task.name)
                _render_with_retries(task, staging.path, attempts)
                logger.info("variant %s: done in %.1f s", task.name, time.perf_counter() - started)
            # Any error of one variant is that variant's outcome, never the end of the sweep.
            except Exception as err:  # pylint: disable=broad-exception-caught
                logger.exception("variant %s failed", task.name)
                failure = VariantRun(
                    task.name, False, time.perf_counter() - started, len(attempts), one_line(err)
                )
            finally:
                discard_standby()
        seconds = time.perf_counter() - started
        if failure is not None:
            os.replace(staging.path / LOG_FILENAME, task.folder / FAILED_LOG_FILENAME)
            return failure
        record = {
            **key_record(task.components),
            "seconds": round(seconds, 3),
            "finished": utc_timestamp(),
        }
        seal(staging, "sweep", task.components["parameters"], extra={"cache": record})
        return VariantRun(task.name, True, seconds, len(attempts), staging=str(staging.keep()))
