"""The ``titanic`` command: one subcommand per job, each a thin layer over the package.

Errors the user can act on (:class:`titanic.errors.TitanicError`) print one line on stderr and
exit with code 1; ``--debug`` (or ``TITANIC_DEBUG=1``) shows their traceback instead.

Each command imports the stages it needs when it runs: scikit-learn, pandas, matplotlib and
papermill together take seconds to import, which ``--help``, a parameter error or a fully cached
sweep should not pay.
"""
# pylint: disable=import-outside-toplevel

from __future__ import annotations

import copy
import functools
import logging
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from titanic import __version__
from titanic.config import Settings, dump_settings, load_settings
from titanic.errors import Interrupted, SweepError, TitanicError
from titanic.io.locations import FileFormat, cap_transport_logging
from titanic.processes import end_descendants
from titanic.project import METRICS_FILENAME, OUTPUT_SET, Project
from titanic.sweep.executors import VariantExecutor

if TYPE_CHECKING:
    from titanic.analysis import Analysis
    from titanic.io.datastore import StoredFile

app = typer.Typer(
    name="titanic",
    help="Titanic survival: train, evaluate, predict and render the literate report.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# soft_wrap: paths and error lines are never broken across lines (users copy them).
stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)
Command = TypeVar("Command", bound=Callable[..., Any])
# The analysis logs each step here, and the forest how many trees it has grown.
ANALYSIS_PROGRESS = "titanic.progress"
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

ParamsFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--params",
        metavar="FILE",
        help="Partial YAML file merged over params.yaml (repeatable; later files win).",
    ),
]
Overrides = Annotated[
    list[str] | None,
    typer.Option(
        "-P",
        "--param",
        metavar="KEY=VALUE",
        help="Override one value, e.g. -P model.n_estimators=50 (repeatable; applied last).",
    ),
]


@dataclass
class GlobalOptions:
    """Options of the ``titanic`` group, shared with every subcommand."""

    debug: bool = False
    log_level: int = logging.WARNING


# Set by the group callback on every invocation. Typer vendors its own click, so the current
# click context is not reachable from a decorator; this one object is.
OPTIONS = GlobalOptions()


def _version(show: bool) -> None:
    if show:
        stdout.print(f"titanic {__version__}")
        raise typer.Exit()


@app.callback()
def configure(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More logs (-vv for debug).")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="TITANIC_DEBUG", help="Show tracebacks of errors."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Titanic survival analysis. Parameters come from params.yaml; see README.md."""
    del version
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    # A library's logged error (papermill's "Kernel died") is one line too, unless --debug.
    handler = (RichHandler if debug else _OneLineHandler)(
        console=stderr, show_time=False, show_path=debug
    )
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    cap_transport_logging(level)
    OPTIONS.debug = debug
    OPTIONS.log_level = level


class _OneLineHandler(RichHandler):
    """Print log records without their traceback (``--debug`` shows it).

    It prints a copy: the record itself, with its traceback, still reaches the other handlers
    (a sweep variant's log file).
    """

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.exc_text or record.stack_info:
            record = copy.copy(record)
            record.exc_info = record.exc_text = record.stack_info = None
        super().emit(record)


def _error_line(message: str) -> None:
    # The message is text, not markup: "[params.yaml]" must print as it is.
    stderr.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def handle_errors(command: Command) -> Command:
    """Turn errors the user can act on into one line on stderr and exit code 1 (unless --debug).

    Those are :class:`TitanicError` and any ``OSError`` (a full disk, a read-only folder),
    named with its path. A signal (Ctrl-C, SIGTERM, SIGHUP) ends every process the command
    started and exits with 128 plus the signal's number (130, 143, 129).
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt as err:
            signum = err.signum if isinstance(err, Interrupted) else signal.SIGINT
            for each in HANDLED_SIGNALS:  # a second Ctrl-C must not cut the clean-up short
                signal.signal(each, signal.SIG_IGN)
            end_descendants()
            name = signal.Signals(signum).name
            stderr.print(f"interrupted ({name}): stopped; earlier outputs left as they were")
            raise typer.Exit(code=128 + signum) from None
        except (TitanicError, OSError) as err:
            if OPTIONS.debug:
                raise
            _error_line(_describe(err))
            raise typer.Exit(code=1) from None

    return wrapper  # type: ignore[return-value]


def _describe(err: Exception) -> str:
    """Say an error on one line; an ``OSError`` by its path and cause."""
    if isinstance(err, OSError) and not isinstance(err, TitanicError):
        where = f"{err.filename}: " if err.filename else ""
        return f"{where}{err.strerror or type(err).__name__}"
    return str(err)


def current_project() -> Project:
    """Return the project of the folder the command was started in (or a folder above it)."""
    return Project.discover(Path.cwd())


def settings_from(
    project: Project, params: list[Path] | None, overrides: list[str] | None
) -> Settings:
    """Load the project's params.yaml, then the --params files, then the -P overrides."""
    return load_settings(project.params_file, extra_files=params or (), overrides=overrides or ())


def _metrics_table(analysis: Analysis) -> Table:
    cv = analysis.summary()["cross_validation"]
    table = Table(title="Validation metrics", title_justify="left")
    table.add_column("metric")
    table.add_column("held-out rows", justify="right")
    table.add_column("cross-validation (mean ± std)", justify="right")
    for name, value in analysis.metrics.items():
        table.add_row(name, f"{value:.3f}", f"{cv[name]['mean']:.3f} ± {cv[name]['std']:.3f}")
    return table


def _show_progress(logger_name: str) -> None:
    """Show a library's progress lines (which step, how big) on a terminal, unless ``-q``.

    ``-v`` shows them anywhere, with the other INFO lines.
    """
    if stderr.is_terminal and OPTIONS.log_level <= logging.WARNING:
        logging.getLogger(logger_name).setLevel(logging.INFO)


def _say_removed(folder: Path, removed: Sequence[str]) -> None:
    """Tell the user which files of the folder's previous output set were removed, and why."""
    if removed:
        stdout.print(
            f"Removed {', '.join(removed)} from {folder}: they belonged to the previous run,"
            " not to this one",
            highlight=False,
        )


def _write_landing(folder: Path) -> None:
    """Write the site's landing page into the output folder and say where it is."""
    from titanic.provenance import git_state
    from titanic.site.landing import write_landing

    landing = write_landing(folder, git_state(current_project().root))
    if landing is not None:
        stdout.print(f"Landing page (the site's root): {landing}", highlight=False)


@app.command()
@handle_errors
def run(params: ParamsFiles = None, overrides: Overrides = None) -> None:
    """Train and evaluate; print metrics and confusion matrix; write OUTPUT_DIR/metrics.json."""
    from titanic.io.output_sets import OutputSet, check_writable_folder

    project = current_project()
    # Before the heavy imports: bad parameters or a bad output folder fail in a second.
    settings = settings_from(project, params, overrides)
    folder = check_writable_folder(project.resolve(settings.output_dir))
    from titanic.analysis import run_analysis
    from titanic.dataset import load_dataset
    from titanic.io.memo import ContentCache, cache_folder
    from titanic.outputs import write_run_outputs

    dataset = load_dataset(settings.data, project.root)
    _show_progress(ANALYSIS_PROGRESS)
    # The report's shared cache: a run and a render reuse each other's baselines and search.
    analysis = run_analysis(settings, dataset, ContentCache(cache_folder(folder)))
    with OutputSet(folder, "run", settings.to_dict(), owned=OUTPUT_SET) as output:
        write_run_outputs(output.path, settings, dataset, analysis, project.root)
    accuracy = analysis.metrics["accuracy"]
    stdout.print(
        f"Accuracy on the {len(analysis.split.x_validation)} held-out rows: {accuracy:.1%}"
    )
    stdout.print(_metrics_table(analysis))
    stdout.print("Confusion matrix (rows: actual, columns: predicted)")
    stdout.print(analysis.confusion_matrix.to_string())
    stdout.print(f"Wrote {folder / METRICS_FILENAME}")
    _say_removed(folder, output.published.removed if output.published else ())


@app.command()
@handle_errors
def predict(
    params: ParamsFiles = None,
    overrides: Overrides = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Submission file (default: OUTPUT_DIR/submission.csv)."
        ),
    ] = None,
) -> None:
    """Fit on every labelled row and write a Kaggle submission (PassengerId,Survived)."""
    from titanic.io.output_sets import OutputSet, check_writable_folder

    project = current_project()
    # Before the heavy imports: bad parameters or a bad output folder fail in a second.
    settings = settings_from(project, params, overrides)
    target = output or project.resolve(settings.output_dir) / "submission.csv"
    check_writable_folder(target.parent)
    from titanic.analysis import fit_on_all_rows
    from titanic.dataset import load_dataset
    from titanic.io.atomic import write_csv
    from titanic.modeling.predict import predict_survival, submission_frame

    dataset = load_dataset(settings.data, project.root)
    predictions = predict_survival(fit_on_all_rows(settings, dataset), dataset.test)
    # Its own set, with its own manifest, beside run's and render's.
    with OutputSet(
        target.parent,
        "predict",
        settings.to_dict(),
        owned=(target.name,),
        manifest_name=f"{target.stem}.manifest.json",
    ) as submission:
        write_csv(submission.path / target.name, submission_frame(predictions))
    survivors = int(predictions["Survived"].sum())
    stdout.print(
        f"Wrote {target}: {len(predictions)} passengers, {survivors} predicted to survive"
        f" ({survivors / len(predictions):.1%})"
    )


@app.command()
@handle_errors
def render(
    params: ParamsFiles = None,
    overrides: Overrides = None,
    to: Annotated[
        list[str] | None,
        typer.Option("--to", metavar="FORMAT", help="html and/or pdf (repeatable; default both)."),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "-o", help="Output folder (default: OUTPUT_DIR)."),
    ] = None,
    cell_timeout: Annotated[
        int, typer.Option("--cell-timeout", min=1, help="Seconds a single cell may run.")
    ] = 600,
    force: Annotated[
        bool, typer.Option("--force", help="Execute even if only the text changed.")
    ] = False,
) -> None:
    """Render report.qmd to OUTPUT_DIR/report.html and report.pdf, with or without Quarto."""
    from titanic.report.kernels import REPORT_KERNEL_MODULES, discard_standby, fork_standby

    project = current_project()
    settings = settings_from(project, params, overrides)
    # The kernel, forked now, imports the report's stack on another core while this process
    # loads papermill and starts the execution; unused (nothing to execute), it is ended.
    fork_standby(preload=REPORT_KERNEL_MODULES)
    try:
        from titanic.report.render import RenderRequest, render_report

        request = RenderRequest(
            project,
            settings,
            formats=tuple(to or ("html", "pdf")),
            cell_timeout=cell_timeout,
            progress=stderr.is_terminal,
        )
        result = render_report(request, output_dir=output_dir, force=force)
    finally:
        discard_standby()
    how = (
        f"executed ({result.reason})"
        if result.executed
        else "re-used the executed cells: only the text changed"
    )
    stdout.print(f"Rendered with the {result.backend} backend in {result.seconds:.1f} s, {how}:")
    for path in (result.html, result.pdf, result.notebook, result.metrics):
        if path is not None:
            stdout.print(f"  {path}", highlight=False)
    _say_removed(result.html.parent, result.removed)
    _write_landing(result.html.parent)


@app.command()
@handle_errors
def sweep(
    params: ParamsFiles = None,
    overrides: Overrides = None,
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", min=1, help="Variants rendered at once (default: cores)."),
    ] = os.cpu_count() or 1,
    force: Annotated[
        bool, typer.Option("--force", help="Render every variant, even unchanged ones.")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", metavar="NAME", help="Render only this variant (repeatable)."),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            metavar="local:N",
            help="Run on a Dask LocalCluster of N single-threaded worker processes on 127.0.0.1.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="tcp://HOST:PORT",
            help="Run on the Dask cluster of this scheduler (default: $DASK_SCHEDULER_ADDRESS,"
            " if set; else the local pool).",
        ),
    ] = None,
    dashboard: Annotated[
        bool,
        typer.Option(
            "--dashboard",
            help="With --cluster: serve Dask's dashboard (workers then keep profiling).",
        ),
    ] = False,
) -> None:
    """Render the report for every variant in params.yaml; write OUTPUT_DIR/variants/index.html.

    Variants run in a local process pool, or on Dask: --cluster local:N, --scheduler
    tcp://HOST:PORT, or the DASK_SCHEDULER_ADDRESS environment variable.
    """
    from titanic.cli.display import SweepProgress, sweep_table
    from titanic.sweep.run import SweepOptions, run_sweep

    options = SweepOptions(
        params_files=tuple(params or ()),
        overrides=tuple(overrides or ()),
        force=force,
        only=tuple(only or ()),
    )
    with _sweep_executor(jobs, cluster, scheduler, dashboard) as executor:
        result = run_sweep(current_project(), options, executor, SweepProgress(stderr))
    stdout.print(sweep_table(result))
    stdout.print(f"Comparison page: {result.index}", highlight=False)
    _write_landing(result.folder.parent)
    failed = [outcome.variant.name for outcome in result.with_status("failed")]
    if failed:
        raise SweepError(
            f"{len(failed)} of {len(result.outcomes)} variants failed: {', '.join(failed)};"
            f" see {result.summary} and each failed variant's sweep-failed.log",
            failed=tuple(failed),
        )


def _quiet_dask_logs() -> None:
    """Keep Dask's INFO records (scheduler, nannies, clients) off the live display, unless -v.

    distributed sets its loggers to INFO when it is imported, so this comes after the import.
    """
    import distributed  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import

    logging.getLogger("distributed").setLevel(OPTIONS.log_level)


def _sweep_executor(
    jobs: int, cluster: str | None, scheduler: str | None, dashboard: bool
) -> VariantExecutor:
    """Pick where the sweep runs: --cluster, --scheduler, $DASK_SCHEDULER_ADDRESS or the pool."""
    from titanic.sweep.pool import render_pool

    if cluster is not None and scheduler is not None:
        raise SweepError("--cluster and --scheduler exclude each other: choose one")
    address = scheduler or (None if cluster else os.environ.get("DASK_SCHEDULER_ADDRESS"))
    if address or cluster is not None:
        _quiet_dask_logs()
    if address:
        from titanic.sweep.executors import DaskExecutor

        return DaskExecutor.connect(address)
    if cluster is None:
        return render_pool(jobs)
    kind, _, count = cluster.partition(":")
    if kind != "local" or not count.isdigit() or int(count) < 1:
        raise SweepError(f"--cluster {cluster}: expected local:N with N at least 1, e.g. local:2")
    from titanic.sweep.executors import DaskExecutor

    # The workers' own records carry tracebacks: only --debug shows them (the sweep reports a
    # variant's failure or a lost worker itself).
    quiet = logging.ERROR if OPTIONS.debug else logging.CRITICAL
    return DaskExecutor.start_local(int(count), dashboard=dashboard, worker_log_level=quiet)


@app.command()
@handle_errors
def publish(
    params: ParamsFiles = None,
    overrides: Overrides = None,
    to: Annotated[
        str,
        typer.Option("--to", metavar="DEST", help="s3://bucket/prefix, or a local folder."),
    ] = "",
    include_models: Annotated[
        bool,
        typer.Option("--include-models", help="Publish each model.joblib (a pickle) too."),
    ] = False,
) -> None:
    """Publish the site: landing page, report (HTML, PDF), figures, metrics and the comparison.

    The new version goes under DEST/versions/<id>/ and DEST/index.html is switched to it last:
    readers see the earlier site or the new one, complete, whatever fails. Notebooks, logs,
    resolved parameters and models are not published (models only with --include-models).
    """
    from titanic.provenance import git_state
    from titanic.site.publish import publish_site

    project = current_project()
    settings = settings_from(project, params, overrides)
    result = publish_site(
        project.resolve(settings.output_dir), to, settings.data, include_models,
        git_state(project.root),
    )  # fmt: skip
    for file in result.files:
        stdout.print(
            f"{file.sha256}  {file.size:>9,}  {file.content_type:<26}  {file.name}",
            highlight=False,
        )
    if result.pruned:
        stdout.print(f"Removed earlier versions: {', '.join(result.pruned)}", highlight=False)
    stdout.print(
        f"Published {len(result.files)} files as version {result.version}; read the site at"
        f" {result.url}",
        highlight=False,
    )


@app.command("params")
@handle_errors
def show_params(params: ParamsFiles = None, overrides: Overrides = None) -> None:
    """Print the resolved parameters (params.yaml, then --params, then -P) as YAML."""
    stdout.print(
        dump_settings(settings_from(current_project(), params, overrides)), end="", highlight=False
    )


data_app = typer.Typer(
    help="Copy the data to and from object storage (S3, MinIO) with sha256 checks.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


def _print_files(title: str, files: list[StoredFile]) -> None:
    """Print one ``sha256  bytes  SHA256SUMS-status  url`` line per file, like sha256sum."""
    stdout.print(title, highlight=False, soft_wrap=True)
    for file in files:
        stdout.print(
            f"{file.sha256}  {file.size:>9,}  {file.status:<8}  {file.url}",
            highlight=False,
            soft_wrap=True,
        )


@data_app.command("push")
@handle_errors
def data_push(
    params: ParamsFiles = None,
    overrides: Overrides = None,
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="URL", help="s3://bucket/prefix (default: data.source)."),
    ] = None,
    from_dir: Annotated[
        Path | None,
        typer.Option(
            "--from", metavar="DIR", help="Upload this folder's data.train_file/test_file."
        ),
    ] = None,
    file_format: Annotated[
        FileFormat | None,
        typer.Option("--format", help="Convert before uploading (default: as they are)."),
    ] = None,
) -> None:
    """Upload the embedded data (or a local copy) and its SHA256SUMS to object storage."""
    from titanic.io.datastore import push

    project = current_project()
    settings = settings_from(project, params, overrides)
    pushed = push(settings.data, to, from_dir, file_format, project.root)
    _print_files("Uploaded (sha256, bytes, SHA256SUMS entry, url):", pushed)
    destination = to or settings.data.source
    stdout.print(
        f"Read it with: titanic run -P data.source={destination}"
        f" -P data.train_file={pushed[0].name} -P data.test_file={pushed[1].name}",
        highlight=False,
        soft_wrap=True,
    )


@data_app.command("pull")
@handle_errors
def data_pull(
    params: ParamsFiles = None,
    overrides: Overrides = None,
    to: Annotated[
        Path, typer.Option("--to", metavar="DIR", help="Local folder (relative: project root).")
    ] = Path("data/raw"),
    verify: Annotated[
        bool,
        typer.Option("--verify/--no-verify", help="Refuse files without a known sha256."),
    ] = True,
) -> None:
    """Download data.source's train and test files, checked against their sha256."""
    from titanic.io.datastore import pull

    project = current_project()
    settings = settings_from(project, params, overrides)
    folder = project.resolve(to)
    _print_files(f"Downloaded into {folder}:", pull(settings.data, folder, verify, project.root))


@data_app.command("ls")
@handle_errors
def data_ls(params: ParamsFiles = None, overrides: Overrides = None) -> None:
    """List the files at data.source with their size and sha256."""
    from titanic.io.datastore import list_files

    project = current_project()
    settings = settings_from(project, params, overrides)
    _print_files(
        f"{settings.data.source} (sha256, bytes, SHA256SUMS entry, url):",
        list_files(settings.data, project.root),
    )
