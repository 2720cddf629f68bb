"""Reading parameter files: no anchors, no duplicate keys, a size limit, errors with lines."""

from pathlib import Path

import pytest
import yaml

from titanic.errors import ConfigError
from titanic.layers import parse_override
from titanic.strict_yaml import load_yaml, read_yaml_mapping


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


def test_a_character_yaml_cannot_read_is_invalid_syntax(tmp_path):
    path = tmp_path / "bell.yaml"
    assert file_refusal(path, "a: \x07\n") == f"{path}: malformed YAML: invalid syntax"


def test_load_yaml_raises_yaml_errors_that_say_what_is_refused():
    with pytest.raises(
        yaml.YAMLError, match="^duplicate key 'a' at lines 1 and 2; keep one"
    ) as raised:
        load_yaml("a: 1\na: 2\n")
    assert raised.value.line == 2  # the repeated key's line
