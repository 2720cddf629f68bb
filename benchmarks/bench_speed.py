"""Benchmark the analysis: this checkout against an older one, then this one at scale.

Comparison (``--base``): each command runs in the older checkout (its own ``.venv``) and in
this one, in turn (older, newer, older, newer...), ``--runs`` times each; the table gives each
side's median wall time and the median of the pair-by-pair ratios (newer / older), which holds
when the machine's speed drifts. Commands: ``titanic run`` with the defaults
(``model.n_jobs: 1``), with ``model.n_jobs=-1``, with ``model.n_estimators=30``, and a cold
``titanic render --to html`` (``--force``), each in a new output folder, so no cache helps;
then the two re-runs a user makes after a default run, in that run's folder (the default
run is not timed): ``titanic run`` with ``model.n_estimators=30`` and with
``model.n_jobs=-1``, which take the baselines and the nested search from the shared cache.

Scale (``--sizes``): training files of the given numbers of rows, drawn with replacement from
the shipped rows (seeded; PassengerId renumbered), run once each through ``titanic run`` and
``titanic render --to html`` of this checkout: wall time, peak memory of the largest process
(the command, or the render's kernel), and the cost per row (the slope of a least-squares line
through the timings). Results go to the ``## Analysis speed`` and ``## Scale`` sections of
docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_speed.py --base ../older-checkout [--runs 3]
    .venv/bin/python benchmarks/bench_speed.py --sizes 891,8910,89100,733000
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
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from bench_sweep import replace_section

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "titanic" / "data"
SPEED_SECTION = "## Analysis speed"
SCALE_SECTION = "## Scale"
COMMANDS = {
    "titanic run (model.n_jobs: 1)": ["run"],
    "titanic run -P model.n_jobs=-1": ["run", "-P", "model.n_jobs=-1"],
    "titanic run -P model.n_estimators=30": ["run", "-P", "model.n_estimators=30"],
    "titanic render --to html, cold": ["render", "--to", "html", "--force"],
    "titanic run -P model.n_estimators=30, after a default run": [
        "run", "-P", "model.n_estimators=30",
    ],
    "titanic run -P model.n_jobs=-1, after a default run": ["run", "-P", "model.n_jobs=-1"],
}  # fmt: skip
# Commands run first, untimed, in the same output folder: what the user ran before.
AFTER_A_DEFAULT_RUN = ["run"]
SCALE_COMMANDS = {
    "titanic run": ["run"],
    "titanic render --to html": ["render", "--to", "html", "--force"],
}
# Quarto hidden: the nbconvert backend renders, as on a machine without it.
ENVIRONMENT = {
    **os.environ,
    "PATH": os.pathsep.join(
        part for part in os.environ["PATH"].split(os.pathsep) if "quarto" not in part
    ),
}


@dataclass(frozen=True)
class Timing:
    """One finished command: wall seconds, peak memory (MB) and exit code."""

    seconds: float
    peak_mb: float
    exit_code: int


def run_once(checkout: Path, arguments: list[str], overrides: list[str], limit: float) -> Timing:
    """Run ``titanic ARGUMENTS`` in ``checkout``, sampling the memory of its process tree.

    The peak is that of the largest single process (the CLI, or the render's kernel), sampled
    every 0.1 s; a command still running after ``limit`` seconds is stopped (exit code -9).
    """
    command = [str(checkout / ".venv" / "bin" / "titanic"), *arguments, *overrides]
    started = time.perf_counter()
    with subprocess.Popen(
        command,
        cwd=checkout,
        env=ENVIRONMENT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        tree = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            if time.perf_counter() - started > limit:
                os.killpg(process.pid, 9)
                break
            try:
                members = [tree, *tree.children(recursive=True)]
                peak = max([peak, *(member.memory_info().rss for member in members)])
            except psutil.Error:
                pass  # a process ended between listing and reading it
            time.sleep(0.1)
        _, errors = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode:
        sys.stderr.write(errors.decode(errors="replace")[-2000:])
    return Timing(seconds, peak / 2**20, process.returncode)


def compare(base: Path, runs: int, scratch: Path) -> dict[str, list[tuple[Timing, Timing]]]:
    """Time every command in the older and this checkout, in turn; return the pairs."""
    pairs: dict[str, list[tuple[Timing, Timing]]] = {name: [] for name in COMMANDS}
    for number, (name, arguments) in enumerate(COMMANDS.items()):
        for run in range(runs + 1):  # the first pair warms the disk cache and is dropped
            timed = []
            for side, checkout in (("base", base), ("new", ROOT)):
                # A folder of its own per command, side and run: no cache of an earlier one.
                output = ["-P", f"output_dir={scratch / f'{number}-{side}-{run}'}"]
                if name.endswith("after a default run"):
                    run_once(checkout, AFTER_A_DEFAULT_RUN, output, limit=900)
                timed.append(run_once(checkout, arguments, output, limit=900))
            print(name, run, [f"{timing.seconds:.1f}" for timing in timed], flush=True)
            if run:
                pairs[name].append((timed[0], timed[1]))
    return pairs


def speed_section(pairs: dict[str, list[tuple[Timing, Timing]]], base: Path) -> str:
    """Return the comparison's section of docs/benchmarks.md."""
    runs = len(next(iter(pairs.values())))
    rows = []
    for name, timings in pairs.items():
        older = statistics.median(pair[0].seconds for pair in timings)
        newer = statistics.median(pair[1].seconds for pair in timings)
        ratio = statistics.median(pair[1].seconds / pair[0].seconds for pair in timings)
        each = ", ".join(f"{pair[0].seconds:.1f}/{pair[1].seconds:.1f}" for pair in timings)
        failed = sum(pair[0].exit_code != 0 or pair[1].exit_code != 0 for pair in timings)
        rows.append(
            f"| {name} | {older:.1f} | {newer:.1f} | {ratio:.2f}x | {each}"
            f"{f' ({failed} failed)' if failed else ''} |"
        )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=base, capture_output=True, text=True
    ).stdout.strip()
    return f"""{SPEED_SECTION}

`benchmarks/bench_speed.py --base`, {date.today().isoformat()}: whole-process wall times, the
code before the speed work (commit {commit}) and after it, run in turn, {runs} pairs per
command after one dropped warm-up pair (medians; the ratio is the median of the pairs'),
on {os.cpu_count()} shared cores, Python {platform.python_version()}, no quarto binary
(nbconvert + Chromium render).

| command | before (s) | after (s) | after / before | pairs, before/after (s) |
|:--|--:|--:|--:|:--|
{chr(10).join(rows)}

"""


def resampled_folder(rows: int, folder: Path) -> Path:
    """Write ``rows`` training rows drawn with replacement from the shipped ones, and test.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    shipped = pd.read_csv(DATA / "train.csv")
    drawn = np.random.default_rng(rows).integers(0, len(shipped), rows)
    frame = shipped.iloc[drawn].reset_index(drop=True)
    frame["PassengerId"] = np.arange(1, rows + 1)
    frame.to_csv(folder / "train.csv", index=False)
    shutil.copyfile(DATA / "test.csv", folder / "test.csv")
    return folder


def scale(sizes: list[int], scratch: Path, limit: float) -> dict[str, dict[int, Timing]]:
    """Time ``titanic run`` and a cold ``titanic render --to html`` once per size."""
    timings: dict[str, dict[int, Timing]] = {name: {} for name in SCALE_COMMANDS}
    for rows in sizes:
        folder = resampled_folder(rows, scratch / f"data-{rows}")
        for name, arguments in SCALE_COMMANDS.items():
            output = folder / arguments[0]
            overrides = ["-P", f"data.source={folder}", "-P", f"output_dir={output}"]
            timings[name][rows] = run_once(ROOT, arguments, overrides, limit)
            print(name, rows, timings[name][rows], flush=True)
    return timings


def scale_section(timings: dict[str, dict[int, Timing]], limit: float) -> str:
    """Return the scale section: one row per command and size, then the fitted cost per row."""
    rows, fits = [], []
    for name, by_size in timings.items():
        for size, timing in by_size.items():
            status = "ok" if timing.exit_code == 0 else f"exit {timing.exit_code}"
            if timing.exit_code == -9:
                status = f"stopped after {limit:.0f} s"
            megabytes = os.path.getsize(ROOT / "src/titanic/data/train.csv") * size / 891 / 1e6
            rows.append(
                f"| {name} | {size:,} | {megabytes:.1f} | {timing.seconds:.1f}"
                f" | {timing.peak_mb:.0f} | {status} |"
            )
        finished = {size: t.seconds for size, t in by_size.items() if t.exit_code == 0}
        if len(finished) >= 2:
            slope, intercept = np.polyfit(list(finished), list(finished.values()), 1)
            fits.append(
                f"- {name}: about {intercept:.1f} s plus {slope * 1e5:.1f} s per 100,000 rows"
                " (least squares over the finished sizes)."
            )
    return f"""{SCALE_SECTION}

`benchmarks/bench_speed.py --sizes`, {date.today().isoformat()}: the defaults of params.yaml
(`model.n_jobs: 1`), training files drawn with replacement from the shipped 891 rows, one run
per size, whole-process wall time and the peak memory of the largest process, on
{os.cpu_count()} shared cores ({psutil.virtual_memory().total / 2**30:.0f} GiB).

| command | rows | train.csv (MB, about) | wall (s) | peak memory (MB) | status |
|:--|--:|--:|--:|--:|:--|
{chr(10).join(rows)}

{chr(10).join(fits)}

"""


def main() -> None:
    """Run the comparison and/or the scale benchmark and write their sections."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="older checkout (with .venv) to compare")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", help="comma-separated row counts, e.g. 891,8910,89100,733000")
    parser.add_argument("--limit", type=float, default=900, help="seconds per scale command")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as scratch:
        if options.base:
            pairs = compare(options.base.resolve(), options.runs, Path(scratch))
            replace_section(speed_section(pairs, options.base.resolve()), SPEED_SECTION)
        if options.sizes:
            sizes = [int(size) for size in options.sizes.split(",")]
            timings = scale(sizes, Path(scratch), options.limit)
            replace_section(scale_section(timings, options.limit), SCALE_SECTION)


if __name__ == "__main__":
    main()
