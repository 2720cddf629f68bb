"""One exception family: the CLI turns any of these into one line on stderr and exit code 1."""

from __future__ import annotations

from collections.abc import Sequence


class TitanicError(Exception):
    """Base class of every error the user can act on."""


class ConfigError(TitanicError):
    """The parameters (params.yaml, --params, -P) are malformed or out of range.

    Parameters
    ----------
    message : str
        What is wrong and where.
    source : str, optional
        The file or option the bad value came from.
    keys : tuple of str
        Dotted keys at fault, e.g. ``("model.n_estimators",)``.
    """

    def __init__(self, message: str, source: str | None = None, keys: tuple[str, ...] = ()):
        self.source = source
        self.keys = keys
        super().__init__(f"{source}: {message}" if source else message)


class DataError(TitanicError):
    """A data file is missing, unreadable, not CSV/Parquet, fails its checksum or its schema.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    location : str, optional
        The file or URL at fault (never with credentials).
    column : str, optional
        The column at fault, when one is.
    """

    def __init__(self, message: str, location: str | None = None, column: str | None = None):
        self.location = location
        self.column = column
        super().__init__(f"{location}: {message}" if location else message)


class StorageError(DataError):
    """Object storage or a remote URL cannot be reached, or refuses access."""


class OutputError(TitanicError):
    """An output folder or file cannot be written, or an output set fails its manifest.

    Parameters
    ----------
    message : str
        What failed, naming the path and the cause.
    path : str, optional
        The file or folder at fault.
    """

    def __init__(self, message: str, path: str | None = None):
        self.path = path
        super().__init__(message)


class Interrupted(KeyboardInterrupt):
    """A signal (SIGTERM, SIGHUP) asked the command to stop, handled like Ctrl-C.

    A :class:`KeyboardInterrupt`, so that the libraries in between (papermill, nbclient,
    subprocess) clean up exactly as they do for Ctrl-C.

    Parameters
    ----------
    signum : int
        The signal's number; the command exits with ``128 + signum``.
    """

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signum)


class ReportError(TitanicError):
    """The report could not be converted, executed or typeset.

    Parameters
    ----------
    message : str
        What failed.
    cell_index : int, optional
        Number of the failing code cell (1-based), when a cell raised.
    """

    def __init__(self, message: str, cell_index: int | None = None):
        self.cell_index = cell_index
        super().__init__(message)


class SweepError(TitanicError):
    """The sweep cannot start, or some of its variants failed.

    Parameters
    ----------
    message : str
        What went wrong, naming the variants at fault.
    failed : tuple of str
        Names of the variants that failed.
    """

    def __init__(self, message: str, failed: tuple[str, ...] = ()):
        self.failed = failed
        super().__init__(message)


class PublishError(TitanicError):
    """``titanic publish`` could not put the site in place; readers still see the earlier one.

    Parameters
    ----------
    message : str
        What failed, naming the object or folder at fault.
    destination : str, optional
        Where the site was being published.
    """

    def __init__(self, message: str, destination: str | None = None):
        self.destination = destination
        super().__init__(message)


class ClusterError(TitanicError):
    """The Dask cluster cannot be reached or started, or a worker refuses a variant.

    Parameters
    ----------
    message : str
        What went wrong, naming the scheduler's address or both sides of a mismatch.
    address : str, optional
        The scheduler's address.
    """

    def __init__(self, message: str, address: str | None = None):
        self.address = address
        super().__init__(message)


def some_of(items: Sequence[str], limit: int = 5, separator: str = ", ") -> str:
    """Join the first few items and count the rest, so that a message stays one short line.

    Examples
    --------
    >>> some_of(["a", "b", "c"], limit=2)
    'a, b and 1 more'
    """
    shown = separator.join(items[:limit])
    more = len(items) - limit
    return f"{shown} and {more} more" if more > 0 else shown
