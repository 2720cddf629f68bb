"""Child processes: run a command with a deadline, a call in a forked copy, and end them all.

Quarto and Chromium start helpers of their own, so each runs in a process group of its own and
is ended as a group. On a signal the CLI ends all the processes below it (kernels, workers,
the forkserver, the resource tracker, Chromium) by their ids with :func:`end_descendants`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import pickle
import signal
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

import psutil

from titanic.errors import ReportError, TitanicError

Value = TypeVar("Value")

COMMAND_TIMEOUT_SECONDS = 180
GRACE_SECONDS = 2.0
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def run_command(command: list[str], cwd: Path, what: str) -> None:
    """Run ``command`` in ``cwd``; raise a :class:`ReportError` naming ``what`` when it fails.

    The command and everything it starts form one process group, ended as a whole when the
    deadline passes or this process is interrupted.
    """
    try:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            command,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except OSError as err:
        raise ReportError(f"{what} failed: {err}") from err
    try:
        stdout, stderr = process.communicate(timeout=COMMAND_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as err:
        raise ReportError(f"{what} failed: no result after {COMMAND_TIMEOUT_SECONDS} s") from err
    finally:
        _end_group(process)
    if process.returncode != 0:
        detail = (stderr or stdout).strip().splitlines()[-3:]
        raise ReportError(f"{what} exited with code {process.returncode}: {' '.join(detail)}")


def _end_group(process: subprocess.Popen[str]) -> None:
    """Kill what is left of the process's group (helpers that outlive their parent)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def die_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (a worker's initializer).

    A sweep killed with ``kill -9`` cannot end its workers; its forkserver then exits, and this
    ends the workers with it (their kernels follow: ipykernel exits when its parent is gone).
    Elsewhere than Linux it does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def terminate(processes: Iterable[psutil.Process], grace: float = GRACE_SECONDS) -> None:
    """Send SIGTERM to every process, wait up to ``grace`` seconds, then SIGKILL the rest."""
    alive = []
    for process in processes:
        try:
            process.terminate()
            alive.append(process)
        except psutil.NoSuchProcess:
            continue
    _, survivors = psutil.wait_procs(alive, timeout=grace)
    for process in survivors:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(survivors, timeout=grace)


def descendants_of(pids: Iterable[int]) -> list[psutil.Process]:
    """Return the processes with these ids and all their descendants, as they are now."""
    found: dict[int, psutil.Process] = {}
    for pid in pids:
        try:
            process = psutil.Process(pid)
            for member in (process, *process.children(recursive=True)):
                found[member.pid] = member
        except psutil.NoSuchProcess:
            continue
    return list(found.values())


def end_descendants(grace: float = GRACE_SECONDS) -> None:
    """End every process below this one: the snapshot is taken first, so orphans are caught."""
    terminate(psutil.Process().children(recursive=True), grace)


class ForkedCall(Generic[Value]):
    """A function running in a forked copy of this process; :meth:`result` waits for it.

    The copy shares this process's imports and data (copied on write), so it starts at once.
    It sends back, through a pipe, what the function returned or raised, and the log records
    (``WARNING`` and above) and warnings it emitted, which :meth:`result` emits here: the copy
    writes nothing to the terminal, a notebook's output or a file of its own.
    """

    def __init__(self, what: str, function: Callable[..., Value], *args: object):
        self.what = what
        reader, writer = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the copy
            os.close(reader)
            _run_and_send(writer, function, args)
        os.close(writer)
        self._reader = reader
        self._status: int | None = None  # the copy's wait status, once collected

    def result(self) -> Value:
        """Wait for the copy; return the function's value or raise its exception here."""
        if self._status is not None:
            raise RuntimeError(f"{self.what}: the result was already taken")
        with os.fdopen(self._reader, "rb", closefd=False) as pipe:
            message = pipe.read()
        self._status = os.waitpid(self.pid, 0)[1]
        if not message:
            code = os.waitstatus_to_exitcode(self._status)
            raise TitanicError(f"{self.what} stopped: its process ended with exit code {code}")
        outcome, value, records, caught = pickle.loads(message)
        for record in records:
            logging.getLogger(record.name).handle(record)
        for warning in caught:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
        if outcome == "raised":
            raise value
        return value

    def end(self) -> None:
        """Close the pipe; kill the copy if it was not collected (interrupted, or never asked)."""
        os.close(self._reader)
        if self._status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._status = os.waitpid(self.pid, 0)[1]


@contextlib.contextmanager
def forked_call(
    what: str, function: Callable[..., Value], *args: object
) -> Iterator[ForkedCall[Value]]:
    """Run ``function(*args)`` in a forked copy of this process, ended on leaving the block.

    ``what`` names the work in the error raised when the copy dies without a result. Leaving
    the block without taking the result (an error, Ctrl-C) kills the copy.
    """
    call = ForkedCall(what, function, *args)
    try:
        yield call
    finally:
        call.end()


class _Collected(logging.Handler):
    """Keeps the copy's log records, to be emitted by the process that forked it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
        self.records.append(record)


def _run_and_send(writer: int, function: Callable[..., Any], args: tuple[object, ...]) -> None:
    """In the copy: run the call, send its outcome, logs and warnings, and exit at once.

    ``os._exit``: the copy must not run this process's exit handlers, flush its buffers or
    return into its caller's code.
    """
    try:
        die_with_parent()
        collected = _Collected()
        root = logging.getLogger()
        root.handlers, root.level = [collected], logging.WARNING
        for logger in logging.Logger.manager.loggerDict.values():
            if isinstance(logger, logging.Logger):
                logger.handlers = []
        # Open until os._exit: the copy's own streams, never the terminal's or a notebook's.
        sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115  # pylint: disable=consider-using-with
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            try:
                outcome: tuple[str, object] = ("returned", function(*args))
            except BaseException as error:  # pylint: disable=broad-exception-caught
                outcome = ("raised", error)
        try:
            message = pickle.dumps((*outcome, collected.records, caught))
        except Exception as error:  # pylint: disable=broad-exception-caught
            failure = TitanicError(f"{type(error).__name__}: {error}")
            message = pickle.dumps(("raised", failure, [], []))
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(message)
    finally:
        os._exit(0)
