"""Baselines, the group-survival feature, nested cross-validation, the feature-group registry."""

import re
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from tests.conftest import REPO_ROOT
from titanic.config import FEATURE_REGISTRY, load_settings
from titanic.errors import ConfigError
from titanic.features import GroupSurvival, feature_branches
from titanic.modeling.baselines import RuleClassifier, baseline_accuracies, baseline_models
from titanic.modeling.evaluate import cross_validate_model
from titanic.modeling.forest import RandomForest
from titanic.modeling.selection import (
    NestedResult,
    _first_trees_of,
    grid_for_pipeline,
    nested_cross_validation,
)
from titanic.modeling.train import Split, build_model
from titanic.schema.columns import split_features_target

GROUP_COLUMNS = ["Name", "Ticket", "Fare"]


def _accuracy(model, frame: pd.DataFrame) -> float:
    features, target = split_features_target(frame)
    fitted = model.fit(features, target)
    return float((fitted.predict(features) == target.to_numpy()).mean())


def test_rules_on_the_fixture_match_a_hand_count(passengers):
    # The fixture's 11 women all survived and its 9 men all died; the only male child is
    # Master Gosta Palsson, aged 2, who died.
    models = baseline_models(child_age=13, random_state=0)
    assert _accuracy(models["majority class"], passengers) == 11 / 20  # everyone survives
    assert _accuracy(models["gender rule"], passengers) == 20 / 20
    assert _accuracy(models["women and children first"], passengers) == 19 / 20
    # A child must be younger than child_age: at 2 years, Gosta is not a child under 2.
    assert _accuracy(RuleClassifier("women_and_children", child_age=2), passengers) == 1.0
    # An unknown age counts as an adult: Moran and Saundercock (Age missing) still die.
    features, _ = split_features_target(passengers)
    predicted = RuleClassifier("women_and_children", child_age=99).fit(features).predict(features)
    assert predicted[passengers["Age"].isna().to_numpy()].tolist() == [0, 0]


def test_baselines_are_scored_on_the_models_split_and_folds(passengers):
    features, target = split_features_target(passengers)
    validation_rows = [1, 4, 9, 10]  # three women who survived, a man who died
    train = features.index.difference(validation_rows)
    split = Split(
        features.loc[train], features.loc[validation_rows], target.loc[train],
        target.loc[validation_rows],
    )  # fmt: skip
    models = {"wc": RuleClassifier("women_and_children", child_age=13)}
    scores = baseline_accuracies(models, split, folds=2, random_state=3)
    assert scores.validation["wc"] == 4 / 4
    # In training, the rule errs only on the boy Gosta (row 7): in whichever fold holds him.
    splitter = StratifiedKFold(n_splits=2, shuffle=True, random_state=3)
    boy = split.x_train.index.get_loc(7)
    expected = [
        1 - (boy in test_index) / len(test_index)
        for _, test_index in splitter.split(split.x_train, split.y_train)
    ]
    assert scores.folds["wc"].tolist() == expected
    assert sorted(expected) == [1 - 1 / 8, 1.0]


def _group_frame() -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.DataFrame(
        {
            "Name": ["Aubart, Mme. L", "Sagesser, Mlle. E", "Ward, Miss. A", "Kink, Mr. V",
                     "Kink, Mrs. A", "Lone, Mr. X"],
            "Ticket": ["PC 17477", "PC 17477", "PC 17477", "315151", "315152", "999"],
            "Fare": [69.3, 69.3, 69.3, 22.0, 22.0, 7.0],
        }
    )  # fmt: skip
    return frame, pd.Series([1, 1, 0, 0, 1, 1])


def test_group_survival_never_sees_the_label_of_its_own_row():
    frame, labels = _group_frame()
    encoded = GroupSurvival().fit_transform(frame, labels)
    # The other two on ticket PC 17477; the other Kink of the same fare (tickets differ).
    assert encoded[:, 0].tolist() == [0.5, 0.5, 1.0, 1.0, 0.0, 0.5]
    assert encoded[:, 1].tolist() == [1, 1, 1, 1, 1, 0]
    for row in range(len(frame)):
        flipped = labels.copy()
        flipped.iloc[row] = 1 - flipped.iloc[row]
        again = GroupSurvival().fit_transform(frame, flipped)
        assert again[row, 0] == encoded[row, 0], f"row {row} sees its own label"


def test_group_survival_of_new_rows_uses_every_training_label_of_the_group():
    frame, labels = _group_frame()
    fitted = GroupSurvival().fit(frame, labels)
    new = pd.DataFrame(
        {"Name": ["New, Mr. A", "Kink, Miss. L", "Nobody, Mr. N"],
         "Ticket": ["PC 17477", "000", "1"], "Fare": [10.0, 22.0, 5.0]}
    )  # fmt: skip
    assert fitted.transform(new).tolist() == [[2 / 3, 1.0], [0.5, 1.0], [0.5, 0.0]]


class Spy(ClassifierMixin, BaseEstimator):
    """Predicts the majority label it was fitted on; records the rows of every fit."""

    fitted_rows: ClassVar[list[set]] = []

    def __init__(self, depth: int = 1):
        self.depth = depth

    def fit(self, X, y):  # noqa: N803
        Spy.fitted_rows.append(set(X.index))
        self.classes_ = np.array([0, 1])
        self.label_ = int(pd.Series(y).mode().iloc[0])
        return self

    def predict(self, X):  # noqa: N803
        return np.full(len(X), self.label_)


def test_nested_search_never_fits_on_the_outer_test_fold(passengers):
    features, target = split_features_target(passengers)
    Spy.fitted_rows = []
    result = nested_cross_validation(
        Spy(), {"depth": [1, 2]}, features, target, outer_folds=4, inner_folds=2, random_state=5
    )
    per_outer = 2 * 2 + 1  # grid x inner folds, then the refit on the outer training part
    assert len(Spy.fitted_rows) == 4 * per_outer
    outer = StratifiedKFold(n_splits=4, shuffle=True, random_state=5)
    inner = StratifiedKFold(n_splits=2, shuffle=True, random_state=5)  # seeded as well
    for fold, (train_index, test_index) in enumerate(outer.split(features, target)):
        outer_test = set(features.index[test_index])
        fits = Spy.fitted_rows[fold * per_outer : (fold + 1) * per_outer]
        for rows in fits:
            assert not rows & outer_test
        part = features.index[train_index]
        expected = {
            frozenset(part[inner_train])
            for inner_train, _ in inner.split(part, target.iloc[train_index])
        }
        assert {frozenset(rows) for rows in fits[:2]} == expected
    assert len(result.scores) == 4


def test_nested_search_chooses_with_the_inner_folds(passengers):
    features, target = split_features_target(passengers)
    grid = {"rule": ["women_and_children", "gender"]}  # on a tie, the first wins
    result = nested_cross_validation(
        RuleClassifier(child_age=13), grid, features, target, 4, 2, random_state=0
    )
    # Only the boy Gosta (row 7) tells the rules apart: where he is in the outer training part,
    # the inner folds see him and choose the gender rule; where he is in the outer test fold,
    # the inner folds cannot tell, the first rule wins, and the outer fold scores its mistake.
    outer = StratifiedKFold(n_splits=4, shuffle=True, random_state=0)
    expected_chosen, expected_scores = [], []
    for _, test_index in outer.split(features, target):
        boy_held_out = 7 in features.index[test_index]
        expected_chosen.append({"rule": "women_and_children" if boy_held_out else "gender"})
        expected_scores.append(1 - boy_held_out / len(test_index))
    assert result.chosen == expected_chosen
    assert result.scores.tolist() == expected_scores
    assert min(expected_scores) < 1  # the case where a leak would have been seen happened


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("selection.grid={n_estimators: [5]}", "n_estimators: not searchable"),
        ("selection.grid={max_depth: [0, 4]}", "max_depth: 0"),
        ("selection.inner_folds=1", "selection.inner_folds"),
    ],
)
def test_bad_selection_settings_are_refused(override, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(REPO_ROOT / "params.yaml", overrides=[override])


def test_the_documented_feature_table_is_the_registry():
    readme = (REPO_ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| (.+) \|$", readme, flags=re.MULTILINE)
    assert [(name, source.strip(), text.strip()) for name, source, text in rows] == [
        (group.name, ", ".join(group.columns), group.features) for group in FEATURE_REGISTRY
    ]


def test_pipeline_reads_the_registry_columns():
    settings = load_settings(REPO_ROOT / "params.yaml")
    branches = feature_branches(settings.features)
    assert list(branches) == [group.name for group in FEATURE_REGISTRY]
    assert all(branches[g.name][1] == list(g.columns) for g in FEATURE_REGISTRY)


def test_a_rule_checks_its_name_and_knows_both_classes_without_labels(passengers):
    features, _ = split_features_target(passengers)
    with pytest.raises(ValueError) as caught:
        RuleClassifier("lifeboats").fit(features)
    assert str(caught.value) == "rule must be one of gender, women_and_children, got 'lifeboats'"
    assert RuleClassifier().fit(features).classes_.tolist() == [0, 1]
    assert RuleClassifier().fit(features, [1, 1, 0]).classes_.tolist() == [0, 1]
    assert RuleClassifier().fit(features, [1, 1]).classes_.tolist() == [1]
    default = RuleClassifier()
    assert (default.rule, default.child_age) == ("gender", 13)
    rows = pd.DataFrame({"Sex": ["male", "female", "male"], "Age": [12.9, 40.0, 13.0]})
    fitted = RuleClassifier("women_and_children").fit(rows)
    assert fitted.predict(rows).tolist() == [1, 1, 0]
    assert fitted.predict_proba(rows).tolist() == [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]


def test_the_seed_model_keeps_every_title_and_ignores_unseen_categories(passengers):
    features, target = split_features_target(passengers)
    model = baseline_models(child_age=10, random_state=3)["seed model"].fit(features, target)
    assert model["classifier"].n_estimators == 20
    assert model["classifier"].random_state == 3
    # Titles Master, Miss, Mr, Mrs, Rev, the Countess; female, male; C, Q, S; three numbers.
    assert model["features"].transform(features).shape == (20, 6 + 2 + 3 + 3)
    unseen = features.head(1).assign(Name="X, Sir. Y", Embarked="Z")
    assert model.predict(unseen).shape == (1,)
    rules = baseline_models(child_age=10, random_state=3)
    assert list(rules) == ["majority class", "gender rule", "women and children first",
                           "seed model"]  # fmt: skip
    assert rules["women and children first"].get_params() == {
        "rule": "women_and_children", "child_age": 10,
    }  # fmt: skip
    assert rules["gender rule"].get_params()["rule"] == "gender"
    assert rules["majority class"].get_params()["strategy"] == "most_frequent"


def test_baseline_folds_are_numbered_from_one(passengers):
    features, target = split_features_target(passengers)
    split = Split(features, features.head(4), target, target.head(4))
    scores = baseline_accuracies({"gender": RuleClassifier()}, split, folds=3, random_state=0)
    assert scores.folds.index.tolist() == [1, 2, 3] and scores.folds.index.name == "fold"
    assert scores.folds["gender"].tolist() == [1.0, 1.0, 1.0]


def test_the_nested_result_mean_std_and_the_prefixed_grid():
    result = NestedResult(pd.Series([0.5, 0.7, 0.9]), [])
    assert result.mean == pytest.approx(0.7)
    assert result.std == pytest.approx(0.2)  # sample standard deviation
    assert grid_for_pipeline({"max_depth": (2, 3)}) == {"classifier__max_depth": [2, 3]}
    assert grid_for_pipeline({"a": [1]}, step="model") == {"model__a": [1]}


def test_nested_scores_are_numbered_from_one_and_named(passengers):
    features, target = split_features_target(passengers)
    result = nested_cross_validation(
        RuleClassifier(), {"rule": ["gender"]}, features, target, 3, 2, random_state=0
    )
    assert result.scores.index.tolist() == [1, 2, 3] and result.scores.index.name == "fold"
    assert result.scores.name == "accuracy"
    assert result.scores.tolist() == [1.0, 1.0, 1.0]


def test_the_rule_predicts_integers_and_reads_an_unreadable_age_as_unknown():
    features = pd.DataFrame({"Sex": ["male", "male", "female"], "Age": ["five", 4, None]})
    predicted = RuleClassifier("women_and_children", child_age=13).fit(features).predict(features)
    assert predicted.dtype == np.int64 and predicted.tolist() == [0, 1, 1]


def grid_search_cv_nested(pipeline, grid, features, target) -> tuple[list[float], list[dict]]:
    """scikit-learn's nested search: GridSearchCV on 2 inner folds in each of 3 outer folds."""
    outer = StratifiedKFold(n_splits=3, shuffle=True, random_state=3)
    inner = StratifiedKFold(n_splits=2, shuffle=True, random_state=3)
    scores, chosen = [], []
    for train_index, test_index in outer.split(features, target):
        search = GridSearchCV(clone(pipeline), grid, cv=inner, scoring="accuracy")
        search.fit(features.iloc[train_index], target.iloc[train_index])
        predicted = search.predict(features.iloc[test_index])
        scores.append(float(accuracy_score(target.iloc[test_index], predicted)))
        chosen.append(search.best_params_)
    return scores, chosen


def test_the_shared_nested_search_chooses_and_scores_as_grid_search_cv(passengers):
    """The feature steps fitted once per inner split give GridSearchCV's numbers exactly."""
    features, target = split_features_target(pd.concat([passengers] * 3, ignore_index=True))
    settings = load_settings(REPO_ROOT / "params.yaml", overrides=["model.n_estimators=5"])
    pipeline = build_model(settings.features, settings.model, random_state=3)
    grid = {"classifier__max_depth": [1, 3, 6], "classifier__min_samples_leaf": [1, 4]}
    result = nested_cross_validation(pipeline, grid, features, target, 3, 2, random_state=3)
    expected_scores, expected_chosen = grid_search_cv_nested(pipeline, grid, features, target)
    assert result.scores.tolist() == expected_scores
    assert result.chosen == expected_chosen


def test_cross_validation_models_stand_in_for_a_refit_with_their_own_setting(passengers):
    features, target = split_features_target(pd.concat([passengers] * 3, ignore_index=True))
    settings = load_settings(REPO_ROOT / "params.yaml", overrides=["model.max_depth=3"])
    model = build_model(settings.features, settings.model, random_state=3)
    smaller = build_model(
        settings.features, settings.model.model_copy(update={"n_estimators": 7}), random_state=3
    )
    grid = {"classifier__max_depth": [1, 3]}
    folds = cross_validate_model(model, features, target, 3, random_state=3)
    assert len(folds.models) == 3 and folds.models[0] is not model
    assert _first_trees_of(folds.models[0], clone(smaller))
    assert not _first_trees_of(folds.models[0], clone(smaller).set_params(classifier__max_depth=1))
    more = clone(model).set_params(classifier__n_estimators=model[-1].n_estimators + 1)
    assert not _first_trees_of(folds.models[0], more)
    shared = nested_cross_validation(
        smaller, grid, features, target, 3, 2, 3, fold_models=folds.models
    )
    plain = nested_cross_validation(smaller, grid, features, target, 3, 2, 3)
    assert shared.scores.tolist() == plain.scores.tolist() and shared.chosen == plain.chosen


def test_a_fitted_forest_stands_in_for_as_many_trees_or_fewer_and_only_in_a_pipeline(passengers):
    features, target = split_features_target(passengers)
    settings = load_settings(REPO_ROOT / "params.yaml", overrides=["model.n_estimators=5"])
    fitted = build_model(settings.features, settings.model, random_state=3).fit(features, target)
    same = build_model(settings.features, settings.model, random_state=3)
    assert _first_trees_of(fitted, same)  # as many trees
    assert not _first_trees_of(fitted, same[-1])
    assert not _first_trees_of(fitted[-1], same)


calls: list[int] = []  # one item per call of first_four


def first_four(features) -> np.ndarray:
    """Keep the first four engineered features (a step between the features and the forest)."""
    calls.append(1)
    return np.asarray(features)[:, :4]


def three_steps(trees: int, max_depth: int = 3) -> Pipeline:
    """build_model's features, a step that drops features, then the forest: three steps."""
    settings = load_settings(
        REPO_ROOT / "params.yaml",
        overrides=[f"model.n_estimators={trees}", f"model.max_depth={max_depth}"],
    )
    two = build_model(settings.features, settings.model, random_state=3)
    return Pipeline([two.steps[0], ("first_four", FunctionTransformer(first_four)), two.steps[1]])


def test_a_longer_pipeline_shares_its_feature_steps_between_grid_points(passengers):
    features, target = split_features_target(pd.concat([passengers] * 3, ignore_index=True))
    pipeline = three_steps(trees=5)
    grid = {"classifier__max_depth": [1, 3, 6]}
    calls.clear()
    result = nested_cross_validation(pipeline, grid, features, target, 3, 2, random_state=3)
    # Per outer fold: each of the 2 inner splits computes its fitting and its scored rows' features
    # once for the 3 grid points (4 calls), then the refit fits and predicts (2): 3 x 6 in all.
    # Without sharing it would be 3 x (3 grid points x 2 splits x 2 + 2) = 42.
    assert len(calls) == 18
    expected_scores, expected_chosen = grid_search_cv_nested(pipeline, grid, features, target)
    assert result.scores.tolist() == expected_scores
    assert result.chosen == expected_chosen


def test_a_grid_over_the_feature_steps_is_searched_without_sharing(passengers):
    features, target = split_features_target(pd.concat([passengers] * 3, ignore_index=True))
    pipeline = three_steps(trees=5)
    grid = {"first_four__validate": [False, True]}
    calls.clear()
    result = nested_cross_validation(pipeline, grid, features, target, 3, 2, random_state=3)
    assert len(calls) == 3 * (2 * 2 * 2 + 2)  # every grid point fits its own feature steps
    assert result.chosen == [{"first_four__validate": False}] * 3  # a tie: the first


@pytest.mark.parametrize(
    ("depths", "fits"),
    [([3], 3 * 2), ([1], 3 * (2 + 1))],
    ids=["the model's own setting: no refit", "another setting: a refit"],
)
def test_cross_validation_models_of_a_longer_pipeline_stand_in_for_the_refit(
    depths, fits, passengers, monkeypatch
):
    features, target = split_features_target(pd.concat([passengers] * 3, ignore_index=True))
    folds = cross_validate_model(three_steps(trees=20), features, target, 3, random_state=3)
    grid = {"classifier__max_depth": depths}
    plain = nested_cross_validation(three_steps(trees=1), grid, features, target, 3, 2, 3)
    fitted, first_trees = [], []
    fit, predict_first = RandomForest.fit, RandomForest.predict_proba_of_trees

    def counted(forest, *args, **kwargs):
        fitted.append(forest.n_estimators)
        return fit(forest, *args, **kwargs)

    def recorded(forest, rows, n_trees=None):
        first_trees.append(n_trees)
        return predict_first(forest, rows, n_trees)

    monkeypatch.setattr(RandomForest, "fit", counted)
    monkeypatch.setattr(RandomForest, "predict_proba_of_trees", recorded)
    shared = nested_cross_validation(
        three_steps(trees=1), grid, features, target, 3, 2, 3, fold_models=folds.models
    )
    assert len(fitted) == fits  # 2 inner fits per outer fold, and a refit only where needed
    # Where the fold model stands in, only its first tree (the refit's 1 tree) predicts.
    assert [n for n in first_trees if n is not None] == [1] * (3 * 3 - fits)
    assert shared.scores.tolist() == plain.scores.tolist() and shared.chosen == plain.chosen
