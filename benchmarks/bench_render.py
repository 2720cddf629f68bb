"""Benchmark `titanic render` against the report's code as a plain script and a CLI chain.

All variants run in one scratch copy of the project (params.yaml with the repository's values,
outputs sent to a scratch folder), one after the other, each several times; the median wall time
is written to the `## Render` section of docs/benchmarks.md. The `titanic` variants run with
quarto hidden from PATH (the nbconvert backend); when a quarto binary is on PATH, `quarto render
report.qmd --to html` and `titanic render --to html` with the quarto backend are timed too.

The cold renders pass `--force` and start with an empty shared cache (`out/.cache`). The cold
`titanic render --to html` runs on every core (`-P model.n_jobs=-1`); right after it, the same
command runs after a prose-only edit of report.qmd (the executed cells are re-used), then after
a parameter change (`-P split.cv_folds=4`, executed, the data's tables and figures from the
shared cache); and once cold with `model.n_jobs=1` (one core, as before all cores were used).

    .venv/bin/python benchmarks/bench_render.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from titanic.report.qmd import load_report, split_options

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Render"
LOADS: list[str] = []
PLAIN = "plain script (the report's code)"
IN_PROCESS = (
    "from titanic.project import Project;"
    " from titanic.report.render import RenderRequest, render_report;"
    " request = RenderRequest.resolve(Project.at('.'), formats=('html',), progress=False);"
    " render_report(request, force=True)"
)


def make_project(folder: Path) -> Path:
    """Copy report.qmd and params.yaml (outputs redirected into ``folder``) into ``folder``."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["output_dir"] = str(folder / "out")
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), "utf-8")
    for name in ("report.qmd", "_quarto.yml", "report.scss"):
        shutil.copyfile(ROOT / name, folder / name)
    # jupytext reads .qmd only through a quarto binary; its R Markdown reader parses the same
    # {python} fences (the #| options stay in the source, so papermill injects at the top).
    shutil.copyfile(ROOT / "report.qmd", folder / "report.Rmd")
    return folder


def plain_script(project: Path) -> Path:
    """Write the report's code cells, in order, as one Python script."""
    notebook = load_report(project / "report.qmd")
    cells = [split_options(cell.source)[1] for cell in notebook.cells if cell.cell_type == "code"]
    script = project / "report_code.py"
    script.write_text("\n\n".join(cells) + "\n", encoding="utf-8")
    return script


QUARTO = shutil.which("quarto")
QUARTO_VARIANTS = {
    "quarto render report.qmd --to html": [
        [QUARTO or "quarto", "render", "report.qmd", "--to", "html"]
    ],
    "titanic render --to html, quarto backend": [
        [str(BIN / "titanic"), "render", "--to", "html", "--force"]
    ],
}
COLD = "titanic render --to html, model.n_jobs=-1"
PROSE = "re-render after a prose-only edit"
PARAMETER = "re-render after a parameter change"
ONE_CORE = "titanic render --to html, model.n_jobs=1"
CORE = (PLAIN, COLD, PROSE, PARAMETER, ONE_CORE, "quarto render report.qmd --to html")
PROSE_EDITS = ("most of the people aboard died", "most of those aboard died")


ALL_CORES = [str(BIN / "titanic"), "render", "--to", "html", "-P", "model.n_jobs=-1"]
# Rows that start without the shared cache of the data's tables and figures.
COLD_ROWS = (COLD, ONE_CORE, *QUARTO_VARIANTS)


def environment(name: str) -> dict[str, str]:
    """The environment of a variant: quarto hidden from PATH unless the variant is Quarto's."""
    variables = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if QUARTO and name not in QUARTO_VARIANTS:
        hidden = str(Path(QUARTO).parent)
        variables["PATH"] = os.pathsep.join(
            folder for folder in variables["PATH"].split(os.pathsep) if folder != hidden
        )
    return variables


def commands(project: Path, script: Path) -> dict[str, list[list[str]]]:
    """The variants, each a list of commands run in sequence from ``project``."""
    chain_in, chain_out = project / "chain.ipynb", project / "chain.out.ipynb"
    return {
        **(QUARTO_VARIANTS if QUARTO else {}),
        PLAIN: [[sys.executable, str(script)]],
        COLD: [[*ALL_CORES, "--force"]],
        PROSE: [ALL_CORES],
        PARAMETER: [[*ALL_CORES, "-P", "split.cv_folds=4"]],
        ONE_CORE: [
            [str(BIN / "titanic"), "render", "--to", "html", "--force", "-P", "model.n_jobs=1"]
        ],
        "render_report(formats=['html']) from Python": [[sys.executable, "-c", IN_PROCESS]],
        "titanic render (HTML + PDF)": [[str(BIN / "titanic"), "render", "--force"]],
        "CLI chain: jupytext + papermill + nbconvert (HTML)": [
            [
                str(BIN / "jupytext"),
                "--quiet",
                "--to",
                "ipynb",
                "--set-kernel",
                "python3",
                "-o",
                str(chain_in),
                "report.Rmd",
            ],
            [
                str(BIN / "papermill"),
                "--no-progress-bar",
                "--cwd",
                str(project),
                str(chain_in),
                str(chain_out),
            ],
            [
                str(BIN / "jupyter-nbconvert"),
                "--to",
                "html",
                "--log-level",
                "ERROR",
                str(chain_out),
            ],
        ],
    }


def time_once(
    steps: list[list[str]], project: Path, variables: dict[str, str], reuse: bool = False
) -> float:
    """Run the commands in sequence and return the wall time in seconds.

    A `titanic render` must re-use the executed cells when ``reuse`` is true, and execute
    them otherwise, or the timing would measure the wrong path.
    """
    started = time.perf_counter()
    for command in steps:
        done = subprocess.run(
            command, cwd=project, check=False, capture_output=True, env=variables, timeout=1800
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr.decode()}"
            )
        if command[0].endswith("titanic") and reuse != (b"re-used the executed" in done.stdout):
            raise RuntimeError(f"{' '.join(command)}: unexpected path: {done.stdout.decode()}")
    return time.perf_counter() - started


def edit_prose(project: Path, run: int) -> None:
    """Change one phrase of report.qmd's prose (a different one each run)."""
    report = project / "report.qmd"
    old, new = PROSE_EDITS if run % 2 == 0 else PROSE_EDITS[::-1]
    report.write_text(report.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def load_average() -> str:
    """Return the 1-minute load average, or "?" where the platform has none."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"


def measure(runs: int, only: tuple[str, ...] | None = None) -> dict[str, list[float]]:
    """Time every variant (or those in ``only``) ``runs`` times, interleaved."""
    with tempfile.TemporaryDirectory(prefix="bench-render-") as scratch:
        project = make_project(Path(scratch))
        variants = commands(project, plain_script(project))
        if only is not None:
            variants = {name: steps for name, steps in variants.items() if name in only}
        timings: dict[str, list[float]] = {name: [] for name in variants}
        time_once(variants[PLAIN], project, environment(PLAIN))  # warm the file caches
        for run in range(runs):
            for name, steps in variants.items():
                if name == PROSE:
                    edit_prose(project, run)
                if name in COLD_ROWS:
                    shutil.rmtree(project / "out" / ".cache", ignore_errors=True)
                timings[name].append(time_once(steps, project, environment(name), name == PROSE))
                LOADS.append(load_average())
                print(
                    f"run {run + 1}/{runs} {name}: {timings[name][-1]:.1f} s (load {LOADS[-1]})",
                    flush=True,
                )
    return timings


def quarto_version() -> str:
    """Return ``quarto --version``."""
    return subprocess.run(
        [QUARTO or "quarto", "--version"], check=True, capture_output=True, text=True
    ).stdout.strip()


def section(timings: dict[str, list[float]], runs: int) -> str:
    """Return the Markdown section for docs/benchmarks.md."""
    medians = {name: statistics.median(values) for name, values in timings.items()}
    baseline = medians[PLAIN]
    fastest = {name: min(values) for name, values in timings.items()}
    backend = (
        f"Quarto {quarto_version()} for the Quarto rows, hidden from PATH for the others"
        " (nbconvert + Chromium backend)"
        if QUARTO
        else "no quarto binary (nbconvert + Chromium backend)"
    )
    rows = "\n".join(
        f"| {name} | {median:.1f} | {median / baseline:.2f}x |"
        f" {fastest[name]:.1f} | {fastest[name] / min(timings[PLAIN]):.2f}x | "
        + ", ".join(f"{value:.1f}" for value in timings[name])
        + " |"
        for name, median in medians.items()
    )
    return f"""{SECTION}

`benchmarks/bench_render.py` (`make benchmark`), {time.strftime("%Y-%m-%d")}: the report with
params.yaml's values (300 trees, 5-fold cross-validation, 10 permutation repeats), median of
{runs} runs per variant, variants interleaved, on {os.cpu_count()} cores, Python
{platform.python_version()}, {backend}.

| variant | median (s) | vs plain script | fastest (s) | fastest vs plain | runs (s) |
|:--|--:|--:|--:|--:|:--|
{rows}

Side by side, in this run (medians): a re-render after a prose-only edit takes
{medians[PROSE] / medians[COLD]:.2f}x the cold render (target <= 0.1x); after a parameter change
{medians[PARAMETER] / medians[COLD]:.2f}x (it executes); the cold render on every core
{medians[COLD] / medians[ONE_CORE]:.2f}x the same render with `model.n_jobs=1` (target <= 0.6x);
and the cold render {medians[COLD] / baseline:.2f}x the plain script (target <= 1.2x).
1-minute load average while measuring: {", ".join(LOADS)} (the machine is shared;
compare the ratios, not the seconds).

The plain script is the report's code cells concatenated and run by `python` (no notebook, no
HTML), with params.yaml's parameters (`model.n_jobs: 1`). `titanic render` converts,
executes (papermill, one kernel) and exports in one process; its cold rows pass `--force`.
The prose-only edit changes one phrase of report.qmd: the command hashes the code cells, the
package, uv.lock, the parameters and the data, finds the previous render's key, verifies its
notebook and files against their manifest and only typesets. The CLI chain starts three
Python programs, each importing its own stack, and its nbconvert step uses the default
template (which loads require.js and MathJax from a CDN).
"""


def write_section(text: str) -> None:
    """Replace (or append) this benchmark's section of docs/benchmarks.md, keeping the others."""
    current = DOC.read_text(encoding="utf-8") if DOC.is_file() else "# Benchmarks\n"
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == SECTION), None)
    if start is None:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        updated = "".join(lines[:start]) + text + ("\n" + tail if tail else "")
    DOC.write_text(updated, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--core",
        action="store_true",
        help="only the plain script, the titanic render rows and quarto render (a loaded machine)",
    )
    arguments = parser.parse_args()
    timings = measure(arguments.runs, CORE if arguments.core else None)
    text = section(timings, arguments.runs)
    write_section(text)
    print(text)


if __name__ == "__main__":
    main()
