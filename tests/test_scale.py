"""The diagnostics' row budget: every row up to it, a seeded stratified sample beyond."""

import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from titanic.analysis import run_analysis
from titanic.config import load_settings
from titanic.dataset import load_dataset
from titanic.modeling import scale
from titanic.modeling.evaluate import cross_validate_model, permutation_importances
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


def test_the_reason_names_each_sampled_diagnostic_in_one_sentence():
    both = DiagnosticRows(9_000, 2_500, cv_rows=5_000, importance_rows=2_000)
    assert both.reason() == (
        "The data exceed the diagnostics' budget, so cross-validation, the baselines and nested"
        " cross-validation read a stratified sample of 5,000 of the 9,000 training rows and"
        " permutation importance shuffled a stratified sample of 2,000 of the 2,500 held-out"
        " rows (drawn with the run's seed); the model itself was fitted on every training row"
        " and scored on every held-out row."
    )
    only_importance = DiagnosticRows(75, 25, cv_rows=75, importance_rows=20)
    assert only_importance.reason() == (
        "The data exceed the diagnostics' budget, so permutation importance shuffled a"
        " stratified sample of 20 of the 25 held-out rows (drawn with the run's seed); the"
        " model itself was fitted on every training row and scored on every held-out row."
    )
    within = DiagnosticRows(712, 179, cv_rows=712, importance_rows=179)
    assert within.reason() == (
        "Every diagnostic read every row: the data are within the budget of 5,000 training and"
        " 2,000 held-out rows."
    )


@pytest.mark.parametrize("selection", [True, False])
def test_beyond_the_budget_the_run_warns_shows_its_steps_and_shuffles_the_seeded_sample(
    selection, monkeypatch, caplog
):
    monkeypatch.setattr(scale, "DIAGNOSTIC_TRAIN_ROWS", 40)
    monkeypatch.setattr(scale, "IMPORTANCE_ROWS", 20)
    overrides = [*SMALL, f"selection.enabled={str(selection).lower()}"]
    settings = load_settings(REPO_ROOT / "params.yaml", overrides=overrides)
    dataset = load_dataset(settings.data)
    dataset = replace(dataset, train=dataset.train.iloc[:100])
    with caplog.at_level(logging.INFO, logger="titanic"):
        analysis = run_analysis(settings, dataset)
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert [(record.name, record.getMessage()) for record in warnings] == [
        ("titanic.analysis", analysis.diagnostic_rows.reason())
    ]
    steps = 5 if selection else 4
    shown = [record.getMessage() for record in caplog.records if record.name == "titanic.progress"]
    assert shown == [
        f"step 1/{steps}: cross-validation, 2 forests of 3 trees on 40 rows",
        f"step 2/{steps}: the model, 3 trees on 75 rows",
        f"step 3/{steps}: permutation importance, 3 columns x 2 shuffles of 20 held-out rows",
        f"step 4/{steps}: baselines on the same 2 folds",
        *(["step 5/5: nested cross-validation, 2 outer x 2 inner folds on 40 rows"] * selection),
    ]
    rows, labels = sample_rows(analysis.split.x_validation, analysis.split.y_validation, 20, 7)
    expected = permutation_importances(
        analysis.model, rows, labels, ["Sex", "Age", "Ticket"], 2, 7
    )
    pd.testing.assert_frame_equal(analysis.importance, expected)
