"""Where data files live: the embedded copy, a local folder, an https URL or S3, via fsspec.

The rest of the package only sees :class:`Location`, :func:`read_bytes` and
:func:`storage_errors`; adding a new kind of source never changes the loader's interface.
Credentials never pass through here: s3fs takes them from the environment or AWS's chain, and a
URL that carries any (``https://user:secret@host``) is refused, because ``data.source`` and
``data.endpoint_url`` are written into metrics.json and the report.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import fsspec
import fsspec.asyn
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from fsspec.spec import AbstractFileSystem

from titanic.config import DataSettings
from titanic.errors import DataError, StorageError
from titanic.fingerprint import sha256_hex

logger = logging.getLogger(__name__)

EMBEDDED = "embedded"
ENDPOINT_VARIABLES = ("AWS_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 20
# botocore tries each request this many times. s3fs would repeat timed-out calls on top, in two
# nested loops (retries squared); one try there keeps the longest wait for a silent endpoint at
# BOTO_MAX_ATTEMPTS times the read timeout (40 s), a refused port at a second or two.
BOTO_MAX_ATTEMPTS = 2
S3FS_RETRIES = 1
# Remote files are read this many bytes at a time, so that a size cap stops an endless stream.
CHUNK_BYTES = 1 << 16
# Their DEBUG records print signed request headers, X-Amz-Security-Token included.
TRANSPORT_LOGGERS = ("botocore", "aiobotocore", "s3fs", "fsspec", "aiohttp", "urllib3")
CREDENTIAL_HINT = (
    "check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the environment,"
    " or set data.anonymous: true for a public bucket"
)


class FileFormat(StrEnum):
    """The formats data files are read and pushed in."""

    CSV = "csv"
    PARQUET = "parquet"


@dataclass(frozen=True)
class Location:
    """A folder on some filesystem, and how to name it to a person (never with secrets)."""

    filesystem: AbstractFileSystem
    root: str
    display: str
    kind: str
    endpoint: str | None = None
    max_bytes: int | None = None
    timeout_seconds: float | None = None

    def path_of(self, name: str) -> str:
        """Return the filesystem path of a file in this folder."""
        return f"{self.root.rstrip('/')}/{name}" if self.root else name

    def url_of(self, name: str) -> str:
        """Return the printable address of a file in this folder."""
        return f"{self.display.rstrip('/')}/{name}"

    def describe_endpoint(self) -> str:
        """Return the server this location talks to, for messages and provenance."""
        if self.kind == "s3":
            return self.endpoint or "AWS S3 (default endpoint)"
        if self.kind == "https":
            parts = urlsplit(self.display)
            return f"{parts.scheme}://{parts.netloc}"
        return "local filesystem"


def embedded_data_dir() -> Path:
    """Return the folder of the Kaggle files shipped inside the package."""
    return Path(str(resources.files("titanic") / "data"))


def refuse_credentials_in_url(url: str, key: str) -> None:
    """Refuse a URL with a user name or password in it, naming the key but not the secret.

    Raises
    ------
    DataError
        When ``url`` holds ``user@`` or ``user:password@``.
    """
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        shown = f"{parts.scheme}://***@{parts.hostname or ''}{parts.path}"
        raise DataError(
            f"{key} must not hold credentials ({shown}): they would be written into"
            " metrics.json and the report; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            " in the environment instead"
        )


def s3_endpoint(data: DataSettings) -> str | None:
    """Return the S3 endpoint: params.yaml's, else the first endpoint variable that is set."""
    if data.endpoint_url:
        refuse_credentials_in_url(data.endpoint_url, "data.endpoint_url")
        return data.endpoint_url
    for variable in ENDPOINT_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            # The SSP Cloud sets AWS_S3_ENDPOINT to a bare host name.
            endpoint = value if "://" in value else f"https://{value}"
            refuse_credentials_in_url(endpoint, variable)
            return endpoint
    return None


def s3_filesystem(data: DataSettings) -> AbstractFileSystem:
    """Return an s3fs filesystem; credentials come only from the environment or AWS's chain."""
    client_kwargs: dict[str, str] = {}
    endpoint = s3_endpoint(data)
    if endpoint:
        client_kwargs["endpoint_url"] = endpoint
    filesystem = fsspec.filesystem(
        "s3",
        anon=data.anonymous,
        client_kwargs=client_kwargs,
        config_kwargs={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "read_timeout": READ_TIMEOUT_SECONDS,
            "retries": {"total_max_attempts": BOTO_MAX_ATTEMPTS, "mode": "standard"},
        },
        skip_instance_cache=True,
    )
    filesystem.retries = S3FS_RETRIES
    return filesystem


def http_filesystem(protocol: str) -> AbstractFileSystem:
    """Return an fsspec HTTP filesystem whose connects and reads give up after a bounded wait."""
    import aiohttp  # pylint: disable=import-outside-toplevel  # see remote_errors

    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=CONNECT_TIMEOUT_SECONDS, sock_read=READ_TIMEOUT_SECONDS
    )
    return fsspec.filesystem(
        protocol, client_kwargs={"timeout": timeout}, skip_instance_cache=True
    )


def resolve_location(data: DataSettings, root: Path | None = None) -> Location:
    """Turn ``data.source`` into a :class:`Location`.

    Parameters
    ----------
    data : DataSettings
        The ``data`` section of the parameters.
    root : Path, optional
        Folder that relative local paths start from (the project root); without it they are
        taken as they are.

    Raises
    ------
    DataError
        When the source is of an unknown kind or carries credentials.
    """
    source = data.source.strip()
    if source == EMBEDDED:
        folder = embedded_data_dir()
        return Location(fsspec.filesystem("file"), str(folder), "embedded:titanic/data", EMBEDDED)
    protocol, _, rest = source.partition("://")
    if not rest:
        folder = Path(source).expanduser()
        if not folder.is_absolute():
            folder = root / folder if root else folder
        return Location(
            fsspec.filesystem("file"), str(folder), str(folder), "local", max_bytes=data.max_bytes
        )
    refuse_credentials_in_url(source, "data.source")
    if protocol in {"http", "https"}:
        return Location(
            http_filesystem(protocol),
            source,
            source,
            "https",
            max_bytes=data.max_bytes,
            timeout_seconds=data.timeout_seconds,
        )
    if protocol in {"s3", "s3a"}:
        rest = rest.strip("/")
        return Location(
            s3_filesystem(data),
            rest,
            f"s3://{rest}",
            "s3",
            s3_endpoint(data),
            max_bytes=data.max_bytes,
            timeout_seconds=data.timeout_seconds,
        )
    raise DataError(
        f"unsupported data.source {source!r}: use 'embedded', a folder, https://... or s3://..."
    )


def _is_missing_bucket(err: BaseException) -> bool:
    cause = err.__cause__ or err.__context__
    code = ""
    if isinstance(cause, ClientError):
        code = str(cause.response.get("Error", {}).get("Code", ""))
    return code == "NoSuchBucket" or "bucket does not exist" in str(err)


def translate_error(err: BaseException, url: str, location: Location) -> DataError:
    """Turn an fsspec, s3fs, botocore or aiohttp exception into one clear :class:`DataError`.

    Parameters
    ----------
    err : BaseException
        What the transport raised.
    url : str
        The printable address of the file or folder at fault (never with credentials).
    location : Location
        Where the file lives, for the endpoint it talks to.

    Returns
    -------
    DataError
        A :class:`StorageError` when the server cannot be reached, refuses access or has no
        such bucket; a plain :class:`DataError` for a missing file or a folder.
    """
    endpoint = location.describe_endpoint()
    if isinstance(err, IsADirectoryError):
        return DataError("is a folder, not a data file", url)
    if isinstance(err, FileNotFoundError):
        if location.kind == "s3" and _is_missing_bucket(err):
            bucket = location.root.split("/", 1)[0]
            return StorageError(f"bucket {bucket!r} does not exist on {endpoint}", url)
        return DataError("file not found: check data.source and the file name", url)
    return StorageError(_storage_problem(err, endpoint, location.kind), url)


def remote_errors() -> tuple[type[Exception], ...]:
    """Return the exceptions that reading or writing a location may raise.

    aiohttp is imported only here and for an https location: 0.2 to 0.5 s at the start of
    every command and kernel, that a local or embedded source never needs.
    """
    import aiohttp  # pylint: disable=import-outside-toplevel

    return (OSError, BotoCoreError, ClientError, aiohttp.ClientError)


def _storage_problem(err: BaseException, endpoint: str, kind: str) -> str:
    import aiohttp  # pylint: disable=import-outside-toplevel  # see remote_errors

    if isinstance(err, NoCredentialsError):
        return f"no credentials found for {endpoint}: {CREDENTIAL_HINT}"
    if isinstance(err, PermissionError) or (
        isinstance(err, aiohttp.ClientResponseError) and err.status in {401, 403}
    ):
        return f"access denied by {endpoint} ({err}): {CREDENTIAL_HINT}"
    if isinstance(err, ConnectTimeoutError | ReadTimeoutError | TimeoutError):
        return (
            f"no answer from {endpoint} (gave up after the {CONNECT_TIMEOUT_SECONDS} s connect"
            f" / {READ_TIMEOUT_SECONDS} s read timeout): is the endpoint reachable?"
        )
    if isinstance(err, EndpointConnectionError | aiohttp.ClientConnectorError | ConnectionError):
        where = "data.endpoint_url or AWS_S3_ENDPOINT" if kind == "s3" else "data.source"
        return f"cannot connect to {endpoint}: check {where} and that the server is running"
    if isinstance(err, ClientError):
        code = err.response.get("Error", {}).get("Code", "unknown")
        return f"{endpoint} refused the request ({code})"
    return f"cannot reach the data ({type(err).__name__}: {err})"


@contextmanager
def storage_errors(location: Location, url: str) -> Iterator[None]:
    """Re-raise transport exceptions of the block as :class:`DataError`, chained to the cause."""
    try:
        yield
    except remote_errors() as err:
        raise translate_error(err, url, location) from err


def read_bytes(location: Location, name: str) -> bytes:
    """Read one whole file from a location; a remote file within its size cap and deadline.

    Raises
    ------
    DataError
        When the file does not exist, is a folder, or cannot be read.
    StorageError
        When a remote endpoint cannot be reached, refuses access, or the bucket is missing;
        when a remote file is larger than ``data.max_bytes`` or not read within
        ``data.timeout_seconds``.
    """
    url = location.url_of(name)
    logger.debug("reading %s", url)
    with storage_errors(location, url):
        if location.kind == "local":
            _check_local_file(Path(location.path_of(name)), url, location.max_bytes)
        if location.max_bytes is None or location.timeout_seconds is None:
            return location.filesystem.cat_file(location.path_of(name))
        return fsspec.asyn.sync(
            location.filesystem.loop,
            _read_bounded,
            location.filesystem,
            location.path_of(name),
            url,
            location.max_bytes,
            location.timeout_seconds,
        )


def _check_local_file(path: Path, url: str, max_bytes: int | None) -> None:
    """Refuse a pipe or a device (it may never end) and a file over ``data.max_bytes``."""
    status = path.stat()  # FileNotFoundError and friends are translated by the caller
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(str(path))
    if not stat.S_ISREG(status.st_mode):
        raise DataError("not a regular file (a pipe or a device?): give a data file", url)
    if max_bytes is not None and status.st_size > max_bytes:
        raise DataError(
            f"{status.st_size} bytes, more than data.max_bytes = {max_bytes}; if the file is"
            f" right, raise the limit, e.g. -P data.max_bytes={status.st_size}",
            url,
        )


async def _read_bounded(
    filesystem: AbstractFileSystem, path: str, url: str, max_bytes: int, seconds: float
) -> bytes:
    """Stream a remote file in chunks: stop past ``max_bytes`` or after ``seconds`` in all."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await _read_capped(filesystem, path, url, max_bytes)
    except TimeoutError as err:
        if not deadline.expired():
            raise  # a connect or read timeout of the transport: translated by the caller
        raise StorageError(
            f"not read within data.timeout_seconds = {seconds:g} s (the whole download);"
            f" a slow or stalled server? Raise the limit, e.g. -P data.timeout_seconds="
            f"{2 * seconds:g}",
            url,
        ) from err


async def _read_capped(
    filesystem: AbstractFileSystem, path: str, url: str, max_bytes: int
) -> bytes:
    stream = await filesystem.open_async(path, "rb")
    chunks: list[bytes] = []
    total = 0
    try:
        while chunk := await stream.read(CHUNK_BYTES):
            total += len(chunk)
            if total > max_bytes:
                raise StorageError(
                    f"more than data.max_bytes = {max_bytes} bytes; stopped reading there."
                    f" If the file is right, raise the limit, e.g. -P data.max_bytes="
                    f"{2 * max_bytes}",
                    url,
                )
            chunks.append(chunk)
    finally:
        await stream.close()
        response = getattr(stream, "r", None)  # s3fs's stream leaves its body open
        if response is not None:
            response.close()
    return b"".join(chunks)


def cap_transport_logging(level: int) -> None:
    """Keep the HTTP and S3 libraries at INFO or quieter, whatever the package's log level.

    Their DEBUG records hold signed request headers, session tokens included, so a ``-vv``
    run would otherwise write secrets into its logs.
    """
    for name in TRANSPORT_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.INFO))


def data_fingerprint(data: DataSettings, root: Path | None = None) -> dict[str, str]:
    """Hash the bytes of the training and test files actually found at ``data.source``.

    Raises
    ------
    DataError
        When a file cannot be read.
    """
    location = resolve_location(data, root)
    return {
        name: sha256_hex(read_bytes(location, name)) for name in (data.train_file, data.test_file)
    }
