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


def spy_on_loops(monkeypatch) -> dict[str, list[int]]:
    """Record the ``n_jobs`` each parallel loop of this process is given."""
    seen: dict[str, list[int]] = {}

    def spy_on(module, name):
        real = getattr(module, name)

        def spy(*args, **kwargs):
            assert type(get_active_backend()[0]).__name__ == "ThreadingBackend"
            key = f"{module.__name__.rsplit('.', 1)[-1]}.{name}"
            seen.setdefault(key, []).append(kwargs.get("n_jobs", 1))
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)

    spy_on(evaluate, "Parallel")  # cross-validation's folds, permutation importance's columns
    spy_on(baselines, "cross_val_score")  # each baseline's folds
    spy_on(selection, "Parallel")  # nested cross-validation's outer folds
    return seen


def record_pid_of(monkeypatch, tmp_path, module, name):
    """Make ``module.name`` write the id of the process that runs it to a file of its name."""
    real = getattr(module, name)

    def recording(*args, **kwargs):
        (tmp_path / name).write_text(str(os.getpid()), encoding="utf-8")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, recording)


def test_with_two_cores_the_model_free_diagnostics_run_in_a_second_process(monkeypatch, tmp_path):
    seen = spy_on_loops(monkeypatch)
    for name in ("baseline_accuracies", "nested_estimate"):
        record_pid_of(monkeypatch, tmp_path, analysis_module, name)
    settings = settings_with(2)
    result = analysis_module.run_analysis(settings, load_dataset(settings.data))
    assert result.model.named_steps["classifier"].n_jobs == 2
    pids = {
        int((tmp_path / name).read_text()) for name in ("baseline_accuracies", "nested_estimate")
    }
    assert len(pids) == 1 and os.getpid() not in pids
    # The loops of this process run one at a time: on threads they were slower.
    assert seen == {"evaluate.Parallel": [1, 1]}


def test_with_one_core_everything_runs_here_one_loop_at_a_time(monkeypatch, tmp_path):
    seen = spy_on_loops(monkeypatch)
    record_pid_of(monkeypatch, tmp_path, analysis_module, "nested_estimate")
    settings = settings_with(1)
    analysis_module.run_analysis(settings, load_dataset(settings.data))
    assert int((tmp_path / "nested_estimate").read_text()) == os.getpid()
    assert seen == {
        "evaluate.Parallel": [1, 1],
        "baselines.cross_val_score": [1] * 4,
        "selection.Parallel": [1],
    }
