"""A papermill engine that also evaluates the prose's inline ``{python}`` expressions.

nbclient skips markdown cells. This engine's client evaluates, at each markdown cell's place
in the notebook, its inline expressions with one ``execute`` request carrying them as
``user_expressions`` (as Quarto's Jupyter engine does), and stores the replies in the cell's
``metadata.user_expressions`` (:mod:`titanic.report.inline`). Import it once papermill is
loaded (:func:`titanic.report.execute.load_papermill`).
"""

from __future__ import annotations

from typing import Any

from nbclient.util import ensure_async, run_sync
from nbformat import NotebookNode
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger as papermill_logger

from titanic.report.inline import USER_EXPRESSIONS, inline_expressions

ENGINE_NAME = "titanic-inline"


class InlineExpressionError(Exception):
    """An inline expression raised, or the kernel did not evaluate it.

    Parameters
    ----------
    line : int or None
        Its line in the report, when the cell records where it starts.
    expression : str
        The expression.
    ename, evalue : str
        The error's name and message.
    """

    def __init__(self, line: int | None, expression: str, ename: str, evalue: str):
        self.line = line
        self.expression = expression
        self.ename = ename
        self.evalue = evalue
        super().__init__(f"line {line}: `{expression}`: {ename}: {evalue}")


class InlineExpressionClient(PapermillNotebookClient):
    """Papermill's client, evaluating each markdown cell's inline expressions in its turn."""

    async def async_execute_cell(
        self,
        cell: NotebookNode,
        cell_index: int,
        execution_count: int | None = None,
        store_history: bool = True,
    ) -> NotebookNode:
        """Execute a code cell, or evaluate a markdown cell's inline expressions.

        Raises
        ------
        InlineExpressionError
            For the first expression of a markdown cell that fails.
        """
        cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if cell.cell_type == "markdown":
            await self._evaluate_inline(cell)
        return cell

    # nbclient's synchronous wrapper calls the coroutine it was made from: made again here.
    execute_cell = run_sync(async_execute_cell)

    async def _evaluate_inline(self, cell: NotebookNode) -> None:
        found = inline_expressions(cell.source)
        cell.metadata.pop(USER_EXPRESSIONS, None)
        if not found or self.kc is None:
            return
        first_line = cell.metadata.get("titanic", {}).get("line")

        def failure(index: int, reply: dict[str, Any]) -> InlineExpressionError:
            offset, expression = found[index]
            line = None if first_line is None else first_line + offset
            return InlineExpressionError(
                line, expression, reply.get("ename", "Error"), reply.get("evalue", "")
            )

        requested = {str(index): expression for index, (_, expression) in enumerate(found)}
        message_id = await ensure_async(self.kc.execute("", user_expressions=requested))
        reply = await self.async_wait_for_reply(message_id, cell)
        content: dict[str, Any] = (
            reply["content"] if reply else {"ename": "Timeout", "evalue": "no reply"}
        )
        if content.get("status") != "ok":
            raise failure(0, content)
        results = []
        for key, expression in requested.items():
            result = content.get(USER_EXPRESSIONS, {}).get(key, {})
            if result.get("status") != "ok":
                raise failure(int(key), result)
            results.append({"expression": expression, "result": result})
        cell.metadata[USER_EXPRESSIONS] = results


class InlineExpressionEngine(NBClientEngine):
    """Papermill's nbclient engine, with :class:`InlineExpressionClient` as its client."""

    @classmethod
    def execute_managed_notebook(  # pylint: disable=too-many-arguments
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        **kwargs: Any,
    ) -> NotebookNode:
        """Execute the managed notebook; the options are those of papermill's own engine."""
        options = {
            name: value
            for name, value in kwargs.items()
            if name not in {"input_path", "timeout", "startup_timeout"}
        }
        client = InlineExpressionClient(
            nb_man,
            timeout=execution_timeout or kwargs.get("timeout"),
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=papermill_logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            **options,
        )
        return client.execute()


def register_engine() -> str:
    """Register the engine with papermill (again is harmless); return its name."""
    papermill_engines.register(ENGINE_NAME, InlineExpressionEngine)
    return ENGINE_NAME
