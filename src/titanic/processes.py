"""Child processes: run a command with a deadline, and end every process a command started.

Quarto and Chromium start helpers of their own, so each runs in a process group of its own and
is ended as a group. On a signal the CLI ends all the processes below it (kernels, workers,
the forkserver, the resource tracker, Chromium) by their ids with :func:`end_descendants`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import psutil

from titanic.errors import ReportError

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
