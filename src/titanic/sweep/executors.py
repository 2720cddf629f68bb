"""Where the sweep's variants run: a small executor interface and its local implementations.

The sweep only calls :meth:`VariantExecutor.submit` and waits on the
:class:`concurrent.futures.Future` objects it returns, so another engine plugs in as one more
subclass, with no change to the sweep. For example, Dask distributed, whose
``Client.get_executor()`` already returns a :class:`concurrent.futures.Executor`::

    class DaskExecutor(VariantExecutor):
        def __init__(self, client):
            self.workers = sum(client.nthreads().values())
            self._executor = client.get_executor()

        def submit(self, job, task):
            return self._executor.submit(job, task)

        def shutdown(self, cancel=False):
            self._executor.shutdown(wait=True)

The job and its task must then be importable and picklable on the workers; each variant is
built in a staging folder that the sweep publishes (see :mod:`titanic.io.output_sets`).
"""

from __future__ import annotations

import multiprocessing
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType
from typing import Self, TypeVar

from titanic.processes import descendants_of, die_with_parent, terminate

Task = TypeVar("Task")
# Preloaded first by the forkserver, so that it dies with the sweep (see the module).
FORKSERVER_GUARD = "titanic.sweep.forkserver_guard"
Outcome = TypeVar("Outcome")


class VariantExecutor(ABC):
    """Run ``job(task)`` calls somewhere and hand back futures; ``workers`` run at once."""

    workers: int

    @abstractmethod
    def submit(self, job: Callable[[Task], Outcome], task: Task) -> Future[Outcome]:
        """Schedule ``job(task)``; ``job`` and ``task`` must be picklable for remote workers."""

    @abstractmethod
    def shutdown(self, cancel: bool = False) -> None:
        """Release the workers once the running jobs end; ``cancel`` drops the queued ones."""

    def terminate(self) -> None:
        """Stop now: drop the queued jobs and end the running ones (interruptions)."""
        self.shutdown(cancel=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # On an error or a signal, queued variants are dropped and running ones ended at once.
        if error is None:
            self.shutdown()
        else:
            self.terminate()


class LocalProcessExecutor(VariantExecutor):
    """A pool of ``workers`` processes on this machine, started lazily on the first submit.

    Parameters
    ----------
    workers : int
        How many jobs run at once (at least 1).
    start_method : str, optional
        ``"forkserver"`` (the default where available) or ``"spawn"``; never ``"fork"``, which
        would copy the parent's threads and sockets into each worker.
    preload : sequence of str
        Modules a forkserver imports once, before forking the workers: they then start in
        milliseconds instead of each importing the stack again (``spawn`` ignores this).
    """

    def __init__(self, workers: int, start_method: str | None = None, preload: Sequence[str] = ()):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        start_method = start_method or (
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        )
        if start_method not in {"spawn", "forkserver"}:
            raise ValueError(f"start_method must be spawn or forkserver, got {start_method!r}")
        self.workers = workers
        self.start_method = start_method
        self.preload = tuple(preload)
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, job: Callable[[Task], Outcome], task: Task) -> Future[Outcome]:
        """Schedule ``job(task)`` in a worker process."""
        if self._pool is None:
            context = multiprocessing.get_context(self.start_method)
            if self.start_method == "forkserver":
                # "__main__" first: the workers then skip re-running the main script.
                context.set_forkserver_preload(["__main__", FORKSERVER_GUARD, *self.preload])
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=die_with_parent
            )
        return self._pool.submit(job, task)

    def shutdown(self, cancel: bool = False) -> None:
        """Wait for the running jobs (and, unless ``cancel``, the queued ones); stop the pool."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None

    def terminate(self) -> None:
        """Drop the queued jobs, end the workers and what they started (kernels) by their ids."""
        if self._pool is None:
            return
        # The pool's own worker table: no public API lists the workers' ids.
        workers = list(self._pool._processes or {})  # pylint: disable=protected-access
        processes = descendants_of(workers)
        self._pool.shutdown(wait=False, cancel_futures=True)
        terminate(processes)
        self._pool = None


class InlineExecutor(VariantExecutor):
    """Run each job at once in this process: for debugging, and for tests with fake jobs."""

    workers = 1

    def submit(self, job: Callable[[Task], Outcome], task: Task) -> Future[Outcome]:
        """Run ``job(task)`` now; its result or exception is in the returned future."""
        future: Future[Outcome] = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(job(task))
        # Delivered through the future, as a pool would deliver it.
        except Exception as err:  # pylint: disable=broad-exception-caught
            future.set_exception(err)
        return future

    def shutdown(self, cancel: bool = False) -> None:
        """Nothing to release: every job already ran."""
