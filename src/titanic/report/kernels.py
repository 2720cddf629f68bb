"""Kernels that start with the report's stack already imported: forked, not launched.

A kernel launched as a new interpreter imports pandas, scikit-learn, matplotlib and the package
again before its first cell: seconds per sweep variant, most of the fixed cost. A sweep worker
is forked from a server that imported them once (:data:`titanic.sweep.pool.WORKER_MODULES`);
:func:`fork_standby` forks it once more, at the start of a variant and before anything else
runs in it, into a child that waits. When papermill starts the variant's kernel,
:class:`StandbyKernelManager` hands that child the kernel's command line, working folder and
environment, and the child runs ``ipykernel`` in place: the same kernel, already holding the
imports. ``titanic render`` forks its standby once the parameters are valid, from a process
that has not imported the stack yet: the child imports it (:data:`REPORT_KERNEL_MODULES`) on
another core while the render loads papermill and starts the execution. Without a standby (a
Dask worker, a test calling papermill), kernels are launched as usual.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import signal
import sys
import threading
import traceback
import uuid
from collections.abc import Sequence
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from titanic.processes import die_with_parent

logger = logging.getLogger(__name__)

KERNEL_MODULE = "ipykernel_launcher"
# What the report's kernel imports before its first cell can run (ipykernel, then the setup
# cell's stack): a plain render's standby imports them while the render starts.
REPORT_KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "titanic.analysis",
    "titanic.dataset",
    "titanic.modeling.predict",
    "titanic.outputs",
    "titanic.report.display",
    "titanic.report.overview",
)
# The standby child of each process (by id): a copy of this process made by fork must not
# take its parent's.
_STANDBY: dict[int, Standby] = {}


class ForkedProcess:
    """The handle ``LocalProvisioner`` expects of a kernel process, for a forked child."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """Return the exit code, or ``None`` while the child runs."""
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        """Wait for the child to end; return its exit code."""
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        """Send a signal to the child, unless it has ended."""
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        """End the child with SIGKILL."""
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        """Ask the child to end with SIGTERM."""
        self.send_signal(signal.SIGTERM)


class Standby:
    """A forked child of this process, waiting for a kernel's command line on a pipe."""

    def __init__(self, pid: int, pipe: int):
        self.process = ForkedProcess(pid)
        self._pipe = pipe

    def start(self, argv: list[str], cwd: str, env: dict[str, str]) -> ForkedProcess:
        """Make the child run ``ipykernel`` with these arguments, folder and environment."""
        request = json.dumps({"argv": argv, "cwd": cwd, "env": env}).encode()
        with os.fdopen(self._pipe, "wb") as pipe:
            pipe.write(request)
        return self.process

    def discard(self) -> None:
        """End an unused child: it reads an empty request and exits, or ends while it imports."""
        os.close(self._pipe)
        self.process.terminate()
        self.process.wait()


def _serve(pipe: int, preload: Sequence[str] = ()) -> None:
    """In the child: import ``preload``, wait for a request, then run the kernel it describes.

    Never returns.
    """
    code = 1
    try:
        die_with_parent()
        # A standby ends when its parent discards or ends it, quietly; a kernel starts with
        # the signal handlers a new interpreter has, not the parent's.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for stop in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(stop, signal.SIG_DFL)
        _import_all(preload)
        with os.fdopen(pipe, "rb") as requests:
            request = requests.read()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if not request:
            os._exit(0)
        spec = json.loads(request)
        os.setsid()  # its own process group, as launched kernels have: signals reach it alone
        os.chdir(spec["cwd"])
        os.environ.clear()
        os.environ.update(spec["env"])
        sys.path.insert(0, spec["cwd"])  # as `python -m ipykernel_launcher` run there has it
        # The parent's event loop (if any) is not this process's: ipykernel makes its own.
        asyncio.set_event_loop_policy(None)
        from ipykernel.kernelapp import (  # pylint: disable=import-outside-toplevel
            IPKernelApp,
        )

        app = IPKernelApp.instance()
        # Read from JPY_PARENT_PID when ipykernel was imported, before this kernel's parent
        # was known: the kernel ends when its parent (the worker) does.
        app.initialize([*spec["argv"], f"--IPKernelApp.parent_handle={os.getppid()}"])
        app.start()
        code = 0
    # Whatever ends the kernel, the child must not return into the parent's code.
    except BaseException:  # pylint: disable=broad-exception-caught
        traceback.print_exc()
    finally:
        os._exit(code)


def fork_standby(preload: Sequence[str] = ()) -> bool:
    """Fork a standby kernel for the next kernel this process starts; tell whether it did.

    Call it while this process runs nothing else: the child is a copy of it. A process with
    other threads (a Dask worker) is not forked, since a lock one of them holds would stay
    held in the copy: its kernels are launched as usual. ``preload``: modules the child
    imports while it waits, on another core than this process's own work (a plain render's
    kernel then starts with the report's stack imported, as a sweep's does).
    """
    discard_standby()
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(write)
        _serve(read, preload)
    os.close(read)
    _STANDBY[os.getpid()] = Standby(pid, write)
    return True


def _import_all(modules: Sequence[str]) -> None:
    """Import ``modules``; one that fails is left to the kernel's cell, which names the error."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            logger.debug("standby kernel: %s not preloaded", module, exc_info=True)


def discard_standby() -> None:
    """End the standby kernel if it was not used."""
    standby = _STANDBY.pop(os.getpid(), None)
    if standby is not None:
        standby.discard()


class StandbyProvisioner(LocalProvisioner):
    """Starts an ipykernel command in the standby child when there is one."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Hand ``cmd`` to the standby child, or launch it as usual.

        Only an ipykernel command of this very interpreter is handed over: a kernel spec
        naming another Python or another kernel is launched as it says.
        """
        ours = cmd[:1] == [sys.executable] and KERNEL_MODULE in cmd[1:3]
        standby = _STANDBY.pop(os.getpid(), None) if ours else None
        if standby is None:
            return await super().launch_kernel(cmd, **kwargs)
        argv = cmd[cmd.index(KERNEL_MODULE) + 1 :]
        env = kwargs.get("env") or dict(os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        process = standby.start(argv, cwd, env)
        # LocalProvisioner only polls, waits for and signals its process: a fork's handle does.
        self.process = process  # type: ignore[assignment]
        self.pid = self.pgid = process.pid
        self.cwd = cwd
        logger.info("kernel %d: forked with the stack imported", process.pid)
        return self.connection_info


class StandbyKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel is the standby child when one was forked."""

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = StandbyProvisioner(
                kernel_id=self.kernel_id,
                kernel_spec=self.kernel_spec,
                parent=self,
            )
        return await super()._async_pre_start_kernel(**kw)
