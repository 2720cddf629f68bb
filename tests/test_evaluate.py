"""The evaluation helpers on tiny inputs whose answers are known by hand."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

from titanic.modeling import evaluate
from titanic.modeling.evaluate import (
    CV_SCORERS,
    classification_metrics,
    confusion,
    cross_validate_model,
    permutation_importances,
    roc_points,
    summarise_cross_validation,
)


def test_roc_points_of_four_known_predictions():
    points = roc_points(pd.Series([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    assert list(points.columns) == ["false_positive_rate", "true_positive_rate", "threshold"]
    assert points["false_positive_rate"].tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert points["true_positive_rate"].tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert points["threshold"].tolist()[1:] == [0.8, 0.4, 0.35, 0.1]


def test_summary_is_the_mean_and_the_sample_standard_deviation():
    summary = summarise_cross_validation(pd.DataFrame({"accuracy": [0.5, 0.7, 0.9]}))
    assert summary == {"accuracy": {"mean": pytest.approx(0.7), "std": pytest.approx(0.2)}}


def noisy_rows(rows: int = 60) -> tuple[pd.DataFrame, pd.Series]:
    generator = np.random.default_rng(0)
    features = pd.DataFrame({"x": generator.normal(size=rows), "y": generator.normal(size=rows)})
    target = pd.Series((features["x"] + generator.normal(size=rows) > 0).astype(int))
    return features, target


def test_cross_validation_scores_shuffled_seeded_folds_on_a_clone():
    features, target = noisy_rows()
    pipeline = Pipeline([("model", KNeighborsClassifier(n_neighbors=3))])
    scores = cross_validate_model(pipeline, features, target, folds=4, random_state=1).scores
    assert list(scores.columns) == list(CV_SCORERS)
    assert scores.index.tolist() == [1, 2, 3, 4] and scores.index.name == "fold"
    assert scores.notna().all().all()
    with pytest.raises(NotFittedError):
        check_is_fitted(pipeline)
    again = cross_validate_model(pipeline, features, target, folds=4, random_state=1).scores
    pd.testing.assert_frame_equal(scores, again)
    other = cross_validate_model(pipeline, features, target, folds=4, random_state=2).scores
    assert not scores.equals(other)


def test_cross_validation_scores_are_those_of_scikit_learns_cross_validate():
    features, target = noisy_rows(90)
    pipeline = Pipeline([("model", DecisionTreeClassifier(max_depth=3, random_state=0))])
    result = cross_validate_model(pipeline, features, target, folds=5, random_state=4)
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=4)
    expected = cross_validate(pipeline, features, target, cv=splitter, scoring=CV_SCORERS)
    for name in CV_SCORERS:
        assert result.scores[name].tolist() == expected[f"test_{name}"].tolist(), name
    assert [len(model[0].tree_.value) > 1 for model in result.models] == [True] * 5


def test_permutation_importance_of_a_perfect_column_and_constant_ones():
    features = pd.DataFrame(
        {"c": [1.0] * 40, "b": [0.0] * 40, "a": np.arange(40.0), "unused": np.arange(40.0)}
    )
    target = pd.Series([0] * 20 + [1] * 20)
    model = Pipeline([("model", DecisionTreeClassifier(random_state=0))])
    model.fit(features[["c", "b", "a"]], target)
    table = permutation_importances(
        model, features, target, ["c", "b", "a"], repeats=1, random_state=0
    )
    assert list(table.columns) == ["feature", "importance_mean", "importance_std"]
    assert table["feature"].tolist() == ["a", "c", "b"]
    assert table.index.tolist() == [0, 1, 2]
    assert table["importance_mean"].tolist()[1:] == [0.0, 0.0]
    assert 0.2 < table.loc[0, "importance_mean"] <= 0.75
    assert table["importance_std"].tolist() == [0.0, 0.0, 0.0]


def named_confusion(counts: list[list[int]]) -> pd.DataFrame:
    """A confusion matrix as written by hand: actual classes down, predicted across."""
    return pd.DataFrame(
        counts,
        index=pd.Index(["died", "survived"], name="actual"),
        columns=pd.Index(["died", "survived"], name="predicted"),
    )


def test_the_confusion_matrix_names_its_rows_and_columns_and_keeps_both_classes():
    table = confusion(pd.Series([0, 0, 1, 1, 0]), np.array([0, 1, 1, 0, 0]))
    pd.testing.assert_frame_equal(table, named_confusion([[2, 1], [1, 1]]))
    only_deaths = confusion(pd.Series([0, 0, 0]), np.array([0, 0, 0]))
    pd.testing.assert_frame_equal(only_deaths, named_confusion([[3, 0], [0, 0]]))


def test_precision_recall_and_f1_are_zero_without_a_predicted_survivor_and_warn_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics = classification_metrics(
            pd.Series([0, 1, 0, 1]), np.array([0, 0, 0, 0]), np.array([0.1, 0.4, 0.2, 0.3])
        )
    assert metrics == {"accuracy": 0.5, "precision": 0.0, "recall": 0.0, "f1": 0.0, "roc_auc": 1.0}


def test_permutation_importance_is_seeded():
    rows = np.random.default_rng(0)
    features = pd.DataFrame({"a": rows.normal(size=60), "b": rows.normal(size=60)})
    target = pd.Series((features["a"] + 0.5 * features["b"] > 0).astype(int))
    model = Pipeline([("model", DecisionTreeClassifier(max_depth=3, random_state=0))])
    model.fit(features, target)

    def table(seed: int) -> pd.DataFrame:
        return permutation_importances(model, features, target, ["a", "b"], 5, seed)

    pd.testing.assert_frame_equal(table(1), table(1))
    assert not table(1).equals(table(2))


def feature_pipelines() -> dict[str, Pipeline]:
    """Unfitted pipelines of every shape permutation_importances handles."""
    tree = DecisionTreeClassifier(max_depth=4, random_state=0)
    groups = ColumnTransformer(
        [("x", StandardScaler(), ["x"]), ("y_z", SimpleImputer(), ["y", "z"])],
        verbose_feature_names_out=False,
    )
    return {
        "groups then classifier": make_pipeline(groups, clone(tree)),
        "three steps": make_pipeline(SimpleImputer(), StandardScaler(), clone(tree)),
        "one step then classifier": make_pipeline(StandardScaler(), clone(tree)),
        "classifier alone": make_pipeline(KNeighborsClassifier(n_neighbors=3)),
        "three steps, arrays out": make_pipeline(SimpleImputer(), StandardScaler(), clone(tree)),
    }


@pytest.mark.parametrize("shape", list(feature_pipelines()))
def test_permutation_importance_is_scikit_learns_for_every_pipeline_and_seed(shape):
    features, target = noisy_rows(80)
    features["z"] = features["x"].where(features.index % 5 > 0)  # missing values to impute
    if shape == "classifier alone":
        features = features.drop(columns="z")
    columns = list(features.columns)
    model = feature_pipelines()[shape]
    if not shape.endswith("arrays out"):
        model.set_output(transform="pandas")
    model.fit(features, target)
    for seed in range(4):  # the shuffles' seed is drawn from [0, 2**31): seeds 0 and 3 check it
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the classifier is given the names it was fitted on
            table = permutation_importances(model, features, target, columns, 3, seed)
        expected = permutation_importance(
            model, features, target, n_repeats=3, random_state=seed, scoring="accuracy"
        )
        got = table.set_index("feature").loc[columns]
        assert got["importance_mean"].tolist() == expected.importances_mean.tolist(), seed
        assert got["importance_std"].tolist() == expected.importances_std.tolist(), seed


@pytest.mark.parametrize(
    ("batch_rows", "predicted_rows"),
    [(30, [60] * 5), (150, [120, 120, 60])],
    ids=["one copy a batch", "two copies a batch"],
)
def test_permutation_importance_predicts_its_copies_in_batches_of_at_most_batch_rows(
    batch_rows, predicted_rows, monkeypatch
):
    features, target = noisy_rows(60)
    model = make_pipeline(DecisionTreeClassifier(max_depth=3, random_state=0))
    model.fit(features, target)
    expected = permutation_importances(model, features, target, ["x", "y"], 5, 1)
    sizes = []
    predict = DecisionTreeClassifier.predict

    def recorded(tree, X, *args, **kwargs):  # noqa: N803
        sizes.append(len(X))
        return predict(tree, X, *args, **kwargs)

    monkeypatch.setattr(DecisionTreeClassifier, "predict", recorded)
    monkeypatch.setattr(evaluate, "BATCH_ROWS", batch_rows)
    table = permutation_importances(model, features, target, ["x", "y"], 5, 1)
    assert sizes == [60, *predicted_rows, *predicted_rows]  # the unshuffled rows, then x, y
    pd.testing.assert_frame_equal(table, expected)


def test_permutation_importance_transforms_again_only_the_group_that_reads_the_column():
    transformed = []

    def group(name: str) -> FunctionTransformer:
        def transform(frame: pd.DataFrame) -> pd.DataFrame:
            transformed.append(name)
            return frame

        return FunctionTransformer(transform)

    features, target = noisy_rows(60)
    groups = ColumnTransformer([("x", group("x"), ["x"]), ("y", group("y"), ["y"])])
    model = make_pipeline(groups, DecisionTreeClassifier(max_depth=3, random_state=0))
    model.fit(features, target)
    transformed.clear()
    permutation_importances(model, features, target, ["x", "y"], 3, 0)
    assert transformed == ["x", "y", "x", "y"]  # all rows once, then each column's shuffles
