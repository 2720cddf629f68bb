"""The analysis: its summaries on hand-made results, and its wiring on a small real run."""

import logging
import statistics
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline

from titanic import analysis as analysis_module
from titanic.analysis import (
    Analysis,
    PredictionModel,
    fit_on_all_rows,
    metrics_document,
    model_for_predictions,
    nested_estimate,
    run_analysis,
)
from titanic.config import SelectionSettings, load_settings
from titanic.dataset import load_dataset
from titanic.io.memo import ContentCache
from titanic.metrics import METRIC_NAMES
from titanic.modeling import scale
from titanic.modeling.baselines import BaselineScores, RuleClassifier, seed_model
from titanic.modeling.selection import NestedResult
from titanic.modeling.train import Split, build_model
from titanic.schema.columns import split_features_target

from .conftest import REPO_ROOT

FOLDS = pd.RangeIndex(1, 4, name="fold")
ACCURACY = [0.8, 0.7, 0.9]
# Mean accuracy per fold of each baseline: 0.6, 0.75, 0.76 (the best rule), 0.9 (not a rule).
BASELINE_FOLDS = {
    "majority class": [0.6, 0.6, 0.6],
    "gender rule": [0.7, 0.8, 0.75],
    "women and children first": [0.72, 0.78, 0.78],
    "seed model": [0.9, 0.9, 0.9],
}


def hand_made(nested: NestedResult | None) -> Analysis:
    """An Analysis whose every number is written here."""
    rows = pd.DataFrame({"Age": [1.0, 2.0, 3.0, 4.0, 5.0]})
    labels = pd.Series([0, 1, 0, 1, 1])
    cv_scores = pd.DataFrame(
        {name: [0.1, 0.2, 0.3] for name in METRIC_NAMES} | {"accuracy": ACCURACY}, index=FOLDS
    )
    return Analysis(
        split=Split(rows.iloc[:3], rows.iloc[3:], labels.iloc[:3], labels.iloc[3:]),
        model=Pipeline([("classifier", DummyClassifier())]),
        metrics=dict.fromkeys(METRIC_NAMES, 0.5),
        confusion_matrix=pd.DataFrame(
            [[3, 1], [2, 4]], index=["died", "survived"], columns=["died", "survived"]
        ),
        roc_curve=pd.DataFrame(),
        cv_scores=cv_scores,
        importance=pd.DataFrame(
            {"feature": ["Sex", "Age"], "importance_mean": [0.2, 0.1], "importance_std": [0.02, 0]}
        ),
        baselines=BaselineScores(
            {
                "majority class": 0.6,
                "gender rule": 0.7,
                "women and children first": 0.8,
                "seed model": 0.85,
            },
            pd.DataFrame(BASELINE_FOLDS, index=FOLDS),
        ),
        nested=nested,
        selection=SelectionSettings(
            enabled=True, inner_folds=2, n_estimators=30, grid={"max_depth": [4, 6]}
        ),
    )


NESTED = NestedResult(
    pd.Series([0.75, 0.85], index=pd.RangeIndex(1, 3, name="fold")),
    [{"classifier__max_depth": 4}, {"classifier__max_depth": 6}],
)


def test_the_best_rule_and_the_gain_over_it_fold_by_fold():
    analysis = hand_made(None)
    assert analysis.best_rule() == "women and children first"
    gains = [0.8 - 0.72, 0.7 - 0.78, 0.9 - 0.78]
    assert analysis.gain_over_best_rule() == {
        "rule": "women and children first",
        "mean": pytest.approx(sum(gains) / 3),
        "std": pytest.approx(statistics.stdev(gains)),
    }


def test_the_summary_of_hand_made_results():
    summary = hand_made(NESTED).summary()
    assert summary["validation"] == dict.fromkeys(METRIC_NAMES, 0.5)
    assert summary["cross_validation"]["accuracy"] == {
        "mean": pytest.approx(0.8),
        "std": pytest.approx(0.1),
    }
    assert summary["cross_validation_folds"]["accuracy"] == ACCURACY
    assert summary["cross_validation_folds"]["f1"] == [0.1, 0.2, 0.3]
    assert summary["confusion_matrix"] == {
        "labels": ["died", "survived"],
        "rows_actual_columns_predicted": [[3, 1], [2, 4]],
    }
    assert summary["permutation_importance"] == [
        {"feature": "Sex", "importance_mean": 0.2, "importance_std": 0.02},
        {"feature": "Age", "importance_mean": 0.1, "importance_std": 0.0},
    ]
    assert summary["rows"] == {"train": 3, "validation": 2}
    assert summary["baselines"][2] == {
        "name": "women and children first",
        "validation_accuracy": 0.8,
        "cv_accuracy": {
            "mean": pytest.approx(0.76),
            "std": pytest.approx(statistics.stdev([0.72, 0.78, 0.78])),
        },
        "cv_accuracy_folds": [0.72, 0.78, 0.78],
    }
    assert [entry["name"] for entry in summary["baselines"]] == list(BASELINE_FOLDS)
    assert summary["gain_over_best_rule"]["rule"] == "women and children first"
    assert summary["nested_cross_validation"] == {
        "accuracy": {
            "mean": pytest.approx(0.8),
            "std": pytest.approx(statistics.stdev([0.75, 0.85])),
        },
        "folds": [0.75, 0.85],
        "chosen": [{"max_depth": 4}, {"max_depth": 6}],
        "inner_folds": 2,
        "n_estimators": 30,
        "grid": {"max_depth": [4, 6]},
    }


def test_no_nested_summary_when_selection_is_off():
    assert hand_made(None).summary()["nested_cross_validation"] is None


# A small real run: 100 passengers, three feature groups, 3 trees, 2 folds, a two-value grid.
SMALL = [
    "features.include=[sex, age, ticket]",
    "model.n_estimators=3",
    "model.max_depth=3",
    "split.cv_folds=2",
    "split.test_size=0.25",
    "evaluation.permutation_repeats=2",
    "evaluation.child_age=30",
    "selection.n_estimators=2",
    "selection.grid={max_depth: [2, 3]}",
    "random_state=7",
]


@pytest.fixture(scope="module")
def small():
    settings = load_settings(REPO_ROOT / "params.yaml", overrides=SMALL)
    dataset = load_dataset(settings.data)
    dataset = replace(dataset, train=dataset.train.head(100))
    return settings, dataset


@pytest.fixture(scope="module")
def analysis(small):
    return run_analysis(*small)


def ticket_rows(model: Pipeline) -> int:
    """How many rows the fitted pipeline learned from (its ticket counts add up to them)."""
    return sum(model["features"].named_transformers_["ticket"].ticket_counts_.values())


def check_the_split_is_the_seeded_stratified_holdout(small, analysis):
    settings, dataset = small
    features, target = split_features_target(dataset.train)
    _, x_validation = train_test_split(features, test_size=0.25, random_state=7, stratify=target)
    assert analysis.split.x_validation.index.equals(x_validation.index)
    assert analysis.split.y_train.index.equals(analysis.split.x_train.index)
    assert ticket_rows(analysis.model) == 75  # fitted on the training part only
    assert analysis.model["classifier"].random_state == 7
    assert analysis.model["classifier"].n_estimators == 3
    assert analysis.selection == settings.selection


def check_the_validation_metrics_are_those_of_the_fitted_model(analysis):
    split, model = analysis.split, analysis.model
    predicted = model.predict(split.x_validation)
    probability = model.predict_proba(split.x_validation)[:, 1]
    assert analysis.metrics["accuracy"] == accuracy_score(split.y_validation, predicted)
    assert analysis.metrics["roc_auc"] == roc_auc_score(split.y_validation, probability)
    assert analysis.confusion_matrix.to_numpy().sum() == 25
    assert analysis.roc_curve["true_positive_rate"].iloc[-1] == 1.0


def check_cross_validation_and_baselines_share_the_seeded_folds(small, analysis):
    settings, dataset = small
    split = analysis.split
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=7)
    assert analysis.cv_scores.index.tolist() == [1, 2]
    model = build_model(settings.features, settings.model, 7)
    expected_cv = cross_val_score(model, split.x_train, split.y_train, cv=folds)
    assert analysis.cv_scores["accuracy"].tolist() == expected_cv.tolist()
    expected = cross_val_score(
        DummyClassifier(strategy="most_frequent"), split.x_train, split.y_train, cv=folds
    )
    assert analysis.baselines.folds["majority class"].tolist() == expected.tolist()
    # Folds whose rows matter (the majority class scores alike on any stratified folds), and
    # the seed model's forest seeded.
    for name, baseline in (("women and children first", RuleClassifier("women_and_children", 30)),
                           ("seed model", seed_model(7))):  # fmt: skip
        expected = cross_val_score(baseline, split.x_train, split.y_train, cv=folds)
        assert analysis.baselines.folds[name].tolist() == expected.tolist(), name
    # Women and children (under 30 here) first, on the held-out rows.
    rows = dataset.train.loc[split.x_validation.index]
    saved = (rows["Sex"].eq("female") | rows["Age"].lt(30)).astype(int)
    rule = accuracy_score(split.y_validation, saved)
    assert analysis.baselines.validation["women and children first"] == rule


def check_the_permutation_importance_of_every_raw_column_is_seeded(analysis):
    split = analysis.split
    columns = ["Sex", "Age", "Ticket"]
    assert set(analysis.importance["feature"]) == set(columns)
    expected = permutation_importance(
        analysis.model, split.x_validation[columns], split.y_validation, n_repeats=2,
        random_state=7, scoring="accuracy",
    )  # fmt: skip
    by_column = dict(zip(columns, expected.importances_mean, strict=True))
    got = dict(
        zip(analysis.importance["feature"], analysis.importance["importance_mean"], strict=True)
    )
    assert got == by_column  # the same floats: only the work differs from scikit-learn's


def check_the_nested_estimate_searches_the_grid_on_the_outer_folds(analysis):
    assert analysis.nested is not None
    assert analysis.nested.scores.index.tolist() == [1, 2]
    assert all(choice["classifier__max_depth"] in (2, 3) for choice in analysis.nested.chosen)


def test_a_small_run_is_wired_from_the_seeded_stages(small, caplog):
    """One run_analysis, in the test's body, each stage checked against its own computation.

    In the body rather than in the module's fixture: mutmut (``make mutation``) runs, for a
    mutant, the tests that called the mutated function while they ran, not in a fixture.
    """
    with caplog.at_level(logging.INFO, logger="titanic.progress"):
        analysis = run_analysis(*small)
    assert "step 1/5: cross-validation, 2 forests of 3 trees on 75 rows" in caplog.messages
    check_the_split_is_the_seeded_stratified_holdout(small, analysis)
    check_the_validation_metrics_are_those_of_the_fitted_model(analysis)
    check_cross_validation_and_baselines_share_the_seeded_folds(small, analysis)
    check_the_permutation_importance_of_every_raw_column_is_seeded(analysis)
    check_the_nested_estimate_searches_the_grid_on_the_outer_folds(analysis)


def test_nested_estimate_uses_the_selection_forests(small, caplog, monkeypatch):
    settings, dataset = small
    features, target = split_features_target(dataset.train)
    split = Split(features, features.iloc[:0], target, target.iloc[:0])
    calls = []
    monkeypatch.setattr(
        analysis_module,
        "nested_cross_validation",
        lambda *a, **named: calls.append((*a, named)),
    )
    with caplog.at_level(logging.INFO, logger="titanic.analysis"):
        nested_estimate(settings, split)
    assert caplog.messages == [
        "nested cross-validation: 2 outer x 2 inner folds over {'max_depth': [2, 3]}"
    ]
    model, grid, rows, labels, outer, inner, seed, named = calls[0]
    assert named == {"fold_models": None}  # its outer folds one at a time
    assert model["classifier"].n_estimators == 2  # selection.n_estimators, not model's 3
    assert model["classifier"].random_state == 7
    assert model["classifier"].max_depth == 3
    assert grid == {"classifier__max_depth": [2, 3]}
    assert rows is features and labels is target
    assert (outer, inner, seed) == (2, 2, 7)


def test_selection_off_skips_the_nested_estimate(small, passengers):
    settings, dataset = small
    off = settings.model_copy(
        update={"selection": settings.selection.model_copy(update={"enabled": False})}
    )
    assert run_analysis(off, replace(dataset, train=passengers)).nested is None


def test_fit_on_all_rows_learns_from_every_labelled_row(small):
    settings, dataset = small
    model = fit_on_all_rows(settings, dataset)
    assert ticket_rows(model) == 100
    assert model["classifier"].random_state == 7


def test_up_to_the_refit_budget_the_test_passengers_get_a_refit_on_every_labelled_row(
    small, analysis, monkeypatch
):
    monkeypatch.setattr(scale, "REFIT_ROWS", 100)  # the 100 labelled rows: still a refit
    predictor = model_for_predictions(*small, analysis)
    assert (predictor.refitted, predictor.fitted_rows, predictor.labelled_rows) == (True, 100, 100)
    assert predictor.pipeline is not analysis.model
    assert ticket_rows(predictor.pipeline) == 100
    assert predictor.reason() == (
        "The pipeline was refitted on every labelled passenger (100 rows) to predict them."
    )


def test_beyond_the_refit_budget_the_evaluated_model_predicts_and_the_run_says_so(
    small, analysis, monkeypatch, caplog
):
    monkeypatch.setattr(scale, "REFIT_ROWS", 99)
    with caplog.at_level(logging.WARNING, logger="titanic.analysis"):
        predictor = model_for_predictions(*small, analysis)
    assert predictor.pipeline is analysis.model
    assert (predictor.refitted, predictor.fitted_rows, predictor.labelled_rows) == (False, 75, 100)
    assert caplog.messages == [
        "100 labelled rows: the test passengers are predicted by the evaluated model, not a refit"
    ]


def test_the_reason_names_the_rows_the_predicting_model_was_fitted_on():
    predictor = PredictionModel(
        Pipeline([("classifier", DummyClassifier())]), 586_400, 733_000, refitted=False
    )
    assert predictor.reason() == (
        "The data hold 733,000 labelled rows, more than the 100,000 up to which the report"
        " refits the pipeline on every one of them, so the model evaluated above, fitted on the"
        " 586,400 training rows, predicted them; `titanic predict` always refits on every"
        " labelled row."
    )


def test_the_metrics_document_gathers_metrics_parameters_data_and_provenance(
    small, analysis, tmp_path
):
    settings, dataset = small
    document = metrics_document(settings, dataset, analysis, tmp_path)
    assert list(document) == ["metrics", "parameters", "data", "provenance"]
    assert document["metrics"]["rows"] == {"train": 75, "validation": 25}
    assert document["parameters"]["random_state"] == 7
    assert document["data"]["source"] == "embedded:titanic/data"
    assert set(document["provenance"]) == {"git", "versions", "timestamp"}
    assert document["provenance"]["git"] == {"commit": None, "dirty": None}  # of tmp_path
    assert np.isfinite(document["metrics"]["gain_over_best_rule"]["mean"])


@pytest.fixture
def diagnostics_counted(monkeypatch):
    """Count the computations of the baselines and of the nested search."""
    counts = {"baseline_accuracies": 0, "nested_estimate": 0}
    for name in counts:
        real = getattr(analysis_module, name)

        def counted(*args, _name=name, _real=real, **kwargs):
            counts[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(analysis_module, name, counted)
    return counts


def test_a_model_change_reuses_the_cached_baselines_and_nested_search(
    small, tmp_path, diagnostics_counted
):
    settings, dataset = small
    cache = ContentCache(tmp_path)
    first = run_analysis(settings, dataset, cache)
    # The number of trees, the cores and the grid's own key (max_depth) reach neither.
    other = settings.model_copy(
        update={"model": settings.model.model_copy(update={"n_estimators": 4, "max_depth": 2})}
    )
    second = run_analysis(other, dataset, cache)
    assert diagnostics_counted == {"baseline_accuracies": 1, "nested_estimate": 1}
    assert second.summary()["baselines"] == first.summary()["baselines"]
    # Served from the cache, and what the other model computes without one.
    assert (
        second.summary()["nested_cross_validation"]
        == run_analysis(other, dataset).summary()["nested_cross_validation"]
    )


@pytest.mark.parametrize(
    "change",
    [
        {"random_state": 8},
        {"split": {"cv_folds": 3}},
        {"evaluation": {"child_age": 10}},
        {"features": {"include": ["sex", "age"]}},
        {"selection": {"inner_folds": 3}},
        {"model": {"min_samples_split": 6}},
        "rows",
    ],
    ids=str,
)
def test_what_the_diagnostics_read_is_in_their_key(small, tmp_path, diagnostics_counted, change):
    settings, dataset = small
    cache = ContentCache(tmp_path)
    run_analysis(settings, dataset, cache)
    if change == "rows":  # the same file, its rows edited in memory: no provenance sees it
        train = dataset.train.copy()
        train.loc[train.index[0], "Age"] = 80.0
        dataset = replace(dataset, train=train)
    else:
        for section, value in change.items():
            update = (
                getattr(settings, section).model_copy(update=value)
                if isinstance(value, dict)
                else value
            )
            settings = settings.model_copy(update={section: update})
    run_analysis(settings, dataset, cache)
    assert diagnostics_counted == {"baseline_accuracies": 2, "nested_estimate": 2}
