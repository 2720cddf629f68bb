import subprocess

from titanic.provenance import git_state, package_versions, run_metadata


def git(folder, *args):
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def test_git_state_tracks_commit_and_dirty_flag(tmp_path):
    assert git_state(tmp_path) == {"commit": None, "dirty": None}
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    state = git_state(tmp_path)
    assert len(state["commit"]) == 40 and state["dirty"] is False
    (tmp_path / "a.txt").write_text("two")
    assert git_state(tmp_path)["dirty"] is True


def test_versions_name_the_stack():
    versions = package_versions()
    assert versions["python"].startswith("3.")
    assert versions["scikit-learn"] and versions["pandas"] and versions["titanic"]
    assert package_versions(("no-such-package-xyz",))["no-such-package-xyz"] is None


def test_run_metadata_has_a_utc_timestamp(tmp_path):
    metadata = run_metadata(tmp_path)
    assert metadata["timestamp"].endswith("+00:00")
    assert set(metadata) == {"git", "versions", "timestamp"}


def test_untracked_files_make_the_tree_dirty_but_ignored_ones_do_not(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("_output/\n")
    git(tmp_path, "add", ".gitignore")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    (tmp_path / "_output").mkdir()
    (tmp_path / "_output" / "metrics.json").write_text("{}")
    assert git_state(tmp_path)["dirty"] is False
    (tmp_path / "extra_params.yaml").write_text("model: {}")
    assert git_state(tmp_path)["dirty"] is True
