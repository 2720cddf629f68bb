"""The diagnostics' row budget: every row up to it, a seeded stratified sample beyond."""

from dataclasses import replace

import numpy as np
import pandas as pd

from titanic.analysis import run_analysis
from titanic.config import load_settings
from titanic.dataset import load_dataset
from titanic.modeling import scale
from titanic.modeling.evaluate import cross_validate_model
from titanic.modeling.scale import (
    DIAGNOSTIC_TRAIN_ROWS,
    IMPORTANCE_ROWS,
    DiagnosticRows,
    plan_diagnostics,
    sample_rows,
)
from titanic.modeling.train import build_model

from .conftest import REPO_ROOT
from .test_analysis import SMALL, hand_made, ticket_rows


def test_data_within_the_budget_keep_every_row_for_every_diagnostic():
    rows = plan_diagnostics(712, 179)
    assert rows == DiagnosticRows(712, 179, cv_rows=712, importance_rows=179)
    assert not rows.adapted
    assert "Every diagnostic read every row" in rows.reason()
    at_budget = plan_diagnostics(DIAGNOSTIC_TRAIN_ROWS, IMPORTANCE_ROWS)
    assert not at_budget.adapted


def test_beyond_the_budget_the_diagnostics_read_a_sample_and_say_which():
    rows = plan_diagnostics(586_000, 146_600)
    assert (rows.cv_rows, rows.importance_rows) == (5_000, 2_000)
    assert rows.adapted
    reason = rows.reason()
    assert "5,000 of the 586,000 training rows" in reason
    assert "2,000 of the 146,600 held-out rows" in reason
    assert "fitted on every training row" in reason
    only_training = plan_diagnostics(9_000, 1_500)
    assert only_training.adapted and "permutation importance" not in only_training.reason()
    assert rows.summary() == {
        "train_rows": 586_000,
        "cv_rows": 5_000,
        "validation_rows": 146_600,
        "importance_rows": 2_000,
        "reason": reason,
    }


def labelled(count: int) -> tuple[pd.DataFrame, pd.Series]:
    target = pd.Series(np.arange(count) % 4 == 0, dtype=int, index=np.arange(count) + 100)
    return pd.DataFrame({"x": np.arange(count)}, index=target.index), target


def test_a_sample_is_stratified_seeded_and_every_row_when_there_are_no_more():
    features, target = labelled(1_000)
    kept, kept_target = sample_rows(features, target, 200, random_state=3)
    assert len(kept) == 200 and kept.index.equals(kept_target.index)
    assert kept_target.sum() == 50  # a quarter survive, as in all the rows
    again, _ = sample_rows(features, target, 200, random_state=3)
    other, _ = sample_rows(features, target, 200, random_state=4)
    assert kept.index.equals(again.index) and not kept.index.equals(other.index)
    every, every_target = sample_rows(features, target, 1_000, random_state=3)
    assert every is features and every_target is target


def test_metrics_name_the_sample_only_when_one_was_drawn():
    within = replace(hand_made(None), diagnostic_rows=plan_diagnostics(700, 180))
    assert "diagnostic_rows" not in within.summary()
    assert "diagnostic_rows" not in hand_made(None).summary()
    beyond = replace(hand_made(None), diagnostic_rows=plan_diagnostics(9_000, 2_500))
    assert beyond.summary()["diagnostic_rows"]["cv_rows"] == 5_000


def test_beyond_the_budget_the_diagnostics_use_the_sample_and_the_model_every_row(monkeypatch):
    monkeypatch.setattr(scale, "DIAGNOSTIC_TRAIN_ROWS", 40)
    monkeypatch.setattr(scale, "IMPORTANCE_ROWS", 20)
    settings = load_settings(REPO_ROOT / "params.yaml", overrides=SMALL)
    dataset = load_dataset(settings.data)
    dataset = replace(dataset, train=dataset.train.iloc[:100])
    analysis = run_analysis(settings, dataset)
    assert len(analysis.split.x_train) == 75 and len(analysis.split.x_validation) == 25
    assert analysis.diagnostic_rows == DiagnosticRows(75, 25, cv_rows=40, importance_rows=20)
    sample, labels = sample_rows(analysis.split.x_train, analysis.split.y_train, 40, 7)
    expected = cross_validate_model(
        build_model(settings.features, settings.model, 7), sample, labels, 2, 7
    ).scores
    pd.testing.assert_frame_equal(analysis.cv_scores, expected)
    assert analysis.nested is not None and analysis.nested.scores.size == 2
    assert ticket_rows(analysis.model) == 75  # the model itself: every training row
    assert analysis.summary()["diagnostic_rows"]["cv_rows"] == 40
