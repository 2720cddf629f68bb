"""Output sets: staged, sealed with a manifest, published whole or not at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from titanic.errors import OutputError
from titanic.io import output_sets
from titanic.io.output_sets import (
    MANIFEST,
    OutputSet,
    check_writable_folder,
    read_manifest,
    remove_stale,
    verify,
)

OWNED = ("report.html", "report.pdf", "metrics.json", "figures/*.png")


def publish_set(folder: Path, files: dict[str, str], command: str = "render") -> OutputSet:
    with OutputSet(folder, command, {"files": sorted(files)}, owned=OWNED) as output:
        for name, text in files.items():
            (output.path / name).parent.mkdir(parents=True, exist_ok=True)
            (output.path / name).write_text(text, encoding="utf-8")
    return output


def visible(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in folder.rglob("*")
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(folder).parts)
    }


def test_a_set_is_published_with_a_manifest_of_every_file(tmp_path):
    publish_set(tmp_path, {"report.html": "<html>1", "figures/a.png": "png"})
    manifest = read_manifest(tmp_path)
    assert manifest["command"] == "render"
    assert set(manifest["files"]) == {"report.html", "figures/a.png"}
    assert manifest["files"]["report.html"]["size"] == len("<html>1")
    assert verify(tmp_path) is None
    assert not list(tmp_path.glob(".staging-*"))


def test_a_file_the_new_set_lacks_is_removed_not_left_posing(tmp_path):
    publish_set(tmp_path, {"report.html": "<html>1", "report.pdf": "%PDF 1", "metrics.json": "1"})
    published = publish_set(tmp_path, {"report.html": "<html>2", "metrics.json": "2"}).published
    assert visible(tmp_path) == {
        "report.html": "<html>2",
        "metrics.json": "2",
        MANIFEST: (tmp_path / MANIFEST).read_text(),
    }
    assert published.removed == ("report.pdf",)


def test_files_of_other_sets_and_of_the_user_are_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "variants").mkdir()
    (tmp_path / "variants" / "index.html").write_text("sweep", encoding="utf-8")
    publish_set(tmp_path, {"report.html": "<html>1"})
    publish_set(tmp_path, {"metrics.json": "2"})
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "variants" / "index.html").read_text() == "sweep"


def test_an_error_while_building_leaves_the_previous_set_and_no_staging(tmp_path):
    publish_set(tmp_path, {"report.html": "<html>1", "metrics.json": "1"})
    before = visible(tmp_path)
    with pytest.raises(RuntimeError), OutputSet(tmp_path, "run", {}, owned=OWNED) as output:
        (output.path / "metrics.json").write_text("2", encoding="utf-8")
        raise RuntimeError("a figure failed")
    assert visible(tmp_path) == before
    assert not list(tmp_path.glob(".staging-*"))


def test_a_move_failing_half_way_puts_the_previous_set_back(tmp_path, monkeypatch):
    publish_set(tmp_path, {"report.html": "<html>1", "report.pdf": "%PDF 1", "metrics.json": "1"})
    before = visible(tmp_path)
    real_replace = os.replace
    moved = []

    def failing_replace(source, destination):
        # Let the backups and the first new file through, then fail like a full disk.
        if ".staging-" in str(source) and ".staging-" not in str(destination):
            moved.append(destination)
            if len(moved) == 2:
                raise OSError(28, "No space left on device", str(destination))
        real_replace(source, destination)

    monkeypatch.setattr(output_sets.os, "replace", failing_replace)
    with pytest.raises(OutputError, match="No space left on device"):
        publish_set(tmp_path, {"report.html": "<html>2", "metrics.json": "2"})
    monkeypatch.undo()
    assert visible(tmp_path) == before
    assert verify(tmp_path) is None
    assert not list(tmp_path.glob(".backup-*")) and not (tmp_path / output_sets.JOURNAL).exists()


def test_a_publish_killed_half_way_is_undone_by_the_next_run(tmp_path):
    publish_set(tmp_path, {"report.html": "<html>1", "metrics.json": "1"})
    before = visible(tmp_path)
    # A child process publishes a new set and is killed (os._exit) after the first move in.
    script = f"""
import os, sys
from pathlib import Path
from titanic.io import output_sets
real = os.replace
count = []
def replace(a, b):
    real(a, b)
    if ".staging-" in str(a) and ".staging-" not in str(b):  # a move into the folder
        count.append(b)
        if len(count) == 1:
            os._exit(9)
output_sets.os.replace = replace
with output_sets.OutputSet(Path({str(tmp_path)!r}), "run", {{}}, owned={OWNED!r}) as out:
    (out.path / "report.html").write_text("<html>2")
    (out.path / "metrics.json").write_text("2")
"""
    killed = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert killed.returncode == 9
    assert (tmp_path / output_sets.JOURNAL).exists()
    assert visible(tmp_path) != before  # mixed until the next run looks at it
    remove_stale(tmp_path)
    assert visible(tmp_path) == before
    assert verify(tmp_path) is None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".staging-", ".backup-"))]


def test_staging_folders_of_dead_runs_are_removed_those_of_live_runs_kept(tmp_path):
    dead = tmp_path / ".staging-dead"
    dead.mkdir(parents=True)
    (dead / "report.html").write_text("half", encoding="utf-8")
    with OutputSet(tmp_path, "run", {}) as live:
        remove_stale(tmp_path)
        assert live.path.is_dir()
        assert not dead.exists()
        (live.path / "metrics.json").write_text("1", encoding="utf-8")


def test_an_unwritable_output_folder_is_refused_before_anything_is_made(tmp_path):
    a_file = tmp_path / "taken"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_writable_folder(a_file / "out")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputError, match="dangling symbolic link"):
        check_writable_folder(link)
    assert check_writable_folder(tmp_path / "new" / "out") == tmp_path / "new" / "out"
    assert not (tmp_path / "new").exists()


def test_a_manifest_that_lies_is_caught(tmp_path):
    publish_set(tmp_path, {"metrics.json": json.dumps({"accuracy": 0.8})})
    (tmp_path / "metrics.json").write_text(json.dumps({"accuracy": 0.99}), encoding="utf-8")
    assert verify(tmp_path) == "outputs changed: metrics.json"
    (tmp_path / MANIFEST).write_text("{", encoding="utf-8")
    assert verify(tmp_path) == "no manifest"


def test_staging_folders_of_older_versions_are_removed(tmp_path):
    legacy = tmp_path / ".render-abc123"
    legacy.mkdir()
    (legacy / "report.html").write_text("half", encoding="utf-8")
    remove_stale(tmp_path)
    assert not legacy.exists()
