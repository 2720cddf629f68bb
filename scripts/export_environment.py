"""Write environment.yml (for conda users) from uv.lock, so both pin the same versions.

Run after every `uv lock`: ``.venv/bin/python scripts/export_environment.py``. With ``--check``
it exits 1 when environment.yml is out of date. Packages go in the ``pip:`` section because the
lock pins PyPI distributions; conda-forge names and builds differ.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "environment.yml"
HEADER = """\
# Generated from uv.lock by scripts/export_environment.py: do not edit by hand.
# conda env create -f environment.yml && conda activate titanic
name: titanic
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
"""


def render() -> str:
    """Return environment.yml's content for the current uv.lock (runtime packages only)."""
    uv = Path(sys.executable).parent / "uv"
    exported = subprocess.run(
        [str(uv if uv.exists() else "uv"), "export", "--frozen", "--no-dev", "--no-hashes",
         "--no-emit-project", "--no-header", "--no-annotate", "--format", "requirements-txt"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = [line.strip() for line in exported.splitlines() if line.strip()]
    requirements = [f'      - "{line}"' if ";" in line else f"      - {line}" for line in lines]
    return HEADER + "\n".join([*requirements, "      - -e ."]) + "\n"


def main() -> int:
    """Write (or with --check, compare) environment.yml."""
    content = render()
    if "--check" in sys.argv[1:]:
        if TARGET.read_text(encoding="utf-8") != content:
            print(
                "environment.yml is out of date: run scripts/export_environment.py",
                file=sys.stderr,
            )
            return 1
        return 0
    TARGET.write_text(content, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
