"""The README and docs/: every relative link resolves, and the blocks marked runnable run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO_ROOT

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
RUNNABLE = re.compile(r"^<!-- runnable -->\n```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def relative_links(page: Path) -> list[str]:
    """The links of a page to files of the repository (not to sites or GitHub's own pages)."""
    return [
        target
        for target in LINK.findall(page.read_text(encoding="utf-8"))
        if not re.match(r"^[a-z]+:", target) and not target.startswith(("../../", "#"))
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_leads_to_a_file(page):
    missing = [
        target
        for target in relative_links(page)
        if not (page.parent / target.split("#")[0]).exists()
    ]
    assert missing == []


def test_the_readme_stays_short_and_has_runnable_blocks():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert RUNNABLE.search(readme)


def runnable_blocks() -> list[tuple[str, str]]:
    return [
        (page.name, block)
        for page in PAGES
        for block in RUNNABLE.findall(page.read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize(("page", "block"), runnable_blocks())
def test_a_runnable_block_runs_in_a_copy_of_the_project(page, block, tmp_path):
    shutil.copyfile(REPO_ROOT / "params.yaml", tmp_path / "params.yaml")
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    completed = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, f"{page}: {block}\n{completed.stderr[-2000:]}"
