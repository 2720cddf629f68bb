"""Typeset an executed notebook with ``quarto render`` (Quarto does not re-execute it)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import yaml

from titanic.processes import run_command
from titanic.report.qmd import front_matter, set_front_matter

QUARTO_FORMATS = {"html": "html", "pdf": "typst"}


def project_options(project_config: Path) -> dict[str, Any]:
    """Return the document options of ``_quarto.yml`` (all but ``project``), or ``{}``.

    Theme files (``.scss``) are made absolute, so that they resolve from any folder.
    """
    if not project_config.is_file():
        return {}
    config = yaml.safe_load(project_config.read_text(encoding="utf-8")) or {}
    html = config.get("format", {}).get("html")
    if isinstance(html, dict) and "theme" in html:
        themes = html["theme"] if isinstance(html["theme"], list) else [html["theme"]]
        html["theme"] = [
            str(project_config.parent / theme) if str(theme).endswith(".scss") else theme
            for theme in themes
        ]
    return {key: value for key, value in config.items() if key != "project"}


def typeset_quarto(executed: Path, formats: Sequence[str], project_config: Path) -> None:
    """Typeset an executed notebook with ``quarto render`` (Quarto does not re-execute it).

    The options of ``_quarto.yml`` (``format``, ``execute``) are merged into the notebook's own
    front matter, the document's keys winning. A ``_quarto.yml`` copied beside the notebook
    would not do: Quarto skips hidden paths when it lists a project's files, so in the hidden
    staging folder the notebook is no project file and the whole project file is ignored
    (no ``embed-resources``, theme, table of contents, nor ``echo: false`` in the PDF).

    Parameters
    ----------
    executed : Path
        The executed notebook; report.html and report.pdf are written beside it.
    formats : sequence of str
        ``"html"`` and/or ``"pdf"`` (Typst).
    project_config : Path
        The project's ``_quarto.yml``.
    """
    targets = [QUARTO_FORMATS[name] for name in formats]
    options = project_options(project_config)
    if isinstance(options.get("format"), dict):
        # Quarto links each format the document declares from the HTML page ("Other
        # formats"): a format not typeset now would be a broken link (a sweep's HTML-only pages).
        options["format"] = {
            name: value for name, value in options["format"].items() if name in targets
        }
    notebook = nbformat.read(executed, as_version=4)
    set_front_matter(notebook, {**options, **front_matter(notebook)})
    nbformat.write(notebook, executed)
    command = [
        shutil.which("quarto") or "quarto",
        "render",
        executed.name,
        "--to",
        ",".join(targets),
    ]
    run_command(command, executed.parent, "quarto render")
