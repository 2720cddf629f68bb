import json
import os
import stat

import pytest

from titanic.io.atomic import atomic_path, write_json, write_text, write_with


def test_write_replaces_the_whole_file(tmp_path):
    target = tmp_path / "out" / "metrics.json"
    write_json(target, {"a": 1})
    write_json(target, {"b": 2})
    assert json.loads(target.read_text()) == {"b": 2}
    assert [path.name for path in target.parent.iterdir()] == ["metrics.json"]


def test_a_failing_writer_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.html"
    write_text(target, "previous report")

    def half_then_fail(handle):
        handle.write(b"<html>half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_with(target, half_then_fail)
    assert target.read_text() == "previous report"
    assert [path.name for path in tmp_path.iterdir()] == ["report.html"]


def test_atomic_path_cleans_up_on_error(tmp_path):
    target = tmp_path / "model.joblib"
    with pytest.raises(ValueError), atomic_path(target) as temporary:
        temporary.write_bytes(b"partial")
        raise ValueError
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_json_refuses_nan(tmp_path):
    with pytest.raises(ValueError):
        write_json(tmp_path / "m.json", {"accuracy": float("nan")})
    assert not (tmp_path / "m.json").exists()


def test_outputs_get_the_usual_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        target = write_text(tmp_path / "report.html", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
