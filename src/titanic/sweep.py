"""Render the report for every variant of params.yaml: expanded, cached, run in parallel.

Each variant is params.yaml (then ``--params`` files, then ``-P``) with the variant's values on
top. It is keyed by a sha256 of everything that determines its result: the report source, the
package source, its resolved parameters, the data bytes and uv.lock. A variant whose stored
key matches, and whose outputs exist, is not run again and its folder is not touched.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

import titanic
from titanic.artifacts import write_json
from titanic.compare import ComparisonEntry, read_metrics, write_comparison
from titanic.config import (
    NOT_SWEPT,
    DataSettings,
    Settings,
    find_project_root,
    load_settings,
    resolve_output_dir,
    validate_settings,
)
from titanic.errors import ConfigError, SweepError, TitanicError
from titanic.executors import VariantExecutor
from titanic.provenance import utc_timestamp
from titanic.storage import read_bytes, resolve_location, sha256_hex

logger = logging.getLogger(__name__)

VARIANTS_DIRNAME = "variants"
CACHE_FILENAME = ".cache-key"
LOCK_FILENAME = "uv.lock"
PACKAGE_DIR = Path(titanic.__file__).parent
LOG_FILENAME = "sweep.log"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CACHE_FORMAT = 1
MAX_NAME_LENGTH = 120
KERNEL_START_RETRIES = 2
RETRY_DELAY_SECONDS = 2.0
# What jupyter_client and pyzmq say when a kernel cannot start, typically because two kernels
# launched at once picked the same port (papermill issues #239 and #511).
KERNEL_START_MARKERS = (
    "Kernel didn't respond",
    "Kernel died before replying to kernel_info",
    "Address already in use",
)
# What a worker imports to render a variant: preloaded once by a forkserver.
WORKER_MODULES = ("titanic.sweep", "titanic.render")
Status = Literal["done", "cached", "failed", "skipped"]
Renderer = Callable[..., Any]


@dataclass(frozen=True)
class Variant:
    """One parameter set: its name, the dotted values it sets and the resolved settings."""

    name: str
    values: dict[str, Any]
    settings: Settings

    def overrides(self) -> list[str]:
        """Return the values as ``-P`` strings; JSON values read back as YAML keep their type."""
        return [f"{key}={json.dumps(value)}" for key, value in self.values.items()]

    def parameters(self) -> dict[str, Any]:
        """Return the resolved parameters that determine the result (no sweep, no output)."""
        resolved = self.settings.to_dict()
        for key in NOT_SWEPT:
            resolved.pop(key, None)
        return resolved


def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "+".join(_value_text(item) for item in value) or "none"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    safe = re.sub(r"[^A-Za-z0-9.+=]+", "+", text).strip("+") or "value"
    if safe != text:
        # Characters were dropped: a short hash keeps distinct values apart.
        safe += "." + hashlib.sha256(text.encode()).hexdigest()[:6]
    return safe


def _labels(keys: Sequence[str]) -> dict[str, str]:
    """Name each key by its last part (``max_depth``), unless two keys share that part."""
    leaves = [key.rsplit(".", 1)[-1] for key in keys]
    return {
        key: leaf if leaves.count(leaf) == 1 else key
        for key, leaf in zip(keys, leaves, strict=True)
    }


def variant_name(values: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> str:
    """Name a grid point after its values, e.g. ``n_estimators-100_max_depth-4``.

    The name is filesystem-safe and depends only on the keys and values, in their order.
    """
    labels = labels or _labels(list(values))
    name = "_".join(f"{labels[key]}-{_value_text(value)}" for key, value in values.items())
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME_LENGTH - 9]}.{digest}"
    return name


def apply_values(base: Settings, values: Mapping[str, Any]) -> Settings:
    """Return ``base`` with dotted ``values`` set, validated again as a whole.

    Raises
    ------
    ConfigError
        When the result is not valid settings.
    """
    raw = base.to_dict()
    raw["variants"] = {}
    for dotted, value in values.items():
        *sections, leaf = dotted.split(".")
        node = raw
        for section in sections:
            node = node[section]
        node[leaf] = value
    return validate_settings(raw)


def expand_variants(settings: Settings) -> list[Variant]:
    """Expand ``settings.variants``: every grid point, then every named set.

    Raises
    ------
    ConfigError
        Naming every variant that is invalid, and its keys, or a name used twice.
    """
    spec = settings.variants
    points: list[tuple[str, dict[str, Any]]] = []
    if spec.grid:
        keys = list(spec.grid)
        labels = _labels(keys)
        for combination in itertools.product(*spec.grid.values()):
            values = dict(zip(keys, combination, strict=True))
            points.append((variant_name(values, labels), values))
    points.extend((name, dict(values)) for name, values in spec.sets.items())
    variants, problems, seen = [], [], set()
    for name, values in points:
        if name in seen:
            problems.append(f"{name}: two variants have this name; rename the set")
            continue
        seen.add(name)
        try:
            variants.append(Variant(name, values, apply_values(settings, values)))
        except ConfigError as err:
            detail = str(err).removeprefix(f"{err.source}: ")
            problems.append(f"{name}: {detail}")
    if problems:
        raise ConfigError("; ".join(problems), source="variants")
    return variants


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file's bytes, or ``"absent"`` when it does not exist."""
    return sha256_hex(path.read_bytes()) if path.is_file() else "absent"


def tree_sha256(folder: Path) -> str:
    """Hash every file under ``folder`` (names and bytes), byte-code caches excepted."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(file_sha256(path).encode() + b"\n")
    return digest.hexdigest()


def source_fingerprint(report: Path, root: Path) -> dict[str, str]:
    """Hash what every variant shares: the report, the package's files and uv.lock.

    The report's component also covers ``_quarto.yml`` beside it, which shapes the typesetting;
    the package's covers its modules and templates.
    """
    return {
        "report": sha256_hex(
            (file_sha256(report) + file_sha256(report.parent / "_quarto.yml")).encode()
        ),
        "package": tree_sha256(PACKAGE_DIR),
        "lock": file_sha256(root / LOCK_FILENAME),
    }


def data_fingerprint(data: DataSettings) -> dict[str, str]:
    """Hash the bytes of the training and test files actually found at ``data.source``.

    Raises
    ------
    DataError
        When a file cannot be read.
    """
    location = resolve_location(data)
    return {
        name: sha256_hex(read_bytes(location, name)) for name in (data.train_file, data.test_file)
    }


def cache_components(
    variant: Variant, sources: Mapping[str, str], data: Mapping[str, str]
) -> dict[str, Any]:
    """Return everything the variant's cache key covers, as one JSON-ready document."""
    return {
        "format": CACHE_FORMAT,
        **sources,
        "parameters": variant.parameters(),
        "data": dict(data),
    }


def cache_key(components: Mapping[str, Any]) -> str:
    """Return the sha256 of the canonical JSON of the key's components."""
    canonical = json.dumps(components, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_cache_record(folder: Path) -> dict[str, Any] | None:
    """Return the stored cache record of a variant folder, or ``None`` if absent or unreadable."""
    try:
        record = json.loads((folder / CACHE_FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def stale_reason(
    record: Mapping[str, Any] | None, components: Mapping[str, Any], folder: Path
) -> str | None:
    """Say why a variant must run (``None``: its outputs are current).

    Returns
    -------
    str or None
        ``"new"``, ``"outputs missing"`` or ``"<component>, ... changed"``.
    """
    if record is None:
        return "new"
    if record.get("key") != cache_key(components):
        stored = record.get("components", {})
        changed = [name for name in components if stored.get(name) != components[name]]
        return f"{', '.join(changed) or 'key'} changed"
    outputs = record.get("outputs") or []
    if not outputs or not all((folder / name).is_file() for name in outputs):
        return "outputs missing"
    return None


@dataclass(frozen=True)
class VariantTask:
    """What a worker needs to render one variant; picklable."""

    name: str
    folder: Path
    overrides: tuple[str, ...]
    params_files: tuple[Path, ...]
    report: Path
    components: dict[str, Any]
    cell_timeout: int
    retries: int = KERNEL_START_RETRIES
    render: Renderer | None = None


@dataclass(frozen=True)
class VariantRun:
    """What a worker reports back."""

    name: str
    ok: bool
    seconds: float
    attempts: int
    error: str | None = None


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
    from titanic.render import render_report  # pylint: disable=import-outside-toplevel

    return render_report


def _render_with_retries(task: VariantTask, render: Renderer, attempts: list[int]) -> Any:
    """Render; retry, a bounded number of times, only when the kernel failed to start."""
    while True:
        attempts.append(len(attempts) + 1)
        try:
            return render(
                overrides=task.overrides,
                params_files=task.params_files,
                output_dir=task.folder,
                formats=("html",),
                report=task.report,
                cell_timeout=task.cell_timeout,
                progress=False,
            )
        # Kernel start failures come as RuntimeError, TimeoutError, ZMQError or wrapped in a
        # ReportError: only the message tells them apart. Everything else is re-raised.
        except Exception as err:  # pylint: disable=broad-exception-caught
            if len(attempts) > task.retries or not is_kernel_start_error(err):
                raise
            logger.warning("%s: the kernel did not start (%s); retrying", task.name, one_line(err))
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
    in_worker = multiprocessing.parent_process() is not None
    saved_stderr = None
    if in_worker:
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


def execute_variant(task: VariantTask) -> VariantRun:
    """Render one variant into its folder, log to its sweep.log, then record its cache key.

    Runs in a worker. Any failure is caught and returned, so that it stays this variant's:
    the traceback goes to the variant's log and one line to the summary.
    """
    task.folder.mkdir(parents=True, exist_ok=True)
    attempts: list[int] = []
    started = time.perf_counter()
    with variant_log(task.folder / LOG_FILENAME):
        try:
            logger.info("variant %s: rendering with %s", task.name, " ".join(task.overrides))
            result = _render_with_retries(task, task.render or _default_renderer(), attempts)
            seconds = time.perf_counter() - started
            outputs = [
                Path(path).relative_to(task.folder).as_posix()
                for path in (result.html, result.notebook, result.metrics)
            ]
            write_json(
                task.folder / CACHE_FILENAME,
                {
                    "key": cache_key(task.components),
                    "components": task.components,
                    "outputs": outputs,
                    "seconds": round(seconds, 3),
                    "finished": utc_timestamp(),
                },
            )
            logger.info("variant %s: done in %.1f s", task.name, seconds)
            return VariantRun(task.name, True, seconds, len(attempts))
        # Any error of one variant is that variant's outcome, never the end of the sweep.
        except Exception as err:  # pylint: disable=broad-exception-caught
            logger.exception("variant %s failed", task.name)
            seconds = time.perf_counter() - started
            return VariantRun(task.name, False, seconds, len(attempts), one_line(err))


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

    def running(self, names: Sequence[str]) -> None:
        """Report the variants executing now."""

    def stop(self) -> None:
        """Close the display: the sweep is over."""


class SweepProgress(SweepObserver):
    """A live display on a rich console: done/total, running, cached, failed, elapsed.

    One line per finished variant is printed above the bar, saying whether it was cached.
    """

    def __init__(self, console: Console):
        self.console = console
        self.counts = {"done": 0, "cached": 0, "failed": 0}
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task_id = self.progress.add_task("sweep", total=0, status="")
        self.running_names: Sequence[str] = ()

    def _refresh(self) -> None:
        running = ", ".join(self.running_names) or "-"
        status = (
            f"cached {self.counts['cached']} · failed {self.counts['failed']}"
            f" · running {len(self.running_names)}: {running}"
        )
        self.progress.update(self.task_id, status=status)

    def start(self, total: int) -> None:
        """Show the bar with ``total`` variants to go."""
        self.progress.update(self.task_id, total=total)
        self._refresh()
        self.progress.start()

    def finished(self, outcome: VariantOutcome) -> None:
        """Count a variant and print its line."""
        if outcome.status in self.counts:
            self.counts[outcome.status] += 1
        self.progress.advance(self.task_id)
        seconds = f" ({outcome.seconds:.1f} s)" if outcome.seconds is not None else ""
        line = {
            "cached": f"[cyan]cached[/]  {outcome.variant.name}{seconds}, unchanged",
            "done": f"[green]done[/]    {outcome.variant.name}{seconds}, ran: {outcome.reason}",
            "failed": f"[red]failed[/]  {outcome.variant.name}: {escape(outcome.error or '')}",
        }.get(outcome.status, f"{outcome.status}  {outcome.variant.name}")
        self.progress.console.print(line, highlight=False)
        self._refresh()

    def running(self, names: Sequence[str]) -> None:
        """Show which variants execute now."""
        self.running_names = tuple(names)
        self._refresh()

    def stop(self) -> None:
        """Stop the live display, leaving its last state on screen."""
        self.running_names = ()
        self._refresh()
        self.progress.stop()


def sweep_table(result: SweepResult) -> Table:
    """Return one row per variant: status, why it ran, run time, accuracy, CV accuracy."""
    table = Table(title=f"Sweep: {len(result.outcomes)} variants", title_justify="left")
    table.add_column("variant", overflow="fold")
    table.add_column("status")
    table.add_column("note", no_wrap=True, overflow="ellipsis", max_width=40)
    for column in ("time (s)", "accuracy", "CV accuracy"):
        table.add_column(column, justify="right")
    for outcome in result.outcomes:
        metrics = None
        if outcome.status != "failed":
            metrics = read_metrics(result.folder / outcome.variant.name)
        note = outcome.error if outcome.status == "failed" else outcome.reason
        table.add_row(
            outcome.variant.name,
            outcome.status,
            escape(note or ""),
            f"{outcome.seconds:.1f}" if outcome.seconds is not None else "-",
            f"{metrics['accuracy']:.3f}" if metrics else "-",
            f"{metrics['cv_accuracy_mean']:.3f} ± {metrics['cv_accuracy_std']:.3f}"
            if metrics
            else "-",
        )
    return table


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
            f"--only: no variant named {', '.join(unknown)}; the variants are: {', '.join(names)}"
        )
    return [variant for variant in variants if variant.name in wanted]


def _plan(
    variants: list[Variant],
    selected: list[Variant],
    folder: Path,
    report: Path,
    options: SweepOptions,
) -> _Plan:
    """Decide, per variant, between cached, skipped (not selected), failed (no data) and to run."""
    sources = source_fingerprint(report, find_project_root())
    data_hashes: dict[str, dict[str, str] | TitanicError] = {}
    plan = _Plan()
    for variant in variants:
        data_key = variant.settings.data.model_dump_json()
        if data_key not in data_hashes:
            try:
                data_hashes[data_key] = data_fingerprint(variant.settings.data)
            except TitanicError as err:
                data_hashes[data_key] = err
        data = data_hashes[data_key]
        if isinstance(data, TitanicError):
            status: Status = "failed" if variant in selected else "skipped"
            plan.outcomes[variant.name] = VariantOutcome(variant, status, error=one_line(data))
            continue
        components = cache_components(variant, sources, data)
        variant_folder = folder / variant.name
        record = read_cache_record(variant_folder)
        reason = stale_reason(record, components, variant_folder)
        if variant not in selected:
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
                folder=variant_folder,
                overrides=(*options.overrides, *variant.overrides()),
                params_files=tuple(path.resolve() for path in options.params_files),
                report=report.resolve(),
                components=components,
                cell_timeout=options.cell_timeout,
                retries=options.retries,
            )
        )
    return plan


def _execute(
    plan: _Plan,
    variants: Mapping[str, Variant],
    executor: VariantExecutor,
    observer: SweepObserver,
    render: Renderer | None,
) -> None:
    pending: dict[Future[VariantRun], VariantTask] = {}
    for task in plan.tasks:
        if render is not None:
            task = replace(task, render=render)
        pending[executor.submit(execute_variant, task)] = task
    while pending:
        done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
        for future in done:
            task = pending.pop(future)
            variant = variants[task.name]
            reason = plan.reasons[task.name]
            try:
                run = future.result()
            except BrokenExecutor as err:
                outcome = VariantOutcome(variant, "failed", reason=reason, error=one_line(err))
            else:
                status: Status = "done" if run.ok else "failed"
                outcome = VariantOutcome(
                    variant, status, run.seconds, reason, run.error, run.attempts
                )
            plan.outcomes[task.name] = outcome
            observer.finished(outcome)
        # A pool starts queued jobs in submission order: the first `workers` started ones run.
        started = [task.name for future, task in pending.items() if future.running()]
        observer.running(started[: executor.workers])


def run_sweep(
    options: SweepOptions,
    executor: VariantExecutor,
    observer: SweepObserver | None = None,
    render: Renderer | None = None,
) -> SweepResult:
    """Render the report for every (selected) variant and write the comparison page.

    Parameters
    ----------
    options : SweepOptions
        Parameter layers, ``--force``, ``--only`` and the report to render.
    executor : VariantExecutor
        Where the variants run.
    observer : SweepObserver, optional
        Told about progress (the CLI's live display).
    render : callable, optional
        Stand-in for :func:`titanic.render.render_report`, with the same signature (tests).

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
    settings = load_settings(extra_files=options.params_files, overrides=options.overrides)
    variants = expand_variants(settings)
    if not variants:
        raise SweepError("no variants: add variants.grid or variants.sets to params.yaml")
    selected = _select(variants, options.only)
    root = find_project_root()
    report = options.report or root / "report.qmd"
    if not report.is_file():
        raise SweepError(f"{report}: report not found")
    folder = resolve_output_dir(settings, root) / VARIANTS_DIRNAME
    plan = _plan(variants, selected, folder, report, options)
    observer.start(len(selected))
    for outcome in plan.outcomes.values():
        if outcome.reason != "not selected":
            observer.finished(outcome)
    try:
        _execute(plan, {variant.name: variant for variant in variants}, executor, observer, render)
    finally:
        observer.stop()
    outcomes = tuple(plan.outcomes[variant.name] for variant in variants)
    keys = swept_keys(settings)
    index, summary = write_comparison(
        folder, [_entry(outcome, keys) for outcome in outcomes], keys
    )
    return SweepResult(folder, outcomes, index, summary, time.perf_counter() - started)


def swept_keys(settings: Settings) -> list[str]:
    """Return the dotted keys the variants set: the grid's, then the sets' others."""
    keys = list(settings.variants.grid)
    for values in settings.variants.sets.values():
        keys.extend(key for key in values if key not in keys)
    return keys


def resolved_value(settings: Settings, dotted: str) -> Any:
    """Return the value of a dotted key in resolved settings, as JSON-ready data."""
    node: Any = settings.to_dict()
    for part in dotted.split("."):
        node = node[part]
    return node


def _entry(outcome: VariantOutcome, keys: Sequence[str]) -> ComparisonEntry:
    return ComparisonEntry(
        name=outcome.variant.name,
        parameters={key: resolved_value(outcome.variant.settings, key) for key in keys},
        status=outcome.status,
        seconds=outcome.seconds,
        error=outcome.error,
    )
