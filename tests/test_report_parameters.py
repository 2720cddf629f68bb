"""The report's named parameters: overrides, unknown names refused, the layer order."""

import pytest

from titanic.errors import ConfigError
from titanic.report_parameters import report_overrides, report_settings

from .conftest import REPO_ROOT


def test_report_parameters_become_overrides_and_unknown_ones_are_refused():
    overrides = report_overrides(max_depth=None, n_estimators=50, data_source="s3://b/t")
    assert overrides == ["model.n_estimators=50", 'data.source="s3://b/t"']
    with pytest.raises(ConfigError) as caught:
        report_overrides(size=1, colour="red", cv_folds=3)
    assert caught.value.keys == ("colour", "size")
    assert str(caught.value) == (
        "report parameters: unknown report parameter(s): colour, size; known: n_estimators,"
        " max_depth, min_samples_split, min_samples_leaf, max_features, test_size, cv_folds,"
        " random_state, data_source"
    )


def test_report_settings_apply_files_then_overrides_then_named_parameters(tmp_path, monkeypatch):
    (tmp_path / "params.yaml").write_text((REPO_ROOT / "params.yaml").read_text())
    (tmp_path / "extra.yaml").write_text("model:\n  n_estimators: 3\n  max_depth: 2\n")
    monkeypatch.chdir(tmp_path)
    settings = report_settings(
        overrides=["model.n_estimators=4", "split.cv_folds=3"],
        extra_files=["extra.yaml"],
        n_estimators=5,
        max_depth=None,
    )
    assert settings.model.n_estimators == 5
    assert settings.model.max_depth == 2
    assert settings.split.cv_folds == 3
