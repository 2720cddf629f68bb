"""sha256 fingerprints: the tree hash, the canonical JSON hash and the runtime's fingerprint."""

import hashlib
import sys
from pathlib import Path

from titanic import fingerprint
from titanic.fingerprint import (
    changed_components,
    files_sha256,
    installed_distributions,
    json_sha256,
    key_record,
    runtime_fingerprint,
    sha256_or_absent,
    tree_sha256,
)


def test_tree_hash_covers_names_and_bytes_but_not_byte_code(tmp_path):
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_bytes(b"x = 1\n")
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    (tmp_path / "pkg" / "__pycache__" / "a.lock").write_bytes(b"junk")  # in the cache folder
    (tmp_path / "pkg" / "b.pyc").write_bytes(b"junk")
    file_hash = hashlib.sha256(b"x = 1\n").hexdigest()
    expected = hashlib.sha256(b"a.py\0" + file_hash.encode() + b"\n").hexdigest()
    assert tree_sha256(tmp_path / "pkg") == expected
    assert sha256_or_absent(tmp_path / "missing") == "absent"


def test_the_cache_key_is_the_sha256_of_sorted_compact_json():
    components = {"b": [2, 3], "a": {"y": 1, "x": "é"}}
    canonical = '{"a":{"x":"\\u00e9","y":1},"b":[2,3]}'
    assert json_sha256(components) == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_runtime_fingerprint_covers_the_package_and_the_installed_versions(monkeypatch):
    before = runtime_fingerprint()
    runtime_fingerprint.cache_clear()
    monkeypatch.setattr(fingerprint, "installed_distributions", lambda: ["pandas-0.0.1.dist-info"])
    try:
        assert runtime_fingerprint() != before
    finally:
        runtime_fingerprint.cache_clear()
    assert any(name.startswith("pandas-") for name in installed_distributions())


def test_named_contents_hash_as_the_same_files_in_a_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_bytes(b"b")
    (tmp_path / "a.txt").write_bytes(b"a")
    files = {"sub/b.txt": b"b", "a.txt": b"a"}
    assert files_sha256(files) == tree_sha256(tmp_path)
    assert files_sha256({**files, "a.txt": b"A"}) != tree_sha256(tmp_path)


def test_values_json_cannot_hold_are_hashed_as_their_text():
    canonical = '{"path":"a/b.csv"}'
    assert json_sha256({"path": Path("a/b.csv")}) == hashlib.sha256(canonical.encode()).hexdigest()


def test_installed_distributions_are_the_metadata_folders_on_the_path(tmp_path, monkeypatch):
    for name in ("zeta-1.0.dist-info", "alpha-2.1.egg-info", "alpha", "beta-3.0.data"):
        (tmp_path / name).mkdir()
    (tmp_path / "gamma-1.0.dist-info.txt").write_text("", encoding="utf-8")
    monkeypatch.setattr(sys, "path", ["", str(tmp_path / "missing"), str(tmp_path)])
    assert installed_distributions() == ["alpha-2.1.egg-info", "zeta-1.0.dist-info"]


def test_a_cache_record_holds_the_key_and_a_copy_of_the_components():
    components = {"report": "r1", "parameters": {"model.max_depth": 3}}
    canonical = '{"parameters":{"model.max_depth":3},"report":"r1"}'
    record = key_record(components)
    assert record == {
        "key": hashlib.sha256(canonical.encode()).hexdigest(),
        "components": components,
    }
    assert record["components"] is not components
    assert changed_components(record, components) is None
    assert changed_components(record, {**components, "report": "r2"}) == "report changed"
