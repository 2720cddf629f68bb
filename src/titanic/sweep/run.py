"""Render the report for every variant of params.yaml: expanded, cached, run in parallel.

Each variant is params.yaml (then ``--params`` files, then ``-P``) with the variant's values on
top. It is keyed by a sha256 of everything that determines its result: the report source, the
package source, its resolved parameters, the data bytes and uv.lock. A variant whose stored
key matches, and whose outputs exist, is not run again and its folder is not touched.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from titanic.config import load_settings
from titanic.errors import OutputError, SweepError, TitanicError, some_of
from titanic.io.locations import data_fingerprint
from titanic.io.output_sets import check_writable_folder, publish, remove_stale
from titanic.project import OUTPUT_SET, VARIANTS_DIRNAME, Project
from titanic.report.request import RenderRequest
from titanic.sweep.cache import (
    cache_components,
    read_cache_record,
    source_fingerprint,
    stale_reason,
)
from titanic.sweep.compare import ComparisonEntry, write_comparison
from titanic.sweep.executors import VariantExecutor
from titanic.sweep.remote import (
    bundle_project,
    execute_shipped,
    receive,
    refuse_local_data,
    this_environment,
)
from titanic.sweep.variants import Variant, expand_variants, resolved_value, swept_keys
from titanic.sweep.worker import (
    FAILED_LOG_FILENAME,
    KERNEL_START_RETRIES,
    LOG_FILENAME,
    Renderer,
    VariantRun,
    VariantTask,
    execute_variant,
    one_line,
)

Status = Literal["done", "cached", "failed", "skipped"]
# What a variant's output set replaces in its folder: the report's files, and the log of a run.
VARIANT_SET = (*OUTPUT_SET, LOG_FILENAME, FAILED_LOG_FILENAME)


@dataclass(frozen=True)
class VariantOutcome:
    """How a variant ended in this sweep."""

    variant: Variant
    status: Status
    seconds: float | None = None
    reason: str = ""
    error: str | None = None
    attempts: int = 0


@dataclass(frozen=True)
class SweepResult:
    """All outcomes, where they were written, and how long the sweep took."""

    folder: Path
    outcomes: tuple[VariantOutcome, ...]
    index: Path
    summary: Path
    seconds: float

    def with_status(self, status: Status) -> list[VariantOutcome]:
        """Return the outcomes that ended with ``status``."""
        return [outcome for outcome in self.outcomes if outcome.status == status]


@dataclass(frozen=True)
class SweepOptions:
    """What the user asked for: parameter layers, variants to run, forcing, report, limits."""

    params_files: tuple[Path, ...] = ()
    overrides: tuple[str, ...] = ()
    force: bool = False
    only: tuple[str, ...] = ()
    report: Path | None = None
    cell_timeout: int = 600
    retries: int = KERNEL_START_RETRIES


class SweepObserver:
    """Receives the sweep's progress; the base class ignores it (see :class:`SweepProgress`)."""

    def start(self, total: int) -> None:
        """Announce how many variants the sweep covers."""

    def finished(self, outcome: VariantOutcome) -> None:
        """Report a variant that ended: cached, done or failed."""

    def running(self, workers: Mapping[str, str]) -> None:
        """Report the variants executing now, each with its worker (``""`` when unknown)."""

    def stop(self) -> None:
        """Close the display: the sweep is over."""


@dataclass
class _Plan:
    tasks: list[VariantTask] = field(default_factory=list)
    outcomes: dict[str, VariantOutcome] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


def _select(variants: list[Variant], only: Iterable[str]) -> list[Variant]:
    wanted = list(only)
    if not wanted:
        return variants
    names = [variant.name for variant in variants]
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise SweepError(
            f"--only: no variant named {some_of(unknown)}; the {len(names)} variants are:"
            f" {some_of(names)}"
        )
    return [variant for variant in variants if variant.name in wanted]


def _plan(
    variants: list[Variant],
    selected: list[Variant],
    folder: Path,
    report: Path,
    options: SweepOptions,
    project: Project,
) -> _Plan:
    """Decide, per variant, between cached, skipped (not selected), failed (no data) and to run."""
    sources = source_fingerprint(report, project.lock_file)
    # By name: a list scan per variant compared whole variants, quadratic in the sweep's size.
    chosen = {variant.name for variant in selected}
    data_hashes: dict[str, dict[str, str] | TitanicError] = {}
    plan = _Plan()
    for variant in variants:
        data_key = variant.settings.data.model_dump_json()
        if data_key not in data_hashes:
            try:
                data_hashes[data_key] = data_fingerprint(variant.settings.data, project.root)
            except TitanicError as err:
                data_hashes[data_key] = err
        data = data_hashes[data_key]
        if isinstance(data, TitanicError):
            status: Status = "failed" if variant.name in chosen else "skipped"
            plan.outcomes[variant.name] = VariantOutcome(variant, status, error=one_line(data))
            continue
        components = cache_components(variant, sources, data)
        variant_folder = folder / variant.name
        record = read_cache_record(variant_folder)
        reason = stale_reason(record, components, variant_folder)
        if variant.name not in chosen:
            status = "cached" if reason is None else "skipped"
            seconds = record.get("seconds") if record and reason is None else None
            plan.outcomes[variant.name] = VariantOutcome(variant, status, seconds, "not selected")
            continue
        if reason is None and not options.force:
            seconds = record.get("seconds") if record else None
            plan.outcomes[variant.name] = VariantOutcome(variant, "cached", seconds, "unchanged")
            continue
        plan.reasons[variant.name] = "forced" if options.force else str(reason)
        plan.tasks.append(
            VariantTask(
                name=variant.name,
                request=RenderRequest(
                    project,
                    variant.settings,
                    formats=("html",),
                    report=report.resolve(),
                    cell_timeout=options.cell_timeout,
                    progress=False,
                ),
                folder=variant_folder,
                components=components,
                retries=options.retries,
            )
        )
    return plan


def _submit_all(
    plan: _Plan, variants: Mapping[str, Variant], executor: VariantExecutor, project: Project
) -> dict[Future[VariantRun], VariantTask]:
    """Submit every task; to workers with no shared disk, with the project sent once as bytes."""
    if not executor.ships_files:
        return {executor.submit(execute_variant, task): task for task in plan.tasks}
    data = [variants[task.name].settings.data for task in plan.tasks]
    if not executor.sees_local_files:
        refuse_local_data(data)
    if not plan.tasks:
        return {}
    bundle = bundle_project(project, plan.tasks[0].request.report_path, data, this_environment())
    shared = executor.share(bundle)
    return {executor.submit(execute_shipped, task, shared): task for task in plan.tasks}


def _execute(
    plan: _Plan,
    variants: Mapping[str, Variant],
    executor: VariantExecutor,
    observer: SweepObserver,
    project: Project,
) -> None:
    pending: dict[Future[VariantRun], VariantTask] = {}
    try:
        pending = _submit_all(plan, variants, executor, project)
        while pending:
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                outcome = _outcome(future, task, variants[task.name], plan.reasons[task.name])
                plan.outcomes[task.name] = outcome
                observer.finished(outcome)
            if pending:
                executor.ensure_workers()
            where = executor.placement(pending)
            observer.running({pending[future].name: worker for future, worker in where.items()})
    except BaseException:
        # Ctrl-C or a signal: start nothing more, end the running variants, publish nothing.
        for future in pending:
            future.cancel()
        executor.terminate()
        for task in plan.tasks:
            remove_stale(task.folder)
        raise


def _outcome(
    future: Future[VariantRun], task: VariantTask, variant: Variant, reason: str
) -> VariantOutcome:
    """Publish a variant that its worker finished, and say how it ended."""
    try:
        run = receive(future.result(), task.folder)
    # What the engine raises for this one variant: a broken pool, a worker lost too often
    # (Dask's KilledWorker), a worker refusing it (ClusterError), files that do not match their
    # manifest or a folder that cannot be staged (OutputError). The variant fails alone.
    except Exception as err:  # pylint: disable=broad-exception-caught
        return VariantOutcome(variant, "failed", reason=reason, error=one_line(err))
    if not run.ok or run.staging is None:
        return VariantOutcome(variant, "failed", run.seconds, reason, run.error, run.attempts)
    try:
        publish(Path(run.staging), task.folder, owned=VARIANT_SET)
    except OutputError as err:
        return VariantOutcome(variant, "failed", run.seconds, reason, one_line(err), run.attempts)
    return VariantOutcome(variant, "done", run.seconds, reason, None, run.attempts)


def run_sweep(
    project: Project,
    options: SweepOptions,
    executor: VariantExecutor,
    observer: SweepObserver | None = None,
    render: Renderer | None = None,
) -> SweepResult:
    """Render the report for every (selected) variant and write the comparison page.

    Parameters
    ----------
    project : Project
        The project: its params.yaml, report.qmd and uv.lock.
    options : SweepOptions
        Parameter layers, ``--force``, ``--only`` and the report to render.
    executor : VariantExecutor
        Where the variants run.
    observer : SweepObserver, optional
        Told about progress (the CLI's live display).
    render : callable, optional
        Stand-in for :func:`titanic.report.render.render_into`: called with the variant's
        :class:`~titanic.report.request.RenderRequest` and its staging folder (tests).

    Returns
    -------
    SweepResult
        One outcome per variant; the sweep never stops at a failed variant.

    Raises
    ------
    ConfigError
        When the parameters or a variant are invalid (before anything runs).
    SweepError
        When there are no variants, ``--only`` names an unknown one, or the report is missing.
    """
    started = time.perf_counter()
    observer = observer or SweepObserver()
    settings = load_settings(
        project.params_file, extra_files=options.params_files, overrides=options.overrides
    )
    variants = expand_variants(settings)
    if not variants:
        raise SweepError("no variants: add variants.grid or variants.sets to params.yaml")
    selected = _select(variants, options.only)
    report = options.report or project.report
    if not report.is_file():
        raise SweepError(f"{report}: report not found")
    folder = check_writable_folder(project.resolve(settings.output_dir) / VARIANTS_DIRNAME)
    plan = _plan(variants, selected, folder, report, options, project)
    observer.start(len(selected))
    for outcome in plan.outcomes.values():
        if outcome.reason != "not selected":
            observer.finished(outcome)
    try:
        if render is not None:
            plan.tasks = [replace(task, render=render) for task in plan.tasks]
        by_name = {variant.name: variant for variant in variants}
        _execute(plan, by_name, executor, observer, project)
    finally:
        observer.stop()
    outcomes = tuple(plan.outcomes[variant.name] for variant in variants)
    keys = swept_keys(settings)
    index, summary = write_comparison(
        folder, [_entry(outcome, keys) for outcome in outcomes], keys
    )
    return SweepResult(folder, outcomes, index, summary, time.perf_counter() - started)


def _entry(outcome: VariantOutcome, keys: Sequence[str]) -> ComparisonEntry:
    return ComparisonEntry(
        name=outcome.variant.name,
        parameters={key: resolved_value(outcome.variant.settings, key) for key in keys},
        status=outcome.status,
        seconds=outcome.seconds,
        error=outcome.error,
    )
