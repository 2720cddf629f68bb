"""What the CLI draws on the terminal: the sweep's live progress and its summary table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.console import Console, RenderableType
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
from rich.text import Text

from titanic.sweep.compare import read_metrics
from titanic.sweep.run import SweepObserver, SweepResult, VariantOutcome

# Below the bar, one line per running variant, up to this many (100 workers would fill a screen).
RUNNING_LINES = 10


class _SweepBar(Progress):
    """rich's progress bar, followed by one line per running variant and its worker."""

    running_lines: tuple[str, ...] = ()

    def get_renderables(self) -> Iterable[RenderableType]:
        """Yield the bar, then the running variants, each cut to the terminal's width."""
        yield from super().get_renderables()
        for line in self.running_lines:
            yield Text(line, no_wrap=True, overflow="ellipsis")


class SweepProgress(SweepObserver):
    """A live display on a rich console: done/total, cached, failed, elapsed.

    One line per finished variant is printed above the bar, saying whether it was cached; below
    it, one line per running variant names the worker running it.
    """

    def __init__(self, console: Console):
        self.console = console
        self.counts = {"done": 0, "cached": 0, "failed": 0}
        self.progress = _SweepBar(
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
        self.workers: dict[str, str] = {}

    def _refresh(self) -> None:
        status = (
            f"cached {self.counts['cached']} · failed {self.counts['failed']}"
            f" · running {len(self.workers)}"
        )
        lines = [
            f"  running {name} on {worker}" if worker else f"  running {name}"
            for name, worker in list(self.workers.items())[:RUNNING_LINES]
        ]
        if len(self.workers) > RUNNING_LINES:
            lines.append(f"  and {len(self.workers) - RUNNING_LINES} more")
        self.progress.running_lines = tuple(lines)
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

    def running(self, workers: Mapping[str, str]) -> None:
        """Show which variants execute now, and where."""
        self.workers = dict(workers)
        self._refresh()

    def stop(self) -> None:
        """Stop the live display, leaving its last state on screen."""
        self.workers = {}
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
