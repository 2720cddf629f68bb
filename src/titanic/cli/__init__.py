"""The ``titanic`` command line (see :mod:`titanic.cli.commands`).

This module stays light: ``main`` installs the signal handlers before the command line's
stack (typer, rich, pydantic, pandas) is imported, so Ctrl-C or SIGTERM during those seconds
of start-up ends the command quietly, as it does later, instead of with a traceback.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from typing import Any

from titanic.errors import Interrupted

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI (the ``titanic`` console script and ``python -m titanic``).

    SIGTERM (``docker stop``, a cancelled CI job) and SIGHUP (a closed terminal) stop a command
    the way Ctrl-C does: its processes ended, nothing half-published.
    """
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _interrupt)
    try:
        from titanic.cli.commands import app  # pylint: disable=import-outside-toplevel
    except KeyboardInterrupt as err:  # Interrupted included: nothing has started yet
        signum = err.signum if isinstance(err, Interrupted) else signal.SIGINT
        sys.stderr.write(f"interrupted ({signal.Signals(signum).name}) while starting\n")
        raise SystemExit(128 + signum) from None
    app(args=list(argv) if argv is not None else None, prog_name="titanic")


def __getattr__(name: str) -> Any:
    """Load the typer application on first use (``from titanic.cli import app``)."""
    if name == "app":
        from titanic.cli.commands import app  # pylint: disable=import-outside-toplevel

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "main"]
