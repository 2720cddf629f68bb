"""Execute the report's notebook with papermill, naming the failing cell on an error."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from titanic.errors import ReportError
from titanic.project import REPORT_NOTEBOOK_FILENAME
from titanic.report.kernels import StandbyKernelManager
from titanic.report.qmd import KERNEL_NAME, split_options

# When it is imported, papermill imports every storage backend installed beside it (boto3 for
# S3, pyarrow for HDFS, gcsfs, azure, PyGithub), seconds of work for files the report never
# reads: the report's notebooks are local files.
UNUSED_PAPERMILL_BACKENDS = ("boto3", "pyarrow", "gcsfs", "azure", "github")


def load_papermill() -> ModuleType:
    """Import papermill with its remote storage backends hidden; return the module.

    Papermill catches their ``ImportError`` and then handles local paths only. The backends
    stay importable by other code: they are hidden only while papermill loads.
    """
    if "papermill" in sys.modules:
        return sys.modules["papermill"]
    hidden = [name for name in UNUSED_PAPERMILL_BACKENDS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail
    try:
        return importlib.import_module("papermill")
    finally:
        for name in hidden:
            if sys.modules.get(name, sys) is None:
                del sys.modules[name]


def _first_code_line(source: str) -> str:
    _, code = split_options(source)
    return next((line.strip() for line in code.splitlines() if line.strip()), "")


def _failing_cell(notebook: NotebookNode, source: str) -> tuple[int | None, int | None]:
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source == source:
            info = cell.metadata.get("titanic", {})
            return info.get("cell"), info.get("line")
    return None, None


def _timed_out_cell(notebook: NotebookNode, message: str) -> NotebookNode | None:
    """Find the cell that nbclient's timeout message previews (its source, or first lines)."""
    for cell in notebook.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        head = str(cell.source.strip().split("\n")[:5])
        if f"\n{cell.source}\n" in message or f"\n{head}\n" in message:
            return cell
    return None


def execute_report(
    notebook: NotebookNode,
    staging: Path,
    parameters: dict[str, Any],
    origin: str,
    cell_timeout: int,
    progress: bool,
    cwd: Path,
) -> Path:
    """Execute the notebook with papermill into ``staging/report.ipynb``.

    The inline ``{python}`` expressions of the prose are evaluated at their place, and their
    values stored in the markdown cells' metadata as Quarto stores them
    (:mod:`titanic.report.engine`).

    Raises
    ------
    ReportError
        Naming the failing cell (number in the report and line) and its first line of code,
        or the failing inline expression and its line.
    """
    papermill = load_papermill()
    # Both need papermill, loaded just above.
    from papermill.exceptions import (  # pylint: disable=import-outside-toplevel
        PapermillExecutionError,
    )

    from titanic.report.engine import (  # pylint: disable=import-outside-toplevel
        InlineExpressionError,
        register_engine,
    )

    source_path = staging / "report.source.ipynb"
    executed_path = staging / REPORT_NOTEBOOK_FILENAME
    nbformat.write(notebook, source_path)
    try:
        papermill.execute_notebook(
            str(source_path),
            str(executed_path),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            engine_name=register_engine(),
            progress_bar=progress,
            request_save_on_cell_execute=False,
            execution_timeout=cell_timeout,
            cwd=str(cwd),
            # A sweep worker's standby kernel when there is one, else a launched kernel.
            kernel_manager_class=StandbyKernelManager,
            # The kernel's own log (TCP transport notice, shutdown interrupt) is noise here.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except PapermillExecutionError as err:
        number, line = _failing_cell(notebook, err.source)
        where = f"cell {number} (line {line})" if number else f"cell [{err.exec_count}]"
        raise ReportError(
            f"{origin}: {where} failed: `{_first_code_line(err.source)}`:"
            f" {err.ename}: {err.evalue}",
            number,
        ) from err
    except InlineExpressionError as err:
        raise ReportError(
            f"{origin}: inline expression on line {err.line} failed: `{err.expression}`:"
            f" {err.ename}: {err.evalue}"
        ) from err
    except CellTimeoutError as err:
        cell = _timed_out_cell(notebook, str(err))
        if cell is None:
            where, number = "a cell", None
        else:
            number = cell.metadata["titanic"]["cell"]
            where = f"cell {number} (line {cell.metadata['titanic']['line']})"
            where += f" `{_first_code_line(cell.source)}`"
        raise ReportError(
            f"{origin}: {where} ran longer than the {cell_timeout} s cell timeout;"
            " raise it with --cell-timeout",
            number,
        ) from err
    except DeadKernelError as err:
        raise ReportError(f"{origin}: the kernel died during execution ({err})") from err
    finally:
        source_path.unlink(missing_ok=True)
    return executed_path
