"""Print the fallback HTML to PDF with headless Chromium, the network off."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from titanic.errors import ReportError
from titanic.processes import run_command

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Return the path of a Chromium or Chrome binary (``$TITANIC_CHROMIUM`` first), or None."""
    configured = os.environ.get("TITANIC_CHROMIUM")
    if configured:
        return shutil.which(configured)
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def print_pdf(html: Path, pdf: Path) -> None:
    """Print an HTML file to PDF with headless Chromium, with the network off.

    Raises
    ------
    ReportError
        When Chromium is missing, fails or writes no PDF.
    """
    chromium = find_chromium()
    if chromium is None:
        raise ReportError("no Chromium on PATH to print the PDF: run `make setup`")
    # The profile lives in the (staging) folder of the page: whatever stops the render, even a
    # kill -9, the next run's removal of stale staging folders takes the profile with it.
    with tempfile.TemporaryDirectory(prefix=".chromium-profile-", dir=html.parent) as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ]
        run_command(command, html.parent, "Chromium --print-to-pdf")
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise ReportError(f"Chromium wrote no PDF to {pdf}")
