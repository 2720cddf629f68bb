"""Where data files live: the embedded copy, a local folder, an https URL or S3, via fsspec.

The rest of the package only sees :class:`Location` and :func:`read_bytes`; adding a new kind of
source never changes the loader's interface.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import fsspec
from fsspec.spec import AbstractFileSystem

from titanic.config import DataSettings, find_project_root
from titanic.errors import DataError, StorageError

logger = logging.getLogger(__name__)

EMBEDDED = "embedded"
ENDPOINT_VARIABLES = ("AWS_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Location:
    """A folder on some filesystem, and how to name it to a person (never with secrets)."""

    filesystem: AbstractFileSystem
    root: str
    display: str
    kind: str

    def path_of(self, name: str) -> str:
        """Return the filesystem path of a file in this folder."""
        return f"{self.root.rstrip('/')}/{name}" if self.root else name

    def url_of(self, name: str) -> str:
        """Return the printable address of a file in this folder."""
        return f"{self.display.rstrip('/')}/{name}"


def embedded_data_dir() -> Path:
    """Return the folder of the Kaggle files shipped inside the package."""
    return Path(str(resources.files("titanic") / "data"))


def s3_endpoint(data: DataSettings) -> str | None:
    """Return the S3 endpoint: params.yaml's, else the first endpoint variable that is set."""
    if data.endpoint_url:
        return data.endpoint_url
    for variable in ENDPOINT_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            # The SSP Cloud sets AWS_S3_ENDPOINT to a bare host name.
            return value if "://" in value else f"https://{value}"
    return None


def s3_filesystem(data: DataSettings) -> AbstractFileSystem:
    """Return an s3fs filesystem; credentials come only from the environment or AWS's chain."""
    client_kwargs: dict[str, str] = {}
    endpoint = s3_endpoint(data)
    if endpoint:
        client_kwargs["endpoint_url"] = endpoint
    return fsspec.filesystem(
        "s3",
        anon=data.anonymous,
        client_kwargs=client_kwargs,
        config_kwargs={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "read_timeout": READ_TIMEOUT_SECONDS,
            "retries": {"max_attempts": 2, "mode": "standard"},
        },
        skip_instance_cache=True,
    )


def resolve_location(data: DataSettings, root: Path | None = None) -> Location:
    """Turn ``data.source`` into a :class:`Location`.

    Parameters
    ----------
    data : DataSettings
        The ``data`` section of the parameters.
    root : Path, optional
        Folder that relative local paths start from; the project root by default.
    """
    source = data.source.strip()
    if source == EMBEDDED:
        folder = embedded_data_dir()
        return Location(fsspec.filesystem("file"), str(folder), "embedded:titanic/data", EMBEDDED)
    protocol, _, rest = source.partition("://")
    if not rest:
        folder = Path(source).expanduser()
        if not folder.is_absolute():
            folder = (root or find_project_root()) / folder
        return Location(fsspec.filesystem("file"), str(folder), str(folder), "local")
    if protocol in {"http", "https"}:
        return Location(fsspec.filesystem(protocol), source, source, "https")
    if protocol in {"s3", "s3a"}:
        return Location(s3_filesystem(data), rest, f"s3://{rest}", "s3")
    raise DataError(
        f"unsupported data.source {source!r}: use 'embedded', a folder, https://... or s3://..."
    )


def read_bytes(location: Location, name: str) -> bytes:
    """Read one whole file from a location.

    Raises
    ------
    DataError
        When the file does not exist, is a folder, or cannot be read.
    StorageError
        When a remote endpoint cannot be reached or refuses access.
    """
    url = location.url_of(name)
    logger.debug("reading %s", url)
    try:
        with location.filesystem.open(location.path_of(name), "rb") as handle:
            return handle.read()
    except FileNotFoundError as err:
        raise DataError("file not found: check data.source and the file name", url) from err
    except IsADirectoryError as err:
        raise DataError("is a folder, not a data file", url) from err
    except PermissionError as err:
        raise StorageError("access denied: check the credentials in the environment", url) from err
    except OSError as err:
        raise StorageError(f"cannot read ({type(err).__name__}: {err})", url) from err
