"""Benchmark `titanic sweep` against a plain sequential loop of papermill + nbconvert CLI calls.

Over the same variants (params.yaml's, or those of --params FILE):
1. the baseline: for each variant, `papermill` CLI then `jupyter nbconvert --to html`, one
   after the other (the report is converted to a notebook once, outside the timing);
2. a cold `titanic sweep --jobs N` into an empty folder;
3. the same sweep again, with nothing changed (every variant cached).

Writes the results into the `## Sweep` section of docs/benchmarks.md.

With `--per-variant`, instead: a cold sweep of 8 small-model variants (30 trees, 3 folds) with
`--jobs N` and an empty shared cache, then `titanic run` of each variant N at a time (as the
sweep's workers run) and one at a time, and each variant's model work alone in this process;
written to the `## Sweep: per-variant cost` section.

    .venv/bin/python benchmarks/bench_sweep.py [--params FILE] [--jobs N] [--per-variant]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Self

import nbformat
import yaml

from titanic.analysis import fit_on_all_rows, run_analysis
from titanic.config import RESOLVED_PARAMS_FILENAME, Settings, load_settings, resolved_files
from titanic.dataset import load_dataset
from titanic.modeling.predict import predict_survival
from titanic.project import Project
from titanic.report.qmd import load_report
from titanic.sweep.executors import InlineExecutor
from titanic.sweep.run import SweepOptions, run_sweep
from titanic.sweep.variants import expand_variants

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Sweep"
PER_VARIANT_SECTION = "## Sweep: per-variant cost"
SMALL_MODEL = {
    "model": {"n_estimators": 30, "n_jobs": 1},
    "split": {"cv_folds": 3},
    "variants": {
        "grid": {"model.max_depth": [3, 4, 5, 6], "model.min_samples_leaf": [1, 2]},
        "sets": {},
    },
}


class Sampler:
    """Sample ``measure()`` every ``every`` seconds in a thread, while in a ``with`` block."""

    def __init__(self, measure: Callable[[], float], every: float):
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(measure, every), daemon=True)

    def _run(self, measure: Callable[[], float], every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(measure())

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class LoadSampler(Sampler):
    """Sample the 1-minute load average every few seconds: the machine may be shared."""

    def __init__(self, every: float = 5.0):
        super().__init__(lambda: os.getloadavg()[0], every)

    def text(self) -> str:
        if not self.samples:
            return "n/a"
        return f"{statistics.mean(self.samples):.1f} mean, {max(self.samples):.1f} max"


def timed(command: list[str], **kwargs) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, **kwargs)
    return time.perf_counter() - started


def sequential_loop(variants, work: Path) -> float:
    source = work / "report.source.ipynb"
    nbformat.write(load_report(ROOT / "report.qmd"), source)
    started = time.perf_counter()
    for variant in variants:
        folder = work / "loop" / variant.name
        folder.mkdir(parents=True)
        for name, text in resolved_files(variant.settings).items():
            (folder / name).write_text(text, encoding="utf-8")
        parameters = {
            "resolved_params_file": str(folder / RESOLVED_PARAMS_FILENAME),
            "staging_dir": str(folder),
        }
        subprocess.run(
            [str(BIN / "papermill"), str(source), str(folder / "report.ipynb"),
             "-y", json.dumps(parameters), "--cwd", str(ROOT), "-k", "python3",
             "--no-progress-bar", "--log-level", "WARNING"],
            check=True, cwd=ROOT, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", str(folder / "report.ipynb")],
            check=True, cwd=ROOT, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    return time.perf_counter() - started


def replace_section(text: str, section: str = SECTION) -> None:
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(section)}\n.*?(?=^## |\Z)", re.M | re.S)
    block = text.rstrip() + "\n\n"
    updated = (
        pattern.sub(block, current)
        if pattern.search(current)
        else (current.rstrip() + "\n\n" + block)
    )
    DOC.write_text(updated.rstrip() + "\n", encoding="utf-8")


def model_work_seconds(settings: Settings) -> float:
    """Time one variant's model work in this process: what its report fits and predicts.

    ``run_analysis`` (what `titanic run` computes), then the final fit on every labelled row
    and the predictions for test.csv (the report's predictions section).
    """
    dataset = load_dataset(settings.data, ROOT)
    started = time.perf_counter()
    run_analysis(settings, dataset)
    predict_survival(fit_on_all_rows(settings, dataset), dataset.test)
    return time.perf_counter() - started


def run_command_seconds(params: Path, variants, jobs: int, work: Path) -> dict[str, float]:
    """Wall time of `titanic run` for each variant, ``jobs`` commands at a time as in the sweep."""

    def one(variant) -> tuple[str, float]:
        command = [str(BIN / "titanic"), "run", "--params", str(params)]
        values = {**variant.values, "output_dir": str(work / "run" / variant.name)}
        for override in (f"{key}={json.dumps(value)}" for key, value in values.items()):
            command += ["-P", override]
        return variant.name, timed(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    with ThreadPoolExecutor(jobs) as commands:
        return dict(commands.map(one, variants))


def per_variant(jobs: int) -> str:
    """Sweep 8 small variants cold, then time `titanic run` and the model work of each."""
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as temporary:
        work = Path(temporary)
        params = work / "small.yaml"
        params.write_text(
            yaml.safe_dump({**SMALL_MODEL, "output_dir": str(work / "out")}), encoding="utf-8"
        )
        variants = expand_variants(load_settings(ROOT / "params.yaml", extra_files=[params]))
        command = [str(BIN / "titanic"), "sweep", "--jobs", str(jobs), "--params", str(params)]
        loads: dict[str, LoadSampler] = {}
        with LoadSampler() as loads["sweep"]:
            wall = timed(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"cold sweep of {len(variants)} variants: {wall:.1f} s", flush=True)
        with LoadSampler() as loads["paired"]:
            paired = run_command_seconds(params, variants, jobs, work)
        with LoadSampler() as loads["alone"]:
            single = run_command_seconds(params, variants, 1, work)
        model_work_seconds(variants[0].settings)  # imports and warms the caches
        rows = []
        with LoadSampler() as loads["model work"]:
            for variant in variants:
                manifest = json.loads(
                    (work / "out" / "variants" / variant.name / "manifest.json").read_text()
                )
                own = manifest["cache"]["seconds"]
                alone = model_work_seconds(variant.settings)
                rows.append((variant.name, own, paired[variant.name], single[variant.name], alone))
                print(
                    f"{variant.name}: {own:.1f} s in the sweep, `titanic run`"
                    f" {paired[variant.name]:.1f} s ({jobs} at a time),"
                    f" {single[variant.name]:.1f} s alone; model work {alone:.1f} s",
                    flush=True,
                )
    load = "; ".join(f"{name} {sampler.text()}" for name, sampler in loads.items())
    return per_variant_section(rows, wall, jobs, load)


def per_variant_section(rows: list[tuple], wall: float, jobs: int, load: str) -> str:
    """Format the per-variant section from rows of (name, in the sweep, `titanic run` at
    ``jobs`` at a time, `titanic run` alone, model work alone), in seconds."""
    table = "\n".join(
        f"| {name} | {own:.1f} | {alone:.1f} | {own - alone:+.1f} | {pair:.1f} | {one:.1f} |"
        for name, own, pair, one, alone in rows
    )
    overhead = statistics.median(row[1] - row[2] for row in rows)
    over_alone = statistics.median(row[1] - row[3] for row in rows)
    over_analysis = statistics.median(row[1] - row[4] for row in rows)
    header = (
        "| variant | in the sweep (s) | model work alone (s) | difference (s)"
        f" | `titanic run`, {jobs} at a time (s) | `titanic run` alone (s) |"
    )
    return f"""{PER_VARIANT_SECTION}

`benchmarks/bench_sweep.py --per-variant`, run on {time.strftime("%Y-%m-%d")}: Python
{platform.python_version()}, {os.cpu_count()} cores shared with other work (1-minute load
average sampled every 5 s: {load}), {len(rows)} variants of a small model (30 trees, 3 folds;
grid `model.max_depth` [3, 4, 5, 6] x `model.min_samples_leaf` [1, 2]), a cold
`titanic sweep --jobs {jobs}` with an empty shared cache, nbconvert backend.

- "In the sweep": the variant's own time in its worker (render, execute, typeset, seal; its
  manifest's `cache.seconds`).
- "`titanic run`, {jobs} at a time": the wall time of the command for the same parameters
  (start, imports, data, analysis, metrics.json and model), run {jobs} at a time as the
  sweep's {jobs} workers run their variants, so both share the cores alike; "`titanic run`
  alone": the same command, one at a time.
- "Model work alone": the variant's own model work in one already started process, one
  core, no command around it: `run_analysis` (cross-validation, nested search, held-out
  evaluation, permutation importance), then the final fit on every labelled row and the
  predictions for test.csv, as its report makes them. Issue 14's goal (at most 3 s above it)
  is read against this column: when the issue was written, a variant took 10.5 s in a sweep,
  `titanic run` 7.5 s and the analysis 1.3 s, so measured against `titanic run` the goal
  would already have been met. (Until 2026-11-26 the column held `run_analysis` alone,
  without the final fit, about 0.4 s of this model.)

{header}
|:--|--:|--:|--:|--:|--:|
{table}

Median: **{over_analysis:+.1f} s per variant over its model work alone** (target <= +3 s);
{overhead:+.1f} s over `titanic run` of the same model run {jobs} at a time, {over_alone:+.1f} s
over the command run alone: a variant in the sweep costs no more than the command. The sweep
took {wall:.1f} s of wall time, {wall * jobs / len(rows):.1f} s per variant and worker
({jobs} workers).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, action="append", default=[])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-write", action="store_true", help="Do not update the docs.")
    parser.add_argument(
        "--with-serial", action="store_true", help="Also time a cold `titanic sweep --jobs 1`."
    )
    parser.add_argument(
        "--per-variant", action="store_true", help="8 small variants against their model work."
    )
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.per_variant:
        text = per_variant(args.jobs)
        print(text)
        if not args.no_write:
            replace_section(text, PER_VARIANT_SECTION)
        return
    params_files = [path.resolve() for path in args.params]
    variants = expand_variants(load_settings(ROOT / "params.yaml", extra_files=params_files))
    grid = load_settings(ROOT / "params.yaml", extra_files=params_files).variants.grid
    loads: dict[str, LoadSampler] = {}
    serial = None
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as temporary:
        work = Path(temporary)
        print(f"{len(variants)} variants, {args.jobs} jobs", flush=True)
        with LoadSampler() as loads["loop"]:
            loop = sequential_loop(variants, work)
        print(f"sequential papermill + nbconvert loop: {loop:.1f} s", flush=True)
        output = work / "sweep-output"
        bench_params = work / "bench.yaml"
        bench_params.write_text(yaml.safe_dump({"output_dir": str(output)}), encoding="utf-8")
        command = [str(BIN / "titanic"), "sweep", "--jobs", str(args.jobs)]
        for path in [*params_files, bench_params]:
            command += ["--params", str(path)]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        with LoadSampler() as loads["cold"]:
            cold = timed(command, **quiet)
        print(f"cold sweep: {cold:.1f} s ({cold / loop:.2f}x the loop)", flush=True)
        cached = timed(command, **quiet)
        if args.with_serial:
            serial_params = work / "serial.yaml"
            serial_params.write_text(
                yaml.safe_dump({"output_dir": str(work / "serial-output")}), encoding="utf-8"
            )
            serial_command = [*command[:2], "--jobs", "1"]
            for path in [*params_files, serial_params]:
                serial_command += ["--params", str(path)]
            with LoadSampler() as loads["serial"]:
                serial = timed(serial_command, **quiet)
            print(f"cold sweep --jobs 1: {serial:.1f} s", flush=True)
        print(f"cached sweep: {cached:.2f} s ({cached / cold:.3f}x the cold sweep)", flush=True)
        result = run_sweep(
            Project.at(ROOT),
            SweepOptions(params_files=(*params_files, bench_params)),
            InlineExecutor(),
        )
        assert {outcome.status for outcome in result.outcomes} == {"cached"}
        in_process = result.seconds
        print(f"cached run_sweep() in process: {in_process:.2f} s", flush=True)
    grid_text = ", ".join(f"`{key}` {values}" for key, values in grid.items())
    origin = ", ".join(f"`{path.name}`" for path in params_files) or "params.yaml"
    rows = [
        ("sequential loop: `papermill` CLI + `jupyter nbconvert --to html` per variant",
         f"{loop:.1f} s", "1.00x", ""),
        (f"`titanic sweep --jobs {args.jobs}`, cold", f"{cold:.1f} s",
         f"{cold / loop:.2f}x the loop", "<= 0.5x"),
        *(
            [("`titanic sweep --jobs 1`, cold", f"{serial:.1f} s",
              f"{serial / loop:.2f}x the loop", "")]
            if serial is not None
            else []
        ),
        ("`titanic sweep` again, nothing changed (all cached)", f"{cached:.2f} s",
         f"{cached / cold:.3f}x the cold sweep", "<= 0.02x"),
        ("the same, `run_sweep()` in an already started Python", f"{in_process:.2f} s",
         f"{in_process / cold:.3f}x the cold sweep", ""),
    ]  # fmt: skip
    table = "\n".join("| " + " | ".join(row) + " |" for row in rows)
    load = "; ".join(f"{name}: {sampler.text()}" for name, sampler in loads.items())
    text = f"""{SECTION}

`benchmarks/bench_sweep.py`, run on {time.strftime("%Y-%m-%d")}: Python
{platform.python_version()}, {os.cpu_count()} cores shared with other work (1-minute load
average sampled every 5 s, {load}),
{len(variants)} variants (grid {grid_text}, from {origin}), `--jobs {args.jobs}`, nbconvert
backend (no quarto binary). One run of each; wall times.

| run | wall time | ratio | target |
|---|---:|---:|---:|
{table}

The loop's notebook is converted from report.qmd once, outside its timing. The cached run
executes no notebook: it hashes the report, the package, the data and uv.lock, finds every
variant's key unchanged, and rewrites the comparison page from cached figures. The last row
times that work alone: the rest of the cached command's time is start-up, about 0.7 s for
Python and `titanic.cli` (typer, rich, pydantic, fsspec). The comparison page is built from
plain rows: pandas and matplotlib are imported only when a figure's data changed, so a fully
cached run imports neither (an earlier version did, and measured 2.05 s, 0.039x).
The cold ratio moves between runs: three runs on 2026-11-25 measured 0.53x, 0.49x and 0.52x
the loop, so on 2 cores the sweep sits at the 0.5x target rather than clearly under it.
"""
    if not args.no_write:
        replace_section(text)
        print(f"wrote the {SECTION!r} section of {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
