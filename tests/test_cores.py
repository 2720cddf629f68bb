"""All cores for one report, one core per sweep variant, and the same numbers either way."""

import os

import numpy as np
from joblib import effective_n_jobs
from joblib.parallel import get_active_backend

from titanic import analysis as analysis_module
from titanic.analysis import run_analysis
from titanic.config import load_settings
from titanic.dataset import load_dataset
from titanic.modeling import baselines, evaluate, selection
from titanic.sweep import worker

from .conftest import REPO_ROOT

SMALL = [
    "model.n_estimators=20",
    "split.cv_folds=3",
    "evaluation.permutation_repeats=2",
    "selection.n_estimators=5",
]


def settings_with(n_jobs: int):
    return load_settings(REPO_ROOT / "params.yaml", overrides=[*SMALL, f"model.n_jobs={n_jobs}"])


def test_metrics_are_identical_with_one_or_two_jobs():
    dataset = load_dataset(settings_with(1).data)
    one, two = (run_analysis(settings_with(n), dataset) for n in (1, 2))
    assert one.summary() == two.summary()
    assert np.array_equal(
        one.model.predict_proba(one.split.x_validation),
        two.model.predict_proba(two.split.x_validation),
    )


def test_a_sweep_variant_keeps_one_core(monkeypatch):
    monkeypatch.delenv(worker.CORES_VARIABLE, raising=False)
    worker.one_core_per_variant()
    assert os.environ[worker.CORES_VARIABLE] == "1"
    assert effective_n_jobs(-1) == 1


def test_every_parallel_loop_gets_n_jobs_and_runs_on_threads(monkeypatch):
    seen: dict[str, list[tuple[int, str]]] = {}

    def spy_on(module, name):
        real = getattr(module, name)

        def spy(*args, **kwargs):
            backend = type(get_active_backend()[0]).__name__
            key = f"{module.__name__.rsplit('.', 1)[-1]}.{name}"
            seen.setdefault(key, []).append((kwargs.get("n_jobs", 1), backend))
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)

    spy_on(evaluate, "Parallel")  # cross-validation's folds, permutation importance's columns
    spy_on(baselines, "cross_val_score")  # each baseline's folds
    spy_on(selection, "Parallel")  # nested cross-validation's outer folds
    settings = settings_with(2)
    result = analysis_module.run_analysis(settings, load_dataset(settings.data))
    assert result.model.named_steps["classifier"].n_jobs == 2
    on_two_threads = (2, "ThreadingBackend")
    assert seen == {
        "evaluate.Parallel": [on_two_threads] * 2,
        "baselines.cross_val_score": [on_two_threads] * 4,
        "selection.Parallel": [on_two_threads],
    }
