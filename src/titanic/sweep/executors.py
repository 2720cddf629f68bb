"""Where the sweep's variants run: a small executor interface and its implementations.

The sweep only calls :meth:`VariantExecutor.submit` and waits on the
:class:`concurrent.futures.Future` objects it returns, so another engine plugs in as one more
subclass. :class:`LocalProcessExecutor` runs variants in a process pool on this machine;
:class:`DaskExecutor` on a Dask cluster, whose workers share no filesystem with the sweep: its
``ships_files`` tells the sweep to send the project as bytes and get each sealed set back as
bytes (:mod:`titanic.sweep.remote`).
"""

from __future__ import annotations

import logging
import multiprocessing
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, InvalidStateError, ProcessPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from titanic.errors import ClusterError
from titanic.processes import descendants_of, die_with_parent, terminate

if TYPE_CHECKING:
    import distributed

Task = TypeVar("Task")
# Preloaded first by the forkserver: importing it is the forkserver's start (see the module).
FORKSERVER_ENTRY = "titanic.sweep.forkserver"
Outcome = TypeVar("Outcome")
# How long a sweep waits while its Dask cluster has no worker at all, unless Dask's own
# distributed.scheduler.no-workers-timeout says otherwise: a worker that died is replaced in
# seconds, and a cluster that scales up from nothing has this long to start one.
NO_WORKERS_TIMEOUT_SECONDS = 120.0
# How often a sweep asks its Dask scheduler whether any worker is left.
WORKERS_CHECK_SECONDS = 2.0
# How long `--scheduler` / DASK_SCHEDULER_ADDRESS may take to answer before the sweep fails.
SCHEDULER_CONNECT_SECONDS = 10.0


class VariantExecutor(ABC):
    """Run ``job(task)`` calls somewhere and hand back futures; ``workers`` run at once."""

    workers: int
    # Whether workers need the project's files as bytes and send their outputs back as bytes.
    ships_files = False
    # Whether workers can read this machine's folders (a local data.source).
    sees_local_files = True

    @abstractmethod
    def submit(self, job: Callable[..., Outcome], task: Task, *shared: Any) -> Future[Outcome]:
        """Schedule ``job(task, *shared)``; all must be picklable for remote workers."""

    def share(self, value: Any) -> Any:
        """Return a handle to ``value`` for :meth:`submit`, sent to the workers once."""
        return value

    def placement(self, futures: Iterable[Future[Any]]) -> dict[Future[Any], str]:
        """Return the futures executing now, each with the worker running it (``""``: unknown).

        A pool starts queued jobs in submission order: the first ``workers`` started run.
        """
        running = [future for future in futures if future.running()]
        return {future: "" for future in running[: self.workers]}

    def ensure_workers(self) -> None:
        """Raise :class:`ClusterError` when no worker is left to run the pending jobs.

        A local pool replaces its workers itself (or fails its futures): nothing to check.
        """
        return None

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
    tasks_per_worker : int, optional
        Jobs a worker runs before a fresh one replaces it; ``None``: no limit.
    """

    def __init__(
        self,
        workers: int,
        start_method: str | None = None,
        preload: Sequence[str] = (),
        tasks_per_worker: int | None = None,
    ):
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
        self.tasks_per_worker = tasks_per_worker
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, job: Callable[..., Outcome], task: Task, *shared: Any) -> Future[Outcome]:
        """Schedule ``job(task, *shared)`` in a worker process."""
        if self._pool is None:
            context = multiprocessing.get_context(self.start_method)
            if self.start_method == "forkserver":
                # "__main__" first: the workers then skip re-running the main script.
                context.set_forkserver_preload(["__main__", FORKSERVER_ENTRY, *self.preload])
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=die_with_parent,
                max_tasks_per_child=self.tasks_per_worker,
            )
        return self._pool.submit(job, task, *shared)

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

    def submit(self, job: Callable[..., Outcome], task: Task, *shared: Any) -> Future[Outcome]:
        """Run ``job(task, *shared)`` now; its result or exception is in the returned future."""
        future: Future[Outcome] = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(job(task, *shared))
        # Delivered through the future, as a pool would deliver it.
        except Exception as err:  # pylint: disable=broad-exception-caught
            future.set_exception(err)
        return future

    def shutdown(self, cancel: bool = False) -> None:
        """Nothing to release: every job already ran."""


def local_cluster_settings(dashboard: bool) -> dict[str, Any]:
    """Dask settings for a ``LocalCluster`` that shares this machine's cores with the renders.

    - ``worker.daemon: False``: a non-daemonic worker may start processes, and renders each
      variant in one of its own, which can fork kernels with the stack imported
      (:mod:`titanic.sweep.remote`).
    - Without a dashboard, nothing reads the workers' statistical profiles (a stack sample of
      each worker every 10 ms) or the system monitors' 0.5 s samples: profiling is off and the
      monitors sample every 5 s. A nanny checks its worker's memory every second instead of
      every 0.1 s. On 2 cores this took the cluster's processes from about 21 s to 10 to
      12 s of CPU in a sweep of 12 small variants (docs/benchmarks.md), CPU the renders
      would otherwise wait for.
    """
    settings: dict[str, Any] = {
        "distributed.worker.daemon": False,
        "distributed.worker.memory.monitor-interval": "1s",
    }
    if not dashboard:
        settings["distributed.worker.profile.enabled"] = False
        settings["distributed.admin.system-monitor.interval"] = "5s"
    return settings


class DaskExecutor(VariantExecutor):
    """Variants on a Dask cluster: a ``LocalCluster`` it starts, or a running scheduler.

    Each variant is one task (``pure=False``, no ``retries``): the scheduler moves the task of
    a worker that dies to another worker (``distributed.scheduler.allowed-failures``), while a
    variant whose own code fails returns that failure and is not run again.

    Parameters
    ----------
    client : distributed.Client
        A connected client.
    cluster : distributed.LocalCluster, optional
        The cluster this executor started, closed with it.
    config : dask.config.set, optional
        Dask settings made for that cluster, undone when it closes.
    """

    ships_files = True

    def __init__(
        self,
        client: distributed.Client,
        cluster: distributed.LocalCluster | None = None,
        config: Any = None,
    ):
        self.client = client
        self.cluster = cluster
        self.sees_local_files = cluster is not None
        self.address = str(client.scheduler.address) if client.scheduler else ""
        self.workers = max(1, sum(client.nthreads().values()))
        self._futures: dict[str, tuple[distributed.Future, Future[Any]]] = {}
        self._closed = False
        self.no_workers_timeout = _no_workers_timeout()
        self._workerless_since: float | None = None
        self._workers_checked = float("-inf")
        self._config = config

    @classmethod
    def start_local(
        cls, workers: int, dashboard: bool = False, worker_log_level: int = logging.ERROR
    ) -> DaskExecutor:
        """Start a ``LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1.

        The cluster's processes print their own log records of ``worker_log_level`` and above
        (with tracebacks) to this process's stderr: the command passes ``logging.CRITICAL``
        unless ``--debug``, so that a worker that loses its scheduler as a signal ends the
        sweep prints no traceback.
        """
        import dask  # pylint: disable=import-outside-toplevel
        import distributed  # pylint: disable=import-outside-toplevel,redefined-outer-name

        # Nannies pass these to every worker they start or restart: set until the cluster closes.
        settings = dask.config.set(local_cluster_settings(dashboard))
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0" if dashboard else None,
            silence_logs=worker_log_level,
        )
        return cls(distributed.Client(cluster, set_as_default=False), cluster, settings)

    @classmethod
    def connect(cls, address: str, timeout: float | None = None) -> DaskExecutor:
        """Connect to a running scheduler; fail within ``timeout`` seconds naming its address.

        ``timeout`` defaults to :data:`SCHEDULER_CONNECT_SECONDS`.

        Raises
        ------
        ClusterError
            When the scheduler does not answer in time, or the address is malformed.
        """
        import distributed  # pylint: disable=import-outside-toplevel,redefined-outer-name

        timeout = SCHEDULER_CONNECT_SECONDS if timeout is None else timeout
        try:
            client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, ValueError, TypeError) as err:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {address} within {timeout:g} s"
                f" ({' '.join(str(err).split()) or type(err).__name__}); start it, or fix"
                " --scheduler / DASK_SCHEDULER_ADDRESS",
                address=address,
            ) from err
        return cls(client)

    def share(self, value: Any) -> Any:
        """Copy ``value`` to every worker once; tasks then receive it by reference."""
        try:
            return self.client.scatter(value, broadcast=True, hash=False)
        except TimeoutError as err:  # Dask's "No valid workers found"
            raise self._no_workers_error() from err

    def submit(self, job: Callable[..., Outcome], task: Task, *shared: Any) -> Future[Outcome]:
        """Schedule ``job(task, *shared)`` as one Dask task; return a standard future."""
        name = getattr(task, "name", "task")
        key = f"variant-{name}-{uuid.uuid4().hex[:8]}"
        remote = self.client.submit(job, task, *shared, key=key, pure=False, retries=0)
        future: Future[Outcome] = Future()

        def deliver(done: distributed.Future) -> None:
            try:
                if done.status == "finished":
                    future.set_result(done.result())
                elif done.status == "cancelled":
                    future.cancel()
                else:
                    future.set_exception(done.exception())
            except InvalidStateError:
                pass  # the sweep cancelled it first

        remote.add_done_callback(deliver)
        self._futures[key] = (remote, future)
        return future

    def placement(self, futures: Iterable[Future[Any]]) -> dict[Future[Any], str]:
        """Ask the scheduler which worker runs which variant."""
        by_key = {key: future for key, (_, future) in self._futures.items()}
        wanted = set(futures)
        where: dict[Future[Any], str] = {}
        for worker, keys in self.client.processing().items():
            for key in keys:
                future = by_key.get(str(key))
                if future is not None and future in wanted:
                    where[future] = str(worker).removeprefix("tcp://")
        return where

    def ensure_workers(self) -> None:
        """Raise :class:`ClusterError` once the cluster has had no worker for a while.

        The scheduler keeps the tasks of a cluster without workers waiting for one, and so
        would the sweep, for ever: it gives up after :attr:`no_workers_timeout` seconds.
        The scheduler is asked at most every :data:`WORKERS_CHECK_SECONDS`: the sweep's loop
        calls this twice a second, and also asks for :meth:`placement`.
        """
        now = time.monotonic()
        if now - self._workers_checked < WORKERS_CHECK_SECONDS:
            return
        self._workers_checked = now
        if self.client.nthreads():
            self._workerless_since = None
            return
        if self._workerless_since is None:
            self._workerless_since = now
        elif now - self._workerless_since >= self.no_workers_timeout:
            raise self._no_workers_error()

    def _no_workers_error(self) -> ClusterError:
        waited = f"had no worker for {self.no_workers_timeout:g} s"
        if self.cluster is not None:
            message = (
                f"the local Dask cluster at {self.address} has {waited}: its workers died and"
                " none came back (see their logs), or run the sweep on the local pool (--jobs)"
            )
        else:
            message = (
                f"the Dask cluster at {self.address} has {waited}: start workers"
                f" (dask worker {self.address}), or wait longer with Dask's"
                " distributed.scheduler.no-workers-timeout"
            )
        return ClusterError(message, address=self.address)

    def shutdown(self, cancel: bool = False) -> None:
        """Wait for the tasks (unless ``cancel``), then close the client and our cluster.

        Only the first call does anything: an interrupted sweep terminates the executor, then
        leaves its ``with`` block, and a closed client cannot be asked to cancel again.
        """
        if self._closed:
            return
        self._closed = True
        remotes = [remote for remote, _ in self._futures.values()]
        if cancel:
            self.client.cancel(remotes, force=True)
        else:
            self.client.gather(remotes, errors="skip")
        self._futures.clear()
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
        if self._config is not None:
            self._config.__exit__(None, None, None)
            self._config = None


def _no_workers_timeout() -> float:
    """Dask's ``distributed.scheduler.no-workers-timeout`` in seconds, or our default."""
    import dask  # pylint: disable=import-outside-toplevel
    from dask.utils import parse_timedelta  # pylint: disable=import-outside-toplevel

    configured = dask.config.get("distributed.scheduler.no-workers-timeout", None)
    return float(parse_timedelta(configured)) if configured else NO_WORKERS_TIMEOUT_SECONDS
