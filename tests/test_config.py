from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from titanic.config import (
    Settings,
    VariantSettings,
    dump_settings,
    load_settings,
)
from titanic.errors import ConfigError
from titanic.layers import (
    ParameterLayers,
    _is_type_tag,
    get_dotted,
    parse_override,
    set_dotted,
    validate_settings,
)
from titanic.project import Project
from titanic.settings import parameter_keys
from titanic.strict_yaml import load_yaml, read_yaml_mapping

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


def file_refusal(path: Path, text: str) -> str:
    """The message of the ConfigError that reading a parameter file of ``text`` raises."""
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_yaml_mapping(path)
    return str(caught.value)


def test_duplicate_keys_are_refused_naming_the_key_and_both_lines(tmp_path):
    path = tmp_path / "twice.yaml"
    text = "model:\n  n_estimators: 5\nsplit:\n  cv_folds: 3\nmodel:\n  max_depth: 2\n"
    assert file_refusal(path, text) == (
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


def refusal(*overrides: str) -> str:
    """The message of the ConfigError raised by params.yaml with ``overrides``."""
    with pytest.raises(ConfigError) as caught:
        load_settings(REPO_ROOT / "params.yaml", overrides=list(overrides))
    return str(caught.value)


def accepted(*overrides: str) -> Settings:
    return load_settings(REPO_ROOT / "params.yaml", overrides=list(overrides))


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


def test_a_value_inside_a_value_names_the_deepest_section():
    nested = {"a": {"b": 1}}
    with pytest.raises(ConfigError) as caught:
        set_dotted(nested, "a.b.c.d", 2)
    assert str(caught.value) == "-P: a.b is a value, not a section: cannot set a.b.c.d"
    assert nested == {"a": {"b": 1}}
    with pytest.raises(KeyError):
        get_dotted(nested, "a.c")


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


def test_an_anchor_is_refused_with_its_line(tmp_path):
    path = tmp_path / "anchor.yaml"
    assert file_refusal(path, "a: 1\nb: 2\nc: &x 3\n") == (
        f"{path}: line 3: anchors and aliases are not allowed (&name, *name); write the values out"
    )


def test_a_key_twice_on_one_line_and_after_an_unhashable_key(tmp_path):
    path = tmp_path / "twice.yaml"
    assert file_refusal(path, "model: {max_depth: 3, max_depth: 4}\n") == (
        f"{path}: duplicate key 'max_depth' at line 1, twice; keep one of them"
    )
    path.write_text("? [a]\n: 1\nb: 2\nb: 3\n")
    with pytest.raises(ConfigError, match="duplicate key 'b' at lines 3 and 4"):
        read_yaml_mapping(path)


def test_malformed_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: malformed YAML at line 3: expected"):
        read_yaml_mapping(path)


def test_unreadable_files_and_the_size_limit(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"a: \xe9\n")
    with pytest.raises(ConfigError, match=r"latin1\.yaml: cannot read the file \(.*utf-8"):
        read_yaml_mapping(path)
    with pytest.raises(ConfigError, match="cannot read the file"):
        read_yaml_mapping(tmp_path)
    exact = tmp_path / "exact.yaml"
    line = "a: 1\n"
    exact.write_text(line + "#" * (1_000_000 - len(line) - 1) + "\n")
    assert exact.stat().st_size == 1_000_000
    assert read_yaml_mapping(exact) == {"a": 1}
    assert file_refusal(path, "") == (
        f"{path}: the file is empty; it must hold the parameter sections"
    )
    assert file_refusal(path, "- 1\n") == f"{path}: expected a mapping of sections, got a list"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" model.max_depth =3", ("model.max_depth", 3)),
        ("model.max_depth=", ("model.max_depth", None)),
        ("model.max_depth=  ", ("model.max_depth", None)),
        ("data.source=a:b", ("data.source", "a:b")),
        ("data.source:a=b", ("data.source:a", "b")),
    ],
)
def test_override_keys_are_stripped_and_an_empty_value_is_null(text, expected):
    assert parse_override(text) == expected


def test_override_errors_name_the_key():
    with pytest.raises(ConfigError) as caught:
        parse_override("model.n={")
    assert str(caught.value) == "-P: cannot parse the value of model.n: '{'"
    with pytest.raises(ConfigError) as caught:
        parse_override("model.n=*x")
    assert str(caught.value) == (
        "-P: model.n: anchors and aliases are not allowed (&name, *name); write the values out"
    )
    with pytest.raises(ConfigError) as caught:
        parse_override("model.=1")
    assert str(caught.value) == (
        "-P: expected KEY=VALUE with a dotted key such as model.n_estimators=50, got 'model.=1'"
    )


def test_errors_name_every_layer_that_set_the_section_at_fault(tmp_path):
    message = refusal("selection.grid.n_estimators=[5]", "selection.grid.criterion=[bad]")
    assert message.endswith(
        "[-P selection.grid.n_estimators=[5], -P selection.grid.criterion=[bad]]"
    )
    # A section given whole by a layer: a bad key inside it is that layer's.
    params = tmp_path / "params.yaml"
    text = (REPO_ROOT / "params.yaml").read_text()
    params.write_text(text.replace("features:", "unused:", 1))
    override = "features={include: [title, wingspan], rare_title_min_count: 2}"
    with pytest.raises(ConfigError) as caught:
        load_settings(params, overrides=["unused=null", override])
    assert "features.include[1]: Input should be " in str(caught.value)
    assert f"'wingspan') [-P {override}];" in str(caught.value)
    assert "unused: unknown key [-P unused=null]" in str(caught.value)


def test_a_long_value_is_shortened_in_the_message():
    shown = "a" * 78  # quoted: 80 characters
    assert f"(got '{shown}')" in refusal(f"model.criterion={shown}")
    longer = "b" * 79
    assert f"(got '{'b' * 76}...)" in refusal(f"model.criterion={longer}")


def test_without_layers_every_problem_is_the_params_and_union_tags_are_dropped():
    raw = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    raw["model"]["max_features"] = "bad"
    del raw["model"]["n_estimators"]
    with pytest.raises(ConfigError) as caught:
        validate_settings(raw)
    assert str(caught.value) == (
        "invalid parameters: model.n_estimators: missing key [params];"
        " model.max_features: Input should be 'sqrt' or 'log2' (got 'bad') [params]"
    )
    with pytest.raises(ConfigError) as caught:
        validate_settings(3)  # type: ignore[arg-type]
    assert str(caught.value).startswith("invalid parameters: (top level): ")
    assert caught.value.keys == ("(top level)",)


def test_one_key_with_union_errors_is_reported_once_and_later_keys_still_are():
    message = refusal("model.max_features=bad", "model.criterion=bad")
    assert message.count("model.max_features:") == 1
    assert "model.criterion: Input should be" in message


@pytest.mark.parametrize(
    "tag",
    ["int", "float", "str", "bool", "none", "constrained-int", "literal['a']", "function-after",
     "tuple[str, ...]", "dict[str,str]"],
)  # fmt: skip
def test_pydantic_union_member_tags_are_recognised(tag):
    assert _is_type_tag(tag)


@pytest.mark.parametrize("part", ["model", "max_depth", 0, "integer", "literal"])
def test_keys_and_indices_are_not_union_tags(part):
    assert not _is_type_tag(part)


def test_dumped_settings_keep_the_params_yaml_order():
    text = dump_settings(accepted())
    top = [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")]
    assert top == ["data", "split", "features", "model", "evaluation", "selection",
                   "random_state", "output_dir", "variants"]  # fmt: skip


def test_a_character_yaml_cannot_read_is_invalid_syntax(tmp_path):
    path = tmp_path / "bell.yaml"
    assert file_refusal(path, "a: \x07\n") == f"{path}: malformed YAML: invalid syntax"


def test_load_yaml_raises_yaml_errors_that_say_what_is_refused():
    with pytest.raises(yaml.YAMLError, match="^duplicate key 'a' at lines 1 and 2; keep one"):
        load_yaml("a: 1\na: 2\n")


def test_an_override_value_may_hold_the_separator():
    assert parse_override("data.source=a=b") == ("data.source", "a=b")


def test_a_missing_section_is_blamed_on_the_parameters_and_keys_keep_their_letters(tmp_path):
    params = tmp_path / "params.yaml"
    text = (REPO_ROOT / "params.yaml").read_text()
    params.write_text(text.replace("evaluation:", "unused:", 1))
    with pytest.raises(ConfigError) as caught:
        load_settings(params, overrides=["unused=null", "Xenon=1"])
    assert "evaluation: missing key [params];" in str(caught.value)
    assert "Xenon: unknown key [-P Xenon=1]" in str(caught.value)


def test_settings_as_plain_values_and_layers_copied_when_merged(tmp_path):
    plain = accepted().to_dict()
    assert isinstance(plain["features"]["include"], list)
    first = {"section": {"inner": {"value": 1}}}
    layers = ParameterLayers()
    layers.merge(first, "first")
    first["section"]["inner"]["value"] = 2
    assert layers.values == {"section": {"inner": {"value": 1}}}
    extra = tmp_path / "extra.yaml"
    extra.write_text("model:\n  n_estimators: 0\n")
    with pytest.raises(ConfigError, match=r"model\.n_estimators: .* \[extra\.yaml\]"):
        load_settings(REPO_ROOT / "params.yaml", [extra])
