"""Typeset an executed notebook with ``quarto render`` (Quarto does not re-execute it)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import yaml

from titanic.processes import run_command

QUARTO_FORMATS = {"html": "html", "pdf": "typst"}


def typeset_quarto(executed: Path, formats: Sequence[str], project_config: Path) -> None:
    """Typeset an executed notebook with ``quarto render`` (Quarto does not re-execute it).

    The project's format options are copied beside the notebook, so Quarto renders it as a
    standalone project into the same folder.
    """
    config = (
        yaml.safe_load(project_config.read_text(encoding="utf-8"))
        if (project_config.is_file())
        else {}
    )
    standalone = {key: value for key, value in config.items() if key != "project"}
    standalone["project"] = {"type": "default"}
    (executed.parent / "_quarto.yml").write_text(yaml.safe_dump(standalone), encoding="utf-8")
    command = [
        shutil.which("quarto") or "quarto",
        "render",
        executed.name,
        "--to",
        ",".join(QUARTO_FORMATS[name] for name in formats),
    ]
    run_command(command, executed.parent, "quarto render")
