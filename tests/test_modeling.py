import json
import logging
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.ensemble import _forest as sklearn_forest  # where the forest's Parallel is looked up
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeClassifier

from titanic.analysis import fit_on_all_rows, run_analysis
from titanic.config import SplitSettings, load_settings
from titanic.dataset import load_dataset
from titanic.errors import DataError
from titanic.metrics import parse_document
from titanic.modeling import forest as forest_module
from titanic.modeling.evaluate import (
    CV_SCORERS,
    classification_metrics,
    confusion,
    summarise_cross_validation,
)
from titanic.modeling.forest import RandomForest
from titanic.modeling.predict import predict_survival, submission_frame
from titanic.modeling.train import (
    build_model,
    check_enough_rows,
    fit_model,
    rows_needed_per_class,
    split_train_validation,
)
from titanic.schema.columns import split_features_target

from .conftest import REPO_ROOT, top_level_modules_after

TINY = [
    "model.n_estimators=15",
    "split.cv_folds=3",
    "evaluation.permutation_repeats=2",
    "selection.n_estimators=5",
]


@pytest.fixture(scope="module")
def settings():
    return load_settings(REPO_ROOT / "params.yaml", overrides=TINY)


@pytest.fixture(scope="module")
def dataset(settings):
    return load_dataset(settings.data)


@pytest.fixture(scope="module")
def analysis(settings, dataset):
    return run_analysis(settings, dataset)


def test_split_is_stratified_and_seeded(settings, dataset):
    first = split_train_validation(dataset.train, settings.split, 7)
    again = split_train_validation(dataset.train, settings.split, 7)
    other = split_train_validation(dataset.train, settings.split, 8)
    assert first.x_validation.index.equals(again.x_validation.index)
    assert not first.x_validation.index.equals(other.x_validation.index)
    assert len(first.x_validation) == math.ceil(len(dataset.train) * settings.split.test_size)
    overall = dataset.train["Survived"].mean()
    assert abs(first.y_validation.mean() - overall) < 0.01
    assert abs(first.y_train.mean() - overall) < 0.01
    assert "Survived" not in first.x_train.columns


def test_same_seed_same_predictions_other_seed_other_forest(settings, dataset):
    features, target = split_features_target(dataset.train)
    probabilities = [
        build_model(settings.features, settings.model, seed)
        .fit(features, target)
        .predict_proba(dataset.test)[:, 1]
        for seed in (1, 1, 2)
    ]
    np.testing.assert_array_equal(probabilities[0], probabilities[1])
    assert not np.array_equal(probabilities[0], probabilities[2])
    assert ((probabilities[0] >= 0) & (probabilities[0] <= 1)).all()


def test_forest_receives_the_configured_hyper_parameters(settings):
    forest = build_model(settings.features, settings.model, 123)[-1]
    assert forest.n_estimators == 15
    assert forest.max_depth == settings.model.max_depth
    assert forest.random_state == 123


def test_analysis_metrics_are_consistent(analysis):
    metrics = analysis.metrics
    assert set(metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    assert all(0 <= value <= 1 for value in metrics.values())
    matrix = analysis.confusion_matrix.to_numpy()
    assert matrix.sum() == len(analysis.split.x_validation)
    assert metrics["accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())
    true_positive, false_positive = matrix[1, 1], matrix[0, 1]
    assert metrics["precision"] == pytest.approx(true_positive / (true_positive + false_positive))
    # a forest on these features beats always predicting "died" by a clear margin
    assert metrics["accuracy"] > 1 - analysis.split.y_validation.mean() + 0.05


def test_cross_validation_has_one_row_per_fold(analysis):
    assert analysis.cv_scores.shape == (3, len(CV_SCORERS))
    summary = summarise_cross_validation(analysis.cv_scores)
    assert summary["accuracy"]["mean"] == pytest.approx(analysis.cv_scores["accuracy"].mean())
    assert summary["accuracy"]["std"] > 0


def test_permutation_importance_covers_every_raw_column(analysis):
    importance = analysis.importance
    assert set(importance["feature"]) == {
        "Name", "Sex", "Pclass", "Age", "Fare", "SibSp", "Parch", "Embarked", "Cabin", "Ticket"
    }  # fmt: skip
    assert importance["importance_mean"].is_monotonic_decreasing
    assert importance.iloc[0]["feature"] in {"Sex", "Name"}  # sex and title carry the signal


def test_roc_curve_spans_zero_to_one(analysis):
    roc = analysis.roc_curve
    assert roc["false_positive_rate"].iloc[0] == 0 and roc["true_positive_rate"].iloc[-1] == 1
    assert roc["false_positive_rate"].is_monotonic_increasing


def test_metric_helpers_on_known_values():
    truth = np.array([1, 1, 0, 0])
    metrics = classification_metrics(truth, np.array([1, 0, 0, 0]), np.array([0.9, 0.4, 0.3, 0.1]))
    assert metrics == {
        "accuracy": 0.75,
        "precision": 1.0,
        "recall": 0.5,
        "f1": 2 / 3,
        "roc_auc": 1.0,
    }
    assert confusion(truth, np.array([1, 0, 0, 0])).to_numpy().tolist() == [[2, 0], [1, 1]]


def test_submission_has_every_test_passenger(settings, dataset):
    predictions = predict_survival(fit_on_all_rows(settings, dataset), dataset.test)
    submission = submission_frame(predictions)
    assert list(submission.columns) == ["PassengerId", "Survived"]
    assert submission["PassengerId"].tolist() == dataset.test["PassengerId"].tolist()
    assert set(submission["Survived"]) <= {0, 1}


def test_the_written_summary_follows_the_metrics_contract(analysis):
    summary = parse_document(
        json.dumps({"metrics": analysis.summary(), "parameters": {}, "data": {}, "provenance": {}})
    )["metrics"]
    assert summary["validation"] == analysis.metrics
    assert summary["rows"] == {
        "train": len(analysis.split.x_train),
        "validation": len(analysis.split.x_validation),
    }


def test_the_evaluated_model_is_fitted_on_the_training_split_only(settings, analysis):
    split = analysis.split
    pipeline = build_model(settings.features, settings.model, settings.random_state)
    on_train_rows = fit_model(pipeline, split.x_train, split.y_train)
    np.testing.assert_array_equal(
        analysis.model.predict_proba(split.x_validation),
        on_train_rows.predict_proba(split.x_validation),
    )


def test_roc_auc_is_computed_from_the_probability_of_survival():
    # Perfectly separable: x < 5 died, x > 5 survived.
    rows = pd.DataFrame({"PassengerId": range(1, 9), "x": [0, 1, 2, 3, 10, 11, 12, 13]})
    survived = pd.Series([0, 0, 0, 0, 1, 1, 1, 1])
    model = make_pipeline(
        ColumnTransformer([("x", "passthrough", ["x"])]), LogisticRegression()
    ).fit(rows, survived)
    predictions = predict_survival(model, rows)
    assert (predictions["probability"][survived == 1] > 0.5).all()
    metrics = classification_metrics(
        survived, predictions["Survived"].to_numpy(), predictions["probability"].to_numpy()
    )
    assert metrics["roc_auc"] == 1.0
    assert metrics["accuracy"] == 1.0


def test_a_stratified_split_keeps_the_class_proportions_exactly(passengers):
    survivors = int(passengers["Survived"].sum())
    split = SplitSettings(test_size=0.5, stratify=True, cv_folds=2)
    for seed in range(20):
        held_out = split_train_validation(passengers, split, seed).y_validation
        assert abs(held_out.sum() - survivors / 2) <= 0.5, seed


# --- a table too small for the split and the folds is refused with the numbers ---------------


def small_dataset(dataset, survivors: int, victims: int):
    train = dataset.train
    rows = pd.concat(
        [
            train[train["Survived"] == 1].head(survivors),
            train[train["Survived"] == 0].head(victims),
        ]
    )
    return replace(dataset, train=rows.reset_index(drop=True))


def test_a_one_row_table_is_refused_with_the_numbers(settings, dataset):
    tiny = small_dataset(dataset, survivors=1, victims=0)
    expected = (
        "embedded:titanic/data/train.csv: 1 labelled row is too few for split.test_size = 0.2"
        " and split.cv_folds = 3: each class of Survived needs at least 4 rows (3 in the"
        " training part for the folds, 1 held out); class 0 has 0, class 1 has 1"
    )
    with pytest.raises(DataError) as caught:
        run_analysis(settings, tiny)
    assert str(caught.value) == expected
    with pytest.raises(DataError) as caught:
        fit_on_all_rows(settings, tiny)
    assert str(caught.value) == expected


def test_one_class_short_of_the_folds_is_refused_and_enough_rows_pass(settings, dataset):
    with pytest.raises(DataError, match="needs at least 4 rows .*, class 1 has 3$"):
        run_analysis(settings, small_dataset(dataset, survivors=3, victims=40))
    assert run_analysis(settings, small_dataset(dataset, survivors=4, victims=40)).model


def test_importing_prediction_loads_no_storage_client():
    loaded = top_level_modules_after("import titanic.modeling.predict, titanic.modeling.train")
    assert not loaded & {"botocore", "aiohttp", "s3fs", "fsspec"}


@pytest.mark.parametrize(
    ("cv_folds", "test_size", "needed"),
    [(3, 0.2, 4), (5, 0.2, 7), (2, 0.5, 4), (10, 0.1, 12)],  # floor(needed * (1 - size)) >= folds
)
def test_rows_needed_per_class_leave_the_folds_in_training(cv_folds, test_size, needed):
    split = SplitSettings(test_size=test_size, stratify=True, cv_folds=cv_folds)
    assert rows_needed_per_class(split) == needed


def test_exactly_enough_rows_pass_and_one_fewer_is_refused_with_the_counts():
    split = SplitSettings(test_size=0.2, stratify=True, cv_folds=3)
    check_enough_rows(pd.Series([0] * 4 + [1] * 4), split, "train.csv")
    with pytest.raises(DataError) as caught:
        check_enough_rows(pd.Series([1, 1, 0, 1, 0, 1, 1]), split, "train.csv")
    assert str(caught.value) == (
        "train.csv: 7 labelled rows are too few for split.test_size = 0.2 and split.cv_folds = 3:"
        " each class of Survived needs at least 4 rows (3 in the training part for the folds,"
        " 1 held out); class 0 has 2, class 1 has 5"
    )
    assert caught.value.column == "Survived"


def test_the_model_is_the_feature_step_then_the_seeded_forest(settings):
    model = build_model(settings.features, settings.model, 11)
    assert [name for name, _ in model.steps] == ["features", "classifier"]
    forest = model["classifier"]
    assert forest.random_state == 11
    assert forest.get_params()["n_estimators"] == settings.model.n_estimators
    assert forest.get_params()["min_samples_split"] == settings.model.min_samples_split


def test_an_unstratified_split_is_seeded(passengers):
    split = SplitSettings(test_size=0.25, stratify=False, cv_folds=2)
    features = passengers.drop(columns="Survived")
    _, expected = train_test_split(features, test_size=0.25, random_state=4)
    held_out = split_train_validation(passengers, split, 4)
    assert held_out.x_validation.index.equals(expected.index)
    assert held_out.y_validation.index.equals(expected.index)
    assert "Survived" not in held_out.x_train.columns


def test_predictions_keep_the_ids_and_the_submission_is_renumbered():
    rows = pd.DataFrame({"PassengerId": [7, 8, 9], "x": [0.0, 5.0, 10.0]}, index=[30, 20, 10])
    model = make_pipeline(
        ColumnTransformer([("x", "passthrough", ["x"])]), LogisticRegression()
    ).fit(rows, [0, 1, 1])
    predictions = predict_survival(model, rows)
    assert list(predictions.columns) == ["PassengerId", "Survived", "probability"]
    assert predictions["PassengerId"].tolist() == [7, 8, 9]
    assert predictions["Survived"].dtype == int
    assert predictions["probability"].tolist() == model.predict_proba(rows)[:, 1].tolist()
    submission = submission_frame(predictions.set_axis([5, 6, 7]))
    assert submission.index.tolist() == [0, 1, 2]
    assert list(submission.columns) == ["PassengerId", "Survived"]


def test_the_forest_predicts_on_one_thread_and_keeps_its_own_n_jobs():
    rows = np.arange(40.0).reshape(20, 2)
    forest = RandomForest(n_estimators=4, n_jobs=2, random_state=0).fit(rows, [0, 1] * 10)
    reference = RandomForestClassifier(n_estimators=4, n_jobs=1, random_state=0)
    reference.fit(rows, [0, 1] * 10)
    np.testing.assert_array_equal(forest.predict_proba(rows), reference.predict_proba(rows))
    assert forest.n_jobs == 2


@pytest.mark.parametrize(
    "parameters",
    [{"max_depth": 3}, {"class_weight": "balanced", "max_features": 0.5, "min_samples_leaf": 2}],
)
def test_the_forest_grows_scikit_learns_trees_and_its_first_trees_are_a_smaller_forest(
    parameters,
):
    rows = np.random.default_rng(0).normal(size=(120, 4))
    labels = (rows[:, 0] + rows[:, 1] > 0).astype(int)
    forest = RandomForest(n_estimators=12, random_state=5, **parameters).fit(rows, labels)
    reference = RandomForestClassifier(n_estimators=12, random_state=5, **parameters)
    reference.fit(rows, labels)
    assert [tree.get_params() for tree in forest.estimators_] == [
        tree.get_params() for tree in reference.estimators_
    ]
    np.testing.assert_array_equal(forest.predict_proba(rows), reference.predict_proba(rows))
    smaller = RandomForestClassifier(n_estimators=5, random_state=5, **parameters)
    smaller.fit(rows, labels)
    np.testing.assert_array_equal(
        forest.predict_proba_of_trees(rows, 5), smaller.predict_proba(rows)
    )


def test_a_long_fit_grows_the_same_trees_in_parts_and_says_how_far(monkeypatch, caplog):
    monkeypatch.setattr(forest_module, "LONG_FIT", 1_000)
    rows = np.random.default_rng(1).normal(size=(400, 3))
    labels = (rows[:, 0] > 0).astype(int)
    with caplog.at_level(logging.INFO, logger="titanic.progress"):
        forest = RandomForest(n_estimators=60, max_depth=3, random_state=2).fit(rows, labels)
    assert caplog.messages == [
        f"  {grown} of 60 trees grown on 400 rows" for grown in (25, 50, 60)
    ]
    assert (forest.n_estimators, forest.warm_start, len(forest.estimators_)) == (60, False, 60)
    reference = RandomForestClassifier(n_estimators=60, max_depth=3, random_state=2)
    reference.fit(rows, labels)
    np.testing.assert_array_equal(forest.predict_proba(rows), reference.predict_proba(rows))
    forest.fit(rows, labels)  # a second fit starts afresh
    assert len(forest.estimators_) == 60
    np.testing.assert_array_equal(forest.predict_proba(rows), reference.predict_proba(rows))


def weighted_rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """400 rows, their labels, and weights that ignore every third row and double every fifth."""
    rows = np.random.default_rng(3).normal(size=(400, 3))
    labels = (rows[:, 0] + 0.5 * rows[:, 1] > 0).astype(int)
    weights = np.ones(400)
    weights[::3] = 0.0
    weights[::5] = 2.0
    return rows, labels, weights


@pytest.mark.parametrize("long_fit", [1_000, 10**9], ids=["in parts", "at once"])
def test_the_forest_learns_with_the_sample_weights_in_parts_and_at_once(long_fit, monkeypatch):
    monkeypatch.setattr(forest_module, "LONG_FIT", long_fit)
    rows, labels, weights = weighted_rows()
    forest = RandomForest(n_estimators=30, max_depth=4, random_state=4)
    forest.fit(rows, labels, sample_weight=weights)
    reference = RandomForestClassifier(n_estimators=30, max_depth=4, random_state=4)
    reference.fit(rows, labels, sample_weight=weights)
    unweighted = RandomForestClassifier(n_estimators=30, max_depth=4, random_state=4)
    unweighted.fit(rows, labels)
    assert not np.array_equal(unweighted.predict_proba(rows), reference.predict_proba(rows))
    np.testing.assert_array_equal(forest.predict_proba(rows), reference.predict_proba(rows))


@pytest.mark.parametrize(("size", "in_parts"), [(0, True), (1, False)])
def test_a_fit_of_at_least_long_fit_rows_times_trees_is_grown_in_parts(
    size, in_parts, monkeypatch, caplog
):
    rows, labels, _ = weighted_rows()
    monkeypatch.setattr(forest_module, "LONG_FIT", 400 * 30 + size)
    with caplog.at_level(logging.INFO, logger="titanic.progress"):
        RandomForest(n_estimators=30, max_depth=2, random_state=1).fit(rows, labels)
    assert caplog.messages == (
        ["  25 of 30 trees grown on 400 rows", "  30 of 30 trees grown on 400 rows"]
        if in_parts
        else []
    )


def test_a_fit_in_parts_grows_each_tree_once(monkeypatch):
    monkeypatch.setattr(forest_module, "LONG_FIT", 1_000)
    made = []
    make = RandomForest._make_estimator

    def counted(forest, *args, **kwargs):
        made.append(1)
        return make(forest, *args, **kwargs)

    monkeypatch.setattr(RandomForest, "_make_estimator", counted)
    rows, labels, _ = weighted_rows()
    RandomForest(n_estimators=60, max_depth=2, random_state=1).fit(rows, labels)
    assert len(made) == 60


def test_a_fit_in_parts_that_fails_leaves_the_forests_parameters_as_they_were(monkeypatch):
    class FitInterruptedError(Exception):
        pass

    class FailingProgress:
        def info(self, *_):
            raise FitInterruptedError

    monkeypatch.setattr(forest_module, "LONG_FIT", 1_000)
    monkeypatch.setattr(forest_module, "progress", FailingProgress())
    rows, labels, _ = weighted_rows()
    forest = RandomForest(n_estimators=60, max_depth=2, random_state=1)
    with pytest.raises(FitInterruptedError):
        forest.fit(rows, labels)
    assert (len(forest.estimators_), forest.n_estimators, forest.warm_start) == (25, 60, False)


def test_the_forest_makes_its_trees_as_scikit_learn_does_appended_by_default():
    forest = RandomForest(n_estimators=3, max_depth=2, random_state=1)
    reference = RandomForestClassifier(n_estimators=3, max_depth=2, random_state=1)
    for model in (forest, reference):
        model._validate_estimator()  # what fit does first
        model.estimators_ = []
    ours, theirs = (
        forest._make_estimator(random_state=7),
        reference._make_estimator(random_state=7),
    )
    assert ours.get_params() == theirs.get_params()
    assert (forest.estimators_, reference.estimators_) == ([ours], [theirs])


def test_the_forest_checks_the_rows_once_not_once_per_tree(monkeypatch):
    rows, labels, _ = weighted_rows()
    forest = RandomForest(n_estimators=5, max_depth=2, random_state=1).fit(rows, labels)
    checks = []
    check = DecisionTreeClassifier._validate_X_predict

    def recorded(tree, X, check_input):  # noqa: N803
        checks.append(check_input)
        return check(tree, X, check_input)

    monkeypatch.setattr(DecisionTreeClassifier, "_validate_X_predict", recorded)
    forest.predict_proba(rows)
    assert checks == [False] * 5


@pytest.mark.parametrize(
    ("rows", "threads"), [(forest_module.THREADED_ROWS - 1, 1), (forest_module.THREADED_ROWS, 2)]
)
def test_the_forest_grows_its_trees_on_threads_only_from_threaded_rows(rows, threads, monkeypatch):
    seen = []
    real = sklearn_forest.Parallel

    def spy(*args, **kwargs):
        seen.append(kwargs["n_jobs"])
        return real(*args, **kwargs)

    monkeypatch.setattr(sklearn_forest, "Parallel", spy)
    features = np.arange(rows * 2.0).reshape(rows, 2)
    forest = RandomForest(n_estimators=2, max_depth=1, n_jobs=2, random_state=0)
    forest.fit(features, np.arange(rows) % 2)
    assert seen == [threads]
    assert forest.n_jobs == 2
