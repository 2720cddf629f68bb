"""Titanic survival analysis: data, features, model, report and sweeps as a package."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("titanic")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
