"""The ``titanic data`` jobs: push the data to object storage, pull it back, list what is there.

Every copy is checked with sha256. A SHA256SUMS file travels beside the data (``push`` writes it,
``pull`` verifies against it, ``ls`` compares with it), in the format of ``sha256sum``.
"""

from __future__ import annotations

import io
import logging
import os
import posixpath
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from titanic.config import DataSettings
from titanic.errors import DataError, StorageError
from titanic.fingerprint import file_sha256, sha256_hex
from titanic.io.checksums import CHECKSUMS, parse_checksums
from titanic.io.locations import (
    EMBEDDED,
    FileFormat,
    Location,
    read_bytes,
    resolve_location,
    storage_errors,
)
from titanic.io.tables import parse_table

logger = logging.getLogger(__name__)

EMBEDDED_FILES = ("train.csv", "test.csv")


@dataclass(frozen=True)
class StoredFile:
    """One file at a location: its address, size and sha256 (and the one SHA256SUMS expects)."""

    name: str
    url: str
    size: int
    sha256: str
    expected_sha256: str | None = None

    @property
    def status(self) -> str:
        """Return ``ok``, ``MISMATCH`` or ``unlisted`` against the SHA256SUMS entry."""
        if self.expected_sha256 is None:
            return "unlisted"
        return "ok" if self.expected_sha256 == self.sha256 else "MISMATCH"


def format_checksums(sums: dict[str, str]) -> bytes:
    """Return a SHA256SUMS file's bytes, names sorted."""
    return "".join(f"{sums[name]}  {name}\n" for name in sorted(sums)).encode("ascii")


def read_checksums(location: Location) -> dict[str, str]:
    """Return the SHA256SUMS of a location, or an empty mapping when it has none.

    Raises
    ------
    DataError
        When the location cannot be reached (a missing bucket included) or the file is malformed.
    """
    try:
        content = read_bytes(location, CHECKSUMS)  # within data.max_bytes and its deadline
    except StorageError:
        raise
    except DataError as err:
        if isinstance(err.__cause__, FileNotFoundError):
            return {}
        raise
    return parse_checksums(content.decode("ascii", errors="replace"), location.url_of(CHECKSUMS))


def convert(
    content: bytes, name: str, file_format: FileFormat | None, url: str
) -> tuple[str, bytes]:
    """Return the file's name and bytes in ``file_format`` (unchanged when already in it).

    Parameters
    ----------
    content : bytes
        The file as read.
    name : str
        Its name; the extension tells its format.
    file_format : FileFormat, optional
        The wanted format; ``None`` keeps the file as it is.
    url : str
        Where it was read, for error messages.
    """
    stem, extension = posixpath.splitext(name)
    if file_format is None or extension.lower() == f".{file_format.value}":
        return name, content
    frame = parse_table(content, name, url)
    buffer = io.BytesIO()
    if file_format is FileFormat.PARQUET:
        frame.to_parquet(buffer, index=False, engine="pyarrow")
    else:
        buffer.write(frame.to_csv(index=False).encode("utf-8"))
    return f"{stem}.{file_format.value}", buffer.getvalue()


def push(
    data: DataSettings,
    destination: str | None = None,
    from_dir: Path | None = None,
    file_format: FileFormat | None = None,
    root: Path | None = None,
) -> list[StoredFile]:
    """Upload the embedded data (or ``from_dir``'s copy) and a SHA256SUMS beside it.

    Parameters
    ----------
    data : DataSettings
        Endpoint and anonymity; ``data.source`` is the destination unless ``destination`` is set,
        and ``data.train_file``/``data.test_file`` name the files of ``from_dir``.
    destination : str, optional
        ``s3://bucket/prefix`` or a folder.
    from_dir : Path, optional
        A local copy to upload instead of the embedded one.
    file_format : FileFormat, optional
        Convert to CSV or Parquet first; ``None`` uploads the files unchanged.
    root : Path, optional
        The project root, where a relative destination folder starts.

    Returns
    -------
    list of StoredFile
        The uploaded data files.

    Raises
    ------
    DataError
        When a source file is missing or unreadable, or the destination refuses the upload.
    """
    target_source = destination or data.source
    if target_source.strip() in {EMBEDDED, ""} or target_source.startswith(("http:", "https:")):
        raise DataError(
            f"cannot push to {target_source!r}: give --to s3://bucket/prefix (or a folder),"
            " or set data.source to one"
        )
    target = resolve_location(data.model_copy(update={"source": target_source}), root)
    if from_dir is None:
        origin = resolve_location(data.model_copy(update={"source": EMBEDDED}))
        names: Iterable[str] = EMBEDDED_FILES
    else:
        origin = resolve_location(data.model_copy(update={"source": str(from_dir)}))
        names = (data.train_file, data.test_file)
    uploads = []
    for name in names:
        url = origin.url_of(name)
        uploads.append(convert(read_bytes(origin, name), name, file_format, url))
    if target.kind == "local":
        Path(target.root).mkdir(parents=True, exist_ok=True)
    sums = read_checksums(target)
    pushed = []
    for name, content in uploads:
        pushed.append(_upload(target, name, content))
        sums[name] = pushed[-1].sha256
    # SHA256SUMS last: a reader never finds a checksum for data that is not there yet.
    _upload(target, CHECKSUMS, format_checksums(sums))
    return pushed


def _upload(target: Location, name: str, content: bytes) -> StoredFile:
    url = target.url_of(name)
    logger.info("uploading %s (%d bytes)", url, len(content))
    with storage_errors(target, url):
        target.filesystem.pipe_file(target.path_of(name), content)
    digest = sha256_hex(content)
    return StoredFile(name, url, len(content), digest, digest)


def pull(
    data: DataSettings, destination: Path, verify: bool = True, root: Path | None = None
) -> list[StoredFile]:
    """Download the train and test files of ``data.source`` into a folder, checked with sha256.

    Each file goes to a temporary name first; only when every file matches its checksum are
    they renamed into place, so a failure leaves the folder as it was.

    Parameters
    ----------
    data : DataSettings
        The source; the expected checksums come from ``data.sha256``, else from the source's
        SHA256SUMS.
    destination : Path
        The local folder (created when missing).
    verify : bool
        Refuse files without an expected checksum; ``False`` only records what arrived.
    root : Path, optional
        The project root, where a relative local ``data.source`` starts.

    Raises
    ------
    DataError
        On a missing file or bucket, an unreachable endpoint, refused access, or a checksum
        mismatch; naming the URL.
    """
    location = resolve_location(data, root)
    expected = dict(read_checksums(location))
    expected.update(data.sha256 or {})
    names = (data.train_file, data.test_file)
    if verify and (missing := [name for name in names if name not in expected]):
        raise DataError(
            f"no sha256 to verify {', '.join(missing)} against: the source has no SHA256SUMS"
            " entry and data.sha256 is not set (push with `titanic data push`, set"
            " data.sha256, or pass --no-verify)",
            location.display,
        )
    created = not destination.exists()
    destination.mkdir(parents=True, exist_ok=True)
    temporaries: dict[str, Path] = {}
    try:
        pulled = [
            _download(location, name, destination, temporaries, expected.get(name))
            for name in names
        ]
        local_sums = read_checksums(
            resolve_location(data.model_copy(update={"source": str(destination)}))
        )
        local_sums.update({file.name: file.sha256 for file in pulled})
        temporaries[CHECKSUMS] = _temporary(destination, CHECKSUMS)
        temporaries[CHECKSUMS].write_bytes(format_checksums(local_sums))
        for name, temporary in temporaries.items():
            os.replace(temporary, destination / name)
    finally:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)
        if created and not any(destination.iterdir()):
            destination.rmdir()
    return pulled


def _temporary(folder: Path, name: str) -> Path:
    handle, path = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(handle)
    # mkstemp creates 0600 files; the data should get the usual permissions once renamed.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
    return Path(path)


def _download(
    location: Location,
    name: str,
    folder: Path,
    temporaries: dict[str, Path],
    expected_sha256: str | None,
) -> StoredFile:
    url = location.url_of(name)
    temporary = temporaries[name] = _temporary(folder, name)
    logger.info("downloading %s", url)
    with storage_errors(location, url):
        location.filesystem.get_file(location.path_of(name), str(temporary))
    digest = file_sha256(temporary)
    if expected_sha256 and digest != expected_sha256:
        raise DataError(
            f"sha256 mismatch: expected {expected_sha256}, got {digest}; nothing was written",
            url,
        )
    return StoredFile(name, url, temporary.stat().st_size, digest, expected_sha256)


def list_files(data: DataSettings, root: Path | None = None) -> list[StoredFile]:
    """List the files of ``data.source`` with their size and sha256 (each one is read).

    A relative local ``data.source`` starts at ``root``, the project root, when given.

    Raises
    ------
    DataError
        When the location is empty or missing, or cannot be reached.
    """
    location = resolve_location(data, root)
    with storage_errors(location, location.display):
        entries = location.filesystem.ls(location.root, detail=True)
    files = sorted(
        (entry for entry in entries if entry.get("type") == "file"), key=lambda e: e["name"]
    )
    if not files:
        raise DataError(
            "no files here: check data.source (or push with `titanic data push`)", location.display
        )
    sums = read_checksums(location)
    listed = []
    for entry in files:
        name = posixpath.basename(entry["name"].rstrip("/"))
        content = read_bytes(location, name)
        listed.append(
            StoredFile(
                name, location.url_of(name), len(content), sha256_hex(content), sums.get(name)
            )
        )
    return listed
