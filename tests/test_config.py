from pathlib import Path

import pytest

from titanic.config import (
    Settings,
    dump_settings,
    encode_override,
    get_dotted,
    load_settings,
    parse_override,
    read_yaml_mapping,
    set_dotted,
)
from titanic.errors import ConfigError
from titanic.project import Project

from .conftest import REPO_ROOT


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


def test_unknown_keys_are_refused_at_any_depth():
    with pytest.raises(ConfigError) as caught:
        load_settings(REPO_ROOT / "params.yaml", overrides=["model.n_estimator=5", "colour=red"])
    message = str(caught.value)
    assert "model.n_estimator: unknown key" in message
    assert "colour: unknown key" in message


def test_every_problem_is_reported_in_one_message():
    with pytest.raises(ConfigError) as caught:
        load_settings(
            REPO_ROOT / "params.yaml",
            overrides=["model.n_estimators=0", "split.test_size=2", "nonsense=1"],
        )
    assert set(caught.value.keys) == {"model.n_estimators", "split.test_size", "nonsense"}
    assert "\n" not in str(caught.value)


def test_missing_key_is_named(tmp_path):
    path = tmp_path / "params.yaml"
    text = (REPO_ROOT / "params.yaml").read_text().replace("  cv_folds: 5", "")
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"split\.cv_folds: missing key \[params\.yaml\]"):
        load_settings(path)


def test_override_order_file_then_params_files_then_p(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("model:\n  n_estimators: 11\n  max_depth: 3\n")
    later = tmp_path / "later.yaml"
    later.write_text("model:\n  max_depth: 5\n")
    settings = load_settings(
        REPO_ROOT / "params.yaml", [extra, later], overrides=["model.n_estimators=12"]
    )
    assert settings.model.n_estimators == 12  # -P beats the files
    assert settings.model.max_depth == 5  # the later file beats the earlier
    assert (
        settings.model.min_samples_leaf
        == load_settings(REPO_ROOT / "params.yaml").model.min_samples_leaf
    )


def test_partial_file_keeps_the_rest_of_a_section(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("split:\n  test_size: 0.3\n")
    settings = load_settings(REPO_ROOT / "params.yaml", [extra])
    assert settings.split.test_size == 0.3
    assert settings.split.cv_folds == load_settings(REPO_ROOT / "params.yaml").split.cv_folds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model.n_estimators=50", ("model.n_estimators", 50)),
        ("n_estimators:50", ("n_estimators", 50)),
        ("model.max_depth=null", ("model.max_depth", None)),
        ("model.max_features=0.5", ("model.max_features", 0.5)),
        ("data.source=s3://bucket/titanic", ("data.source", "s3://bucket/titanic")),
        ("features.include=[sex, age]", ("features.include", ["sex", "age"])),
    ],
)
def test_parse_override(text, expected):
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["n_estimators", "=5", "model..n=1", "model.n={"])
def test_malformed_overrides_are_refused(text):
    with pytest.raises(ConfigError, match="-P"):
        parse_override(text)


def test_override_through_a_value_is_refused():
    with pytest.raises(ConfigError, match="random_state is a value"):
        load_settings(REPO_ROOT / "params.yaml", overrides=["random_state.seed=1"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("model: [unclosed\n", "malformed YAML at line"),
        ("- a\n- list\n", "expected a mapping"),
        ("!!python/object:os.system 'ls'\n", "malformed YAML"),
    ],
)
def test_bad_params_files(tmp_path, content, message):
    path = tmp_path / "params.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as caught:
        read_yaml_mapping(path)
    assert str(path) in str(caught.value)


def test_missing_params_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found"):
        read_yaml_mapping(tmp_path / "nope.yaml")


def test_settings_are_immutable():
    settings = load_settings(REPO_ROOT / "params.yaml")
    with pytest.raises(ValueError, match="frozen"):
        settings.model.n_estimators = 3  # type: ignore[misc]


def test_dump_round_trips(tmp_path):
    settings = load_settings(REPO_ROOT / "params.yaml", overrides=["model.max_depth=null"])
    path = tmp_path / "resolved.yaml"
    path.write_text(dump_settings(settings))
    assert load_settings(path) == settings


def test_project_root_and_output_dir(tmp_path):
    (tmp_path / "params.yaml").write_text("x: 1\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    project = Project.discover(nested)
    assert project.root == tmp_path.resolve()
    assert project.params_file == tmp_path.resolve() / "params.yaml"
    settings = load_settings(REPO_ROOT / "params.yaml")
    assert project.resolve(settings.output_dir) == tmp_path.resolve() / "_output"
    absolute = load_settings(REPO_ROOT / "params.yaml", overrides=[f"output_dir={tmp_path}/out"])
    assert Project.at("/elsewhere").resolve(absolute.output_dir) == tmp_path / "out"


@pytest.mark.parametrize(
    "value", [None, 3, 0.5, "log2", "null", "3", True, ["sex", "age"], {"a": 1}]
)
def test_an_encoded_override_reads_back_with_its_type(value):
    assert parse_override(encode_override("model.max_features", value)) == (
        "model.max_features",
        value,
    )


def test_dotted_keys_are_read_and_set_in_nested_sections():
    nested = {"model": {"max_depth": 4}, "random_state": 1}
    set_dotted(nested, "model.max_depth", None)
    set_dotted(nested, "data.source", "embedded")
    assert nested == {
        "model": {"max_depth": None},
        "random_state": 1,
        "data": {"source": "embedded"},
    }
    assert get_dotted(nested, "data.source") == "embedded"
    with pytest.raises(ConfigError, match="random_state is a value, not a section"):
        set_dotted(nested, "random_state.seed", 2)


ALIAS_BOMB = "\n".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
)


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB + "\n")
    with pytest.raises(ConfigError, match=r"bomb\.yaml: .*anchors and aliases are not allowed"):
        read_yaml_mapping(path)


@pytest.mark.parametrize(
    "content",
    [
        "model: &defaults {n_estimators: 5}\nsplit: *defaults\n",
        "model: &defaults {n_estimators: 5}\n",
    ],
)
def test_anchors_and_aliases_are_refused_naming_the_line(tmp_path, content):
    path = tmp_path / "anchors.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=r"anchors\.yaml: .*line \d+"):
        read_yaml_mapping(path)


def test_an_alias_in_an_override_is_refused():
    with pytest.raises(ConfigError, match="-P: .*anchors and aliases are not allowed"):
        parse_override("model.class_weight=&x balanced")


def test_duplicate_keys_are_refused_naming_the_key_and_both_lines(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("model:\n  n_estimators: 5\nsplit:\n  cv_folds: 3\nmodel:\n  max_depth: 2\n")
    with pytest.raises(ConfigError) as caught:
        read_yaml_mapping(path)
    assert str(caught.value) == (
        f"{path}: duplicate key 'model' at lines 1 and 5; keep one of them"
    )


def test_duplicate_nested_keys_and_in_overrides_are_refused(tmp_path):
    path = tmp_path / "nested.yaml"
    path.write_text(
        "variants:\n  sets:\n    a: {model.max_depth: 3}\n    a: {model.max_depth: 4}\n"
    )
    with pytest.raises(ConfigError, match="duplicate key 'a' at lines 3 and 4"):
        read_yaml_mapping(path)
    with pytest.raises(ConfigError, match="-P: .*duplicate key 'model.max_depth'"):
        parse_override("variants.sets={a: {model.max_depth: 3, model.max_depth: 4}}")


def test_an_endless_or_huge_parameter_file_is_refused_unread(tmp_path):
    with pytest.raises(ConfigError, match="/dev/zero: more than 1,000,000 bytes"):
        read_yaml_mapping(Path("/dev/zero"))
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * 200_000, encoding="utf-8")
    with pytest.raises(ConfigError, match="not a parameter file"):
        read_yaml_mapping(big)
