"""The report's parameters: the resolved parameters file and the named parameters."""

from pathlib import Path

import pytest

from titanic.config import (
    REPORT_PARAMETERS,
    RESOLVED_PARAMS_FILENAME,
    load_settings,
    read_resolved_settings,
    report_settings,
    report_values,
    resolved_files,
)
from titanic.errors import ConfigError

from .conftest import REPO_ROOT, count_validations

# Values of every kind a parameter takes: None, float, a fraction, a tuple, a mapping, bools.
VARIED = [
    "model.max_depth=null",
    "model.max_features=0.5",
    "features.include=[sex, age, fare]",
    f"data.sha256={{train.csv: {'a' * 64}}}",
    "split.stratify=false",
    "evaluation.child_age=12",
]


def refusal(call, *args, **kwargs) -> ConfigError:
    """Return the ConfigError that ``call(*args, **kwargs)`` raises."""
    with pytest.raises(ConfigError) as caught:
        call(*args, **kwargs)
    return caught.value


def write_resolved(folder: Path, overrides=()) -> tuple[Path, object]:
    settings = load_settings(REPO_ROOT / "params.yaml", overrides=overrides)
    for name, text in resolved_files(settings).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder / RESOLVED_PARAMS_FILENAME, settings


@pytest.mark.parametrize("overrides", [(), VARIED], ids=["params.yaml", "varied"])
def test_a_resolved_file_reads_back_equal_without_validating(tmp_path, monkeypatch, overrides):
    path, settings = write_resolved(tmp_path, overrides)
    calls = count_validations(monkeypatch)
    read = read_resolved_settings(path)
    assert calls == []
    assert read == settings
    assert read.features.include == settings.features.include  # a tuple, not a list
    assert read.to_dict() == settings.to_dict()
    assert report_settings(resolved_params_file=str(path)) == settings
    assert calls == []


def test_an_edited_or_unvouched_resolved_file_is_refused(tmp_path):
    path, _ = write_resolved(tmp_path)
    path.write_text(path.read_text().replace("n_estimators: 300", "n_estimators: -1"))
    assert str(refusal(read_resolved_settings, path)) == (
        f"{path}: the resolved parameters differ from those validated (sha256 mismatch):"
        " render with titanic render, or give the named parameters instead"
    )
    (tmp_path / f".{RESOLVED_PARAMS_FILENAME}.sha256").unlink()
    assert str(refusal(read_resolved_settings, path)) == (
        f"{path}: cannot read the resolved parameters or their digest (No such file or"
        " directory): give resolved_params_file only as titanic render writes it"
    )


def test_named_parameters_and_a_resolved_file_exclude_each_other(tmp_path):
    path, _ = write_resolved(tmp_path)
    error = refusal(report_settings, "params.yaml", path, n_estimators=5, cv_folds=3)
    assert error.keys == ("model.n_estimators", "split.cv_folds")
    assert str(error) == (
        "report parameters: named parameters (model.n_estimators, split.cv_folds) and a"
        " resolved parameters file exclude each other: with titanic render, give them as"
        " -P section.key=value"
    )


def test_named_parameters_apply_over_params_yaml_and_none_keeps_its_value(project):
    settings = report_settings(n_estimators=5, max_depth=None, max_features="log2")
    assert settings.model.n_estimators == 5
    assert settings.model.max_depth == 4  # the project's params.yaml
    assert settings.model.max_features == "log2"
    assert report_settings().model.n_estimators == 10


def test_a_bad_named_value_is_refused_naming_the_key_and_the_parameter(project):
    error = refusal(report_settings, test_size=1.5)
    assert error.keys == ("split.test_size",)
    assert "[report parameter split.test_size]" in str(error)


def test_named_parameters_become_dotted_values_and_unknown_ones_are_refused():
    values = report_values(max_depth=None, n_estimators=50, data_source="s3://b/t")
    assert values == {"model.n_estimators": 50, "data.source": "s3://b/t"}
    error = refusal(report_values, size=1, colour="red", cv_folds=3)
    assert error.keys == ("colour", "size")
    assert str(error) == (
        "report parameters: unknown report parameter(s): colour, size; known: n_estimators,"
        " max_depth, min_samples_split, min_samples_leaf, max_features, test_size, cv_folds,"
        " random_state, data_source"
    )


def test_every_named_parameter_names_a_real_key(project):
    settings = report_settings().to_dict()
    for dotted in REPORT_PARAMETERS.values():
        node = settings
        for part in dotted.split("."):
            assert part in node, dotted
            node = node[part]
