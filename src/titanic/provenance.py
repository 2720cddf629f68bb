"""What produced an output: git commit and dirty flag, Python and package versions, time."""

from __future__ import annotations

import json
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TypedDict

KEY_PACKAGES = (
    "titanic",
    "numpy",
    "pandas",
    "pandera",
    "scikit-learn",
    "matplotlib",
    "pydantic",
    "fsspec",
    "s3fs",
    "papermill",
    "nbconvert",
)

# A project shipped to a Dask worker has no checkout: the client's git state travels in it.
SHIPPED_GIT_STATE = ".titanic-git-state.json"


class GitState(TypedDict):
    """The commit checked out (``None`` outside git) and whether the work tree differs from it."""

    commit: str | None
    dirty: bool | None


def git_state(root: Path) -> GitState:
    """Return the commit checked out in ``root`` and whether the work tree differs from it.

    Both are ``None`` outside a git checkout or when git is not installed. A project shipped to
    a worker reports the state its client recorded in :data:`SHIPPED_GIT_STATE`.
    """
    shipped = root / SHIPPED_GIT_STATE
    if shipped.is_file():
        recorded = json.loads(shipped.read_text(encoding="utf-8"))
        return {"commit": recorded["commit"], "dirty": recorded["dirty"]}

    def git(*args: str) -> str | None:
        try:
            completed = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return completed.stdout.strip()

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    # Untracked files count (a new params file changes what a run does); ignored ones do not.
    status = git("status", "--porcelain")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str | None]:
    """Return the installed version of each package (``None`` when absent)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def utc_timestamp() -> str:
    """Return the current UTC time in ISO 8601, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def run_metadata(root: Path) -> dict[str, object]:
    """Return git state, versions and a timestamp for an output's ``provenance`` field."""
    return {"git": git_state(root), "versions": package_versions(), "timestamp": utc_timestamp()}
