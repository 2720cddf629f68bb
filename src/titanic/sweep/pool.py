"""The local pool that renders variants: a sweep's, or one per Dask worker.

Its processes are forked from a server that imported the report's stack once, and its
forkserver starts with :mod:`titanic.sweep.forkserver`.
"""

from __future__ import annotations

from titanic.sweep.executors import LocalProcessExecutor

# What a worker imports to render a variant, and its kernels to run the report's cells:
# preloaded once by a forkserver; kernels are forked from the workers with them
# (titanic.report.kernels).
WORKER_MODULES = (
    "titanic.sweep.run",
    "titanic.report.render",
    "papermill",
    "titanic.report.engine",
    "titanic.report.html",
    "ipykernel.kernelapp",
    "titanic.analysis",
    "titanic.outputs",
    "titanic.report.overview",
    "titanic.modeling.predict",
)


def render_pool(workers: int) -> LocalProcessExecutor:
    """Return a pool of ``workers`` processes rendering variants (a sweep's or a Dask worker's).

    Each is forked from a server that imported :data:`WORKER_MODULES` once, and serves one
    variant: nothing of a previous variant runs in it, so it can fork its kernel with the stack
    imported (:mod:`titanic.report.kernels`).
    """
    return LocalProcessExecutor(workers, preload=WORKER_MODULES, tasks_per_worker=1)
