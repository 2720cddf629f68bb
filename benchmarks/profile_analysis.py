"""Profile one analysis (what `titanic run` computes) step by step, then under cProfile.

Prints the wall time of each step of :func:`titanic.analysis.run_analysis` (cross-validation,
final fit, permutation importance, baselines, nested cross-validation), measured as the
cumulative time of the function that does it, then the functions with the most time of their
own and the most calls. ``--plain`` times the steps without the profiler's overhead.
Parameters as for the CLI (``-P section.key=value``); the data are the shipped rows unless
``-P data.source=FOLDER`` says otherwise.

    .venv/bin/python benchmarks/profile_analysis.py [--plain] [-P model.n_estimators=30]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

from titanic import analysis
from titanic.config import load_settings
from titanic.dataset import load_dataset

ROOT = Path(__file__).resolve().parents[1]
# The function whose cumulative time is each step's (module path suffix, function name).
STEPS = {
    "cross-validation": ("modeling/evaluate.py", "cross_validate_model"),
    "final fit": ("modeling/train.py", "fit_model"),
    "permutation importance": ("modeling/evaluate.py", "permutation_importances"),
    "baselines": ("modeling/baselines.py", "baseline_accuracies"),
    "nested cross-validation": ("analysis.py", "nested_estimate"),
}


def timed_steps() -> dict[str, float]:
    """Wrap each step's function, as :mod:`titanic.analysis` calls it, to add up its seconds."""
    seconds = dict.fromkeys(STEPS, 0.0)
    for step, (_, name) in STEPS.items():
        real = getattr(analysis, name)

        def timed(*args, _real=real, _step=step, **kwargs):
            started = time.perf_counter()
            try:
                return _real(*args, **kwargs)
            finally:
                seconds[_step] += time.perf_counter() - started

        setattr(analysis, name, timed)
    return seconds


def step_times(stats: pstats.Stats) -> dict[str, float]:
    """Return each step's cumulative seconds, read from the profile."""
    found = dict.fromkeys(STEPS, 0.0)
    for (path, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        for step, (suffix, function) in STEPS.items():
            if name == function and path.endswith(suffix):
                found[step] += row[3]
    return found


def main() -> None:
    """Run the analysis once under cProfile and print where its time went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-P", dest="overrides", action="append", default=[])
    parser.add_argument("--top", type=int, default=25, help="rows of each profile table")
    parser.add_argument(
        "--plain", action="store_true", help="only each step's wall time, without cProfile"
    )
    parser.add_argument("--save", type=Path, help="also write the raw profile (pstats) here")
    options = parser.parse_args()
    settings = load_settings(ROOT / "params.yaml", overrides=options.overrides)
    dataset = load_dataset(settings.data, ROOT)
    if options.plain:
        seconds = timed_steps()
        started = time.perf_counter()
        analysis.run_analysis(settings, dataset)
        print(f"analysis: {time.perf_counter() - started:.2f} s, {len(dataset.train)} rows")
        for step, value in seconds.items():
            print(f"  {step:<26} {value:6.2f} s")
        return
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    analysis.run_analysis(settings, dataset)
    profiler.disable()
    total = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    print(f"analysis: {total:.2f} s under cProfile, {len(dataset.train)} training rows")
    for step, seconds in step_times(stats).items():
        print(f"  {step:<26} {seconds:6.2f} s")
    if options.save:
        stats.dump_stats(options.save)
    stats.sort_stats("tottime").print_stats(options.top)
    stats.sort_stats("ncalls").print_stats(options.top)


if __name__ == "__main__":
    main()
