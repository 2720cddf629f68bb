"""Layers of parameters: overrides parsed, merged in order, validated once, errors named."""

import pytest
import yaml

from titanic.errors import ConfigError
from titanic.layers import (
    ParameterLayers,
    _is_type_tag,
    get_dotted,
    load_settings,
    parse_override,
    set_dotted,
    validate_settings,
)

from .conftest import REPO_ROOT
from .parameter_checks import accepted, refusal


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


def test_a_value_inside_a_value_names_the_deepest_section():
    nested = {"a": {"b": 1}}
    with pytest.raises(ConfigError) as caught:
        set_dotted(nested, "a.b.c.d", 2)
    assert str(caught.value) == "-P: a.b is a value, not a section: cannot set a.b.c.d"
    assert nested == {"a": {"b": 1}}
    with pytest.raises(KeyError):
        get_dotted(nested, "a.c")


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
