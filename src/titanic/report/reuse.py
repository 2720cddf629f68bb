"""Re-typeset without re-executing when only the report's prose changed.

A render records, in its output set's manifest, the fingerprint of everything its execution
depended on: the code cells (source and ``#|`` options, in order), the inline ``{python}``
expressions of the prose and their place among the code cells, the package's files,
uv.lock, the resolved parameters, the bytes of the data files and the Python version; the
same fingerprint functions as the sweep's cache (:mod:`titanic.fingerprint`). The prose (the
markdown between cells, the front matter) and the typesetting files are left out: they change
what is typeset, never what is computed.

The next render with the same fingerprint takes the executed code cells from the previous
``report.ipynb``, puts them between the new prose (with the values of its inline expressions),
and carries the files the cells wrote
(metrics.json, the model, the resolved parameters, the figures) into the new set unchanged.
The cache serves only what it can vouch for: the previous set must have been written by a
render, its key must match, and every file carried over must still have the size and sha256
its manifest records.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from titanic.config import Settings
from titanic.fingerprint import (
    changed_components,
    key_record,
    package_sha256,
    sha256_hex,
    sha256_or_absent,
)
from titanic.io.locations import data_fingerprint
from titanic.io.output_sets import check_files, read_manifest
from titanic.project import (
    REPORT_HTML_FILENAME,
    REPORT_NOTEBOOK_FILENAME,
    REPORT_PDF_FILENAME,
    Project,
)
from titanic.report.inline import (
    USER_EXPRESSIONS,
    inline_expressions,
    inline_sequence,
    prose_by_place,
)
from titanic.report.qmd import INJECTED_TAG, PARAMETERS_TAG

# 2: the inline expressions are evaluated, and their values kept in the notebook.
# 3: the report gets its parameters as one resolved file; no other injected value counts.
EXECUTION_FORMAT = 3
RECORD = "execution"
NOTEBOOK = REPORT_NOTEBOOK_FILENAME
# What typesetting writes: made again from the merged notebook, never carried over.
TYPESET = frozenset({REPORT_HTML_FILENAME, REPORT_PDF_FILENAME, NOTEBOOK})


def code_cells_fingerprint(notebook: NotebookNode) -> str:
    """Return the sha256 of the code cells' sources (their ``#|`` options included), in order."""
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    return sha256_hex(json.dumps(sources).encode())


def inline_fingerprint(notebook: NotebookNode) -> str:
    """Return the sha256 of the inline expressions, each with the count of code cells before it."""
    return sha256_hex(json.dumps(inline_sequence(notebook.cells)).encode())


def execution_components(
    project: Project, notebook: NotebookNode, settings: Settings
) -> dict[str, Any]:
    """Return everything the executed cells depend on, as one JSON-ready document.

    Parameters
    ----------
    project : Project
        The project (its uv.lock and root).
    notebook : NotebookNode
        The report converted to a notebook, before execution.
    settings : Settings
        The validated parameters: the report reads all of them, and nothing else papermill
        injects, from the resolved parameters file (the paths injected name the staging
        folder, which changes with every render).

    Raises
    ------
    DataError
        When a data file cannot be read.
    """
    return {
        "format": EXECUTION_FORMAT,
        "code": code_cells_fingerprint(notebook),
        "inline": inline_fingerprint(notebook),
        "package": package_sha256(),
        "lock": sha256_or_absent(project.lock_file),
        "parameters": settings.to_dict(),
        "data": data_fingerprint(settings.data, project.root),
        "python": sys.version,
    }


def execution_record(components: Mapping[str, Any]) -> dict[str, Any]:
    """Return the manifest field that lets the next render reuse this one's execution."""
    return {RECORD: key_record(components)}


def stale_reason(folder: Path, components: Mapping[str, Any]) -> str | None:
    """Say why the previous set in ``folder`` was not made from the same execution inputs.

    Returns
    -------
    str or None
        ``None`` when its key matches, else ``"no previous render"`` or
        ``"<component>, ... changed"``.
    """
    manifest = read_manifest(folder)
    record = manifest.get(RECORD) if manifest else None
    if manifest is None or manifest.get("command") != "render" or not isinstance(record, dict):
        return "no previous render"
    return changed_components(record, components)


def _carry_values(executed: list[NotebookNode], cells: list[NotebookNode]) -> bool:
    """Give the new prose cells the values their expressions had at the same place, in place.

    Returns False when an expression has no stored value at its place.
    """
    values: dict[int, list[Any]] = {}
    for place, cell in prose_by_place(executed):
        values.setdefault(place, []).extend(cell.metadata.get(USER_EXPRESSIONS, []))
    for place, cell in prose_by_place(cells):
        found = [expression for _, expression in inline_expressions(cell.source)]
        stored = values.get(place, [])
        taken, values[place] = stored[: len(found)], stored[len(found) :]
        if [entry.get("expression") for entry in taken] != found:
            return False
        if taken:
            cell.metadata[USER_EXPRESSIONS] = copy.deepcopy(taken)
    return True


def merge_prose(executed: NotebookNode, notebook: NotebookNode) -> NotebookNode | None:
    """Return ``notebook``'s prose with ``executed``'s code cells, or ``None`` if they differ.

    The injected-parameters cell papermill added stays right after the parameters cell; each
    code cell keeps its outputs and execution metadata and takes its new place in the report
    (``metadata.titanic``); the prose cells get the metadata papermill gives them, and the
    values of their inline expressions, which must be those evaluated at the same place.
    """
    injected = [cell for cell in executed.cells if INJECTED_TAG in cell.metadata.get("tags", [])]
    old_code = [
        cell
        for cell in executed.cells
        if cell.cell_type == "code" and INJECTED_TAG not in cell.metadata.get("tags", [])
    ]
    new_code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if len(injected) > 1 or [cell.source for cell in old_code] != [
        cell.source for cell in new_code
    ]:
        return None
    papermill_metadata: Mapping[str, Any] = next(
        (
            {"papermill": cell.metadata["papermill"]}
            for cell in executed.cells
            if cell.cell_type == "markdown" and "papermill" in cell.metadata
        ),
        {},
    )
    cells: list[NotebookNode] = []
    reused = iter(old_code)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            merged = copy.deepcopy(cell)
            for key, value in papermill_metadata.items():
                merged.metadata.setdefault(key, copy.deepcopy(value))
            cells.append(merged)
            continue
        merged = copy.deepcopy(next(reused))
        merged.metadata["titanic"] = dict(cell.metadata["titanic"])
        cells.append(merged)
        if PARAMETERS_TAG in cell.metadata.get("tags", []):
            cells.extend(copy.deepcopy(injected))
    if not _carry_values(executed.cells, cells):
        return None
    result = copy.deepcopy(executed)
    result.cells = cells
    return result


def _copy_checked(previous: Path, staging: Path, files: Mapping[str, Any]) -> str | None:
    """Copy the previous set's files into ``staging``; say which are missing or changed.

    The copies, not the originals, are checked against the manifest, so that a set published
    meanwhile by another process cannot slip in unchecked.
    """
    for name in files:
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(previous / name, target)
        except FileNotFoundError:
            continue  # reported as missing below
    return check_files(staging, files)


def reuse_execution(
    previous: Path, staging: Path, notebook: NotebookNode, components: Mapping[str, Any]
) -> str | None:
    """Stage the previous render's executed cells with the new prose, if it can be vouched for.

    On success ``staging`` holds the merged ``report.ipynb`` and, unchanged, every file the
    previous set's cells wrote (metrics.json, the model, the resolved parameters, figures);
    on failure nothing is left there.

    Parameters
    ----------
    previous : Path
        The folder holding the previous output set.
    staging : Path
        The new set's staging folder.
    notebook : NotebookNode
        The report converted to a notebook.
    components : mapping
        This render's :func:`execution_components`.

    Returns
    -------
    str or None
        Why the previous execution cannot be reused, or ``None`` when it was.
    """
    reason = stale_reason(previous, components)
    manifest = read_manifest(previous)
    if reason is not None or manifest is None:
        return reason or "no previous render"
    files = {
        name: entry
        for name, entry in manifest["files"].items()
        if name not in TYPESET or name == NOTEBOOK
    }
    if NOTEBOOK not in files:
        return f"outputs missing: {NOTEBOOK}"
    reason = _copy_checked(previous, staging, files)
    merged = None
    if reason is None:
        merged = merge_prose(nbformat.read(staging / NOTEBOOK, as_version=4), notebook)
        reason = (
            "code cells or inline expressions differ from the previous notebook's"
            if merged is None
            else None
        )
    if merged is None:
        for name in files:
            (staging / name).unlink(missing_ok=True)
        return reason
    nbformat.write(merged, staging / NOTEBOOK)
    return None
