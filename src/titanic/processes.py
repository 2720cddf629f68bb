"""Child processes the package starts (Quarto, Chromium): run with a deadline, fail clearly."""

from __future__ import annotations

import subprocess
from pathlib import Path

from titanic.errors import ReportError

COMMAND_TIMEOUT_SECONDS = 180


def run_command(command: list[str], cwd: Path, what: str) -> None:
    """Run ``command`` in ``cwd``; raise a :class:`ReportError` naming ``what`` when it fails."""
    try:
        completed = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ReportError(f"{what} failed: {err}") from err
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
        raise ReportError(f"{what} exited with code {completed.returncode}: {' '.join(detail)}")
