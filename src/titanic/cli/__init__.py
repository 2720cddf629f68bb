"""The ``titanic`` command line (see :mod:`titanic.cli.commands`)."""

from titanic.cli.commands import app, main

__all__ = ["app", "main"]
