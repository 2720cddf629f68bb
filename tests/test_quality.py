"""The house rules that tools can check: ruff (lint and format) clean, pylint 9.5/10 or better,
mypy clean on src/."""

import re
import subprocess
import sys
from pathlib import Path

from .conftest import REPO_ROOT

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)


def test_ruff_lint_is_clean():
    result = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout


def test_ruff_format_is_clean():
    result = run(str(BIN / "ruff"), "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout


def test_pylint_scores_at_least_9_5():
    result = run(str(BIN / "pylint"), "--score=y", "src/titanic", "main.py")
    score = re.search(r"rated at (-?[\d.]+)/10", result.stdout)
    assert score, result.stdout + result.stderr
    assert float(score.group(1)) >= 9.5, result.stdout


def test_mypy_finds_no_type_errors():
    result = run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_the_readme_s_layout_lists_every_module_of_the_package_and_no_other():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("\nsrc/titanic/\n") : readme.index("\ntests/ ")]
    listed = set(re.findall(r"^  ([a-z_/]+\.py) ", layout, re.MULTILINE))
    package = REPO_ROOT / "src" / "titanic"
    modules = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if path.name != "__init__.py"
    }
    assert sorted(modules - listed) == [], "modules missing from the README's layout"
    assert sorted(listed - modules) == [], "the README's layout lists modules that do not exist"
