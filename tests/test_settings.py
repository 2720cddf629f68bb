"""The settings models: ranges, types, digests, the selection grid, the variants, the dump."""

import pytest
from pydantic import ValidationError

from titanic.errors import ConfigError
from titanic.layers import load_settings
from titanic.settings import Settings, VariantSettings, dump_settings, parameter_keys

from .conftest import REPO_ROOT
from .parameter_checks import accepted, refusal


def test_repository_params_validate():
    settings = load_settings(REPO_ROOT / "params.yaml")
    assert isinstance(settings, Settings)
    assert settings.data.source == "embedded"
    assert 0 < settings.split.test_size < 1


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("model.n_estimators=0", "model.n_estimators"),
        ("model.n_estimators=-3", "model.n_estimators"),
        ("split.test_size=0", "split.test_size"),
        ("split.test_size=1.2", "split.test_size"),
        ("model.max_depth=-1", "model.max_depth"),
        ("model.max_features=1.5", "model.max_features"),
        ("model.n_jobs=0", "model.n_jobs"),
        ("split.cv_folds=1", "split.cv_folds"),
        ("features.include=[]", "features.include"),
        ("features.include=[title, title]", "features.include"),
        ("features.include=[title, wingspan]", "features.include[1]"),
    ],
)
def test_out_of_range_values_are_refused_naming_the_key(override, key):
    with pytest.raises(ConfigError) as caught:
        load_settings(REPO_ROOT / "params.yaml", overrides=[override])
    assert key in caught.value.keys
    assert f"{key}:" in str(caught.value)
    assert override in str(caught.value)  # says where the value came from


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("model.n_estimators=many", "model.n_estimators"),
        ("model.n_estimators=12.5", "model.n_estimators"),
        ("split.stratify=sometimes", "split.stratify"),
        ("random_state=[1, 2]", "random_state"),
        ("model=3", "model"),
    ],
)
def test_wrong_types_are_refused(override, key):
    with pytest.raises(ConfigError, match=rf"{key}: .*got"):
        load_settings(REPO_ROOT / "params.yaml", overrides=[override])


def test_settings_are_immutable():
    settings = load_settings(REPO_ROOT / "params.yaml")
    with pytest.raises(ValueError, match="frozen"):
        settings.model.n_estimators = 3  # type: ignore[misc]


def test_dump_round_trips(tmp_path):
    settings = load_settings(REPO_ROOT / "params.yaml", overrides=["model.max_depth=null"])
    path = tmp_path / "resolved.yaml"
    path.write_text(dump_settings(settings))
    assert load_settings(path) == settings


GOOD_DIGEST = "0123456789abcdef" * 4


def test_sha256_digests_must_be_64_lowercase_hex_digits():
    assert accepted(f"data.sha256={{train.csv: {GOOD_DIGEST}}}").data.sha256 == {
        "train.csv": GOOD_DIGEST
    }
    for bad in (GOOD_DIGEST[:63], GOOD_DIGEST + "0", GOOD_DIGEST[:63] + "g", GOOD_DIGEST.upper()):
        message = refusal(f"data.sha256={{train.csv: {bad}}}")
        assert f"train.csv: expected 64 lowercase hex digits, got '{bad}'" in message
    assert accepted("data.sha256=null").data.sha256 is None


def test_repeated_feature_groups_are_named_once_each():
    message = refusal("features.include=[sex, title, sex, title, age]")
    assert "features.include: listed more than once: sex, title (got" in message


def test_max_features_fraction_bounds_and_n_jobs():
    assert accepted("model.max_features=1.0").model.max_features == 1.0
    assert accepted("model.max_features=0.01").model.max_features == 0.01
    assert "model.max_features: a fraction must lie in (0, 1] (got 0.0)" in refusal(
        "model.max_features=0.0"
    )
    assert accepted("model.n_jobs=-1").model.n_jobs == -1
    assert accepted("model.n_jobs=1").model.n_jobs == 1
    assert "n_jobs = 0 means no worker; use 1, a positive count or -1 (got 0)" in refusal(
        "model.n_jobs=0"
    )


def test_every_problem_of_a_selection_grid_is_named():
    message = refusal("selection.grid={n_estimators: [5], max_depth: [], criterion: [gini, bad]}")
    assert message == (
        "invalid parameters: selection.grid: n_estimators: not searchable (searchable:"
        " max_depth, min_samples_split, min_samples_leaf, max_features, criterion);"
        " max_depth: give at least one value; criterion: 'bad': Input should be 'gini',"
        " 'entropy' or 'log_loss'"
        " [-P selection.grid={n_estimators: [5], max_depth: [], criterion: [gini, bad]}]"
    )
    grid = accepted("selection.grid={criterion: [gini, entropy]}").selection.grid
    assert grid == {"max_depth": [4, 6, 8], "criterion": ["gini", "entropy"]}  # merged


SWEEPABLE = (
    "data.source", "data.train_file", "data.test_file", "data.endpoint_url", "data.anonymous",
    "data.sha256", "data.max_bytes", "data.timeout_seconds",
    "split.test_size", "split.stratify", "split.cv_folds",
    "features.include", "features.rare_title_min_count",
    "model.n_estimators", "model.max_depth", "model.min_samples_split", "model.min_samples_leaf",
    "model.max_features", "model.criterion", "model.class_weight", "model.n_jobs",
    "evaluation.permutation_repeats", "evaluation.child_age",
    "selection.enabled", "selection.inner_folds", "selection.n_estimators", "selection.grid",
    "random_state",
)  # fmt: skip


def test_parameter_keys_are_every_section_key_but_the_sweep_and_output_dir():
    assert parameter_keys() == SWEEPABLE


def variant_error(**raw) -> str:
    with pytest.raises(ValidationError) as caught:
        VariantSettings.model_validate(raw)
    return str(caught.value)


def test_the_number_of_variants_is_checked_from_the_list_lengths():
    grid = {"model.max_depth": [1, 2, 3], "model.n_estimators": [1, 2]}
    expected = (
        "7 variants (3 x 2 + 1 set) is more than variants.max_variants = 6; shorten the lists,"
        " or raise the limit with -P variants.max_variants=7"
    )
    assert expected in variant_error(grid=grid, sets={"a": {}}, max_variants=6)
    assert VariantSettings.model_validate({"grid": grid, "max_variants": 6}).grid == grid
    sets = {"a": {}, "b": {}}
    assert "3 variants (no grid + 3 sets)" in variant_error(sets=sets | {"c": {}}, max_variants=2)
    assert VariantSettings.model_validate({"sets": sets, "max_variants": 2}).sets == sets
    one = {"model.max_depth": 3}  # not a list: counted as one value, then refused as not a list
    assert "2 variants (1 + 1 set)" in variant_error(grid=one, sets={"a": {}}, max_variants=1)
    assert "max_variants" in variant_error(max_variants="many")
    assert "max_variants" in variant_error(max_variants=True)
    assert "grid" in variant_error(grid=[1])


def test_grid_keys_and_values_are_checked():
    assert "unknown parameter(s) model.depth, colour" in variant_error(
        grid={"model.depth": [1], "colour": [1], "random_state": [1]}
    )
    assert "model.max_depth, random_state: give at least one value" in variant_error(
        grid={"model.max_depth": [], "random_state": [], "split.cv_folds": [2]}
    )
    assert "random_state: a value is listed more than once" in variant_error(
        grid={"random_state": [1, 2, 1], "model.max_depth": [1, "1"]}
    )


def test_set_names_and_keys_are_checked():
    message = variant_error(
        sets={"bad name": {}, "ok": {"colour": 1, "random_state": 2}, "-x": {"random_state": 1}}
    )
    assert (
        "'bad name': a set name may hold only letters, digits and _.+=-; ok: unknown"
        " parameter(s) colour; '-x': a set name may hold only letters, digits and _.+=-"
    ) in message
    assert VariantSettings.model_validate({"sets": {"A.1_b+c=d-e": {}}}).sets == {
        "A.1_b+c=d-e": {}
    }


def test_dumped_settings_keep_the_params_yaml_order():
    text = dump_settings(accepted())
    top = [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")]
    assert top == ["data", "split", "features", "model", "evaluation", "selection",
                   "random_state", "output_dir", "variants"]  # fmt: skip
