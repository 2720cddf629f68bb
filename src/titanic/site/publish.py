"""``titanic publish``: the site, to a folder or to S3, all or nothing, also over an earlier one.

What is published is the declared list of :mod:`titanic.site.contents`, each file checked
against its output set's manifest before anything leaves the machine. The destination holds::

    index.html               the pointer: sends a reader to the live version; written last
    versions/<id>/           one complete site per publish: index.html (the landing page),
                             report.html, report.pdf, figures/, metrics.json, summary.json,
                             manifest.json, variants/...; then site.json, listing every file

A publish writes a new version under a prefix no one reads yet, then the pointer, in one
request (S3) or one rename (folder). Whatever fails or is killed before the pointer leaves
readers on the complete earlier version; after it, on the complete new one. A version is never
written to again.

Pruning, once the pointer has moved: every version but the new one and the one it replaced is
deleted (the one it replaced stays until the next publish, so that a reader who opened it a
moment before can still follow its links); so are versions left unfinished by a failed or killed
publish, and the files of a site published flat before versions existed. One publisher at a
time per destination.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError, EndpointConnectionError

from titanic.config import DataSettings
from titanic.errors import OutputError, PublishError
from titanic.fingerprint import sha256_hex
from titanic.io.atomic import write_bytes
from titanic.io.locations import Location, remote_errors, resolve_location
from titanic.io.output_sets import MANIFEST, new_run_id
from titanic.provenance import GitState
from titanic.site.contents import LANDING, VARIANTS_DIRNAME, SiteFile, site_files
from titanic.site.landing import landing_page
from titanic.site.navigation import with_navigation

logger = logging.getLogger(__name__)

POINTER = "index.html"
VERSIONS_DIRNAME = "versions"
VERSION_MANIFEST = "site.json"
# What a flat site's manifest may not take with it: the pointer and the versions.
OURS = (POINTER, VERSIONS_DIRNAME)
VERSION_PATTERN = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
POINTER_META = re.compile(rb'<meta name="titanic-site-version" content="([^"]+)">')
UNSURE_POINTER = (
    "readers see the earlier site or the new one, each complete; publish again to be sure"
)
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".pdf": "application/pdf",
    ".png": "image/png",
}


@dataclass(frozen=True)
class PublishedFile:
    """One published file: its name in the version, size, sha256 and content type."""

    name: str
    size: int
    sha256: str
    content_type: str


@dataclass(frozen=True)
class PublishResult:
    """What a publish did: the live version, its files, where to read it, what it pruned."""

    version: str
    files: tuple[PublishedFile, ...]
    url: str
    previous: str | None
    pruned: tuple[str, ...]


def content_type(name: str) -> str:
    """Return the content type a browser needs to show ``name``."""
    suffix = Path(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def new_version_id() -> str:
    """Return a fresh version id that sorts by the time it was made (UTC)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{new_run_id()[:8]}"


def pointer_page(version: str) -> bytes:
    """Return the root page that sends a reader to ``version``'s landing page."""
    target = f"{VERSIONS_DIRNAME}/{version}/{LANDING}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        # An empty icon: without one a browser asks the server's root for /favicon.ico.
        '<link rel="icon" href="data:,">\n'
        f'<meta name="titanic-site-version" content="{version}">\n'
        f'<meta http-equiv="refresh" content="0; url={target}">\n'
        "<title>Titanic survival analysis</title></head>\n"
        f'<body><p><a href="{target}">Open the Titanic survival analysis</a></p></body></html>\n'
    ).encode()


def pointed_version(pointer: bytes | None) -> str | None:
    """Return the version a pointer page sends readers to, ``None`` for no or another page."""
    found = POINTER_META.search(pointer or b"")
    version = found.group(1).decode() if found else None
    return version if version and VERSION_PATTERN.match(version) else None


def _cause(err: BaseException) -> str:
    """Say why a request failed, in a few words."""
    if isinstance(err, ClientError):
        return f"refused ({err.response.get('Error', {}).get('Code', 'unknown')})"
    if isinstance(err, EndpointConnectionError | ConnectionError):
        return f"connection failed ({err})"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return f"{type(err).__name__}: {err}"


class Destination(ABC):
    """Where a site is published: a folder or an S3 prefix, named by ``display``."""

    display: str

    @abstractmethod
    def write(self, name: str, content: bytes, cache_control: str) -> None:
        """Write one object (a whole object or nothing)."""

    @abstractmethod
    def read(self, name: str) -> bytes | None:
        """Return one object's bytes, ``None`` when it does not exist."""

    @abstractmethod
    def children(self, name: str) -> list[str]:
        """Return the names of the entries directly under ``name`` (a folder or prefix)."""

    @abstractmethod
    def remove(self, name: str) -> None:
        """Remove an object, or a folder or prefix with everything under it."""

    @abstractmethod
    def reading_url(self, name: str) -> str:
        """Return where a browser reads ``name``."""

    def url_of(self, name: str) -> str:
        """Return the printable address of ``name``."""
        return f"{self.display.rstrip('/')}/{name}"

    @contextmanager
    def failing_as(
        self, doing: str, name: str, outcome: str = "the published site is unchanged"
    ) -> Iterator[None]:
        """Turn a transport or filesystem error of the block into one :class:`PublishError`."""
        try:
            yield
        except remote_errors() as err:
            raise PublishError(
                f"{doing} failed: {self.url_of(name)}: {_cause(err)}; {outcome}",
                self.display,
            ) from err


class FolderDestination(Destination):
    """A local folder: GitHub Pages' artifact, or a site to open from disk."""

    def __init__(self, root: Path):
        self.root = root
        self.display = str(root)

    def write(self, name: str, content: bytes, cache_control: str) -> None:
        """Write the file atomically: a temporary file beside it, then one rename."""
        del cache_control  # a folder has no such header
        write_bytes(self.root / name, content)

    def read(self, name: str) -> bytes | None:
        """Return the file's bytes, ``None`` when it does not exist."""
        try:
            return (self.root / name).read_bytes()
        except FileNotFoundError:
            return None

    def children(self, name: str) -> list[str]:
        """Return the names in a subfolder, none when it does not exist."""
        folder = self.root / name
        return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []

    def remove(self, name: str) -> None:
        """Remove a file, or a folder with everything in it."""
        path = self.root / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    def reading_url(self, name: str) -> str:
        """Return the file's path, which a browser opens as it is."""
        return str(self.root / name)


class S3Destination(Destination):
    """An S3 prefix (``s3://bucket/prefix``); credentials come from the environment."""

    def __init__(self, location: Location):
        self.location = location
        self.display = location.display

    def write(self, name: str, content: bytes, cache_control: str) -> None:
        """PUT one object with its content type and caching rule (S3 stores it whole or not)."""
        self.location.filesystem.pipe_file(
            self.location.path_of(name),
            content,
            ContentType=content_type(name),
            CacheControl=cache_control,
        )

    def read(self, name: str) -> bytes | None:
        """GET one object, ``None`` when there is none."""
        try:
            content: bytes = self.location.filesystem.cat_file(self.location.path_of(name))
        except FileNotFoundError:
            return None
        return content

    def children(self, name: str) -> list[str]:
        """List the prefixes and objects directly under a prefix (not from a cached listing)."""
        path = self.location.path_of(name)
        self.location.filesystem.invalidate_cache(path)
        try:
            entries = self.location.filesystem.ls(path, detail=False)
        except FileNotFoundError:
            return []
        return sorted(str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in entries)

    def remove(self, name: str) -> None:
        """Delete one object, or every object under a prefix."""
        path = self.location.path_of(name)
        filesystem = self.location.filesystem
        filesystem.invalidate_cache(path)
        if filesystem.isdir(path):
            filesystem.rm(path, recursive=True)
        elif filesystem.exists(path):
            filesystem.rm_file(path)

    def reading_url(self, name: str) -> str:
        """Return the https address of an object, at the endpoint or on AWS."""
        bucket, _, prefix = self.location.root.partition("/")
        key = f"{prefix.rstrip('/')}/{name}" if prefix else name
        if self.location.endpoint:
            parts = urlsplit(self.location.endpoint)
            return f"{parts.scheme}://{parts.netloc}/{bucket}/{key}"
        return f"https://{bucket}.s3.amazonaws.com/{key}"


def open_destination(destination: str, data: DataSettings, folder: Path) -> Destination:
    """Return the destination ``--to`` names: ``s3://bucket/prefix`` or a local folder.

    Raises
    ------
    PublishError
        When none is given, or the folder is the output folder or holds something else.
    """
    if not destination.strip():
        raise PublishError("give --to s3://bucket/prefix or --to FOLDER")
    if destination.startswith(("s3://", "s3a://")):
        return S3Destination(resolve_location(data.model_copy(update={"source": destination})))
    if "://" in destination:
        raise PublishError(
            f"cannot publish to {destination!r}: give s3://bucket/prefix or a folder"
        )
    root = Path(destination).expanduser().resolve()
    if root == folder.resolve() or folder.resolve() in root.parents:
        raise PublishError(
            f"{root}: publish into a folder outside the output folder {folder}", str(root)
        )
    if root.is_file():
        raise PublishError(f"{root} is a file, not a folder", str(root))
    target = FolderDestination(root)
    leftovers = [name for name in target.children("") if name not in (POINTER, VERSIONS_DIRNAME)]
    if leftovers and pointed_version(target.read(POINTER)) is None:
        raise PublishError(
            f"{root} holds other files ({', '.join(leftovers[:3])}) and no published site:"
            " choose a new or empty folder",
            str(root),
        )
    return target


def assemble(files: Sequence[SiteFile], git: GitState | None = None) -> dict[str, bytes]:
    """Return the site's files by name: the landing page first, the pages with their links bar."""
    names = {file.name for file in files} | {LANDING}
    contents: dict[str, bytes] = {}
    for file in files:
        try:
            content = file.source.read_bytes()
        except OSError as err:
            raise OutputError(
                f"cannot read {file.source}: {err.strerror}", str(file.source)
            ) from err
        if file.name.endswith(".html"):
            content = with_navigation(file.name, content, names)
        contents[file.name] = content

    return {LANDING: landing_page(contents.get, names, git=git).encode(), **contents}


def _version_manifest(version: str, published: Sequence[PublishedFile]) -> dict[str, Any]:
    return {
        "format": 1,
        "version": version,
        "files": {
            file.name: {
                "sha256": file.sha256,
                "size": file.size,
                "content_type": file.content_type,
            }
            for file in published
        },
    }


def _stale(target: Destination, keep: set[str]) -> list[str]:
    """Return the versions not in ``keep``, and a flat site's files (a site before versions)."""
    stale = [
        f"{VERSIONS_DIRNAME}/{name}"
        for name in target.children(VERSIONS_DIRNAME)
        if name not in keep
    ]
    manifest = target.read(MANIFEST)
    if manifest is not None:
        try:
            listed = json.loads(manifest).get("files", {})
        except (ValueError, AttributeError):
            listed = {}
        flat = [str(name) for name in listed if str(name).split("/", 1)[0] not in OURS]
        stale += [MANIFEST, *flat, VARIANTS_DIRNAME]
    return stale


def _prune(target: Destination, keep: set[str]) -> list[str]:
    """Remove what :func:`_stale` names; a failure only warns (the next publish retries)."""
    pruned: list[str] = []
    try:
        stale = _stale(target, keep)
    except remote_errors() as err:
        logger.warning("could not list what to prune at %s: %s", target.display, _cause(err))
        return pruned
    for name in stale:
        try:
            target.remove(name)
        except remote_errors() as err:
            logger.warning(
                "could not remove %s (%s): the next publish removes it",
                target.url_of(name),
                _cause(err),
            )
            continue
        if name.startswith(f"{VERSIONS_DIRNAME}/"):
            pruned.append(name.removeprefix(f"{VERSIONS_DIRNAME}/"))
    return pruned


def publish_site(
    folder: Path,
    destination: str,
    data: DataSettings,
    include_models: bool = False,
    git: GitState | None = None,
) -> PublishResult:
    """Publish the site an output folder holds to a folder or an S3 prefix, all or nothing.

    Parameters
    ----------
    folder : Path
        The output folder (``output_dir``), holding the rendered report (and perhaps a sweep).
    destination : str
        ``s3://bucket/prefix`` or a local folder.
    data : DataSettings
        The S3 endpoint (``data.endpoint_url``) and anonymity settings; credentials come from
        the environment, as for ``titanic data push``.
    include_models : bool
        Publish each set's ``model.joblib`` too.
    git : GitState, optional
        The checkout publishing, which the landing page names.

    Returns
    -------
    PublishResult
        The new live version, its files, where to read it and the versions pruned.

    Raises
    ------
    OutputError
        When there is no report or a file differs from its manifest (nothing is sent then).
    PublishError
        When a write fails: readers still see the earlier site, complete.
    """
    contents = assemble(site_files(folder, include_models), git)
    target = open_destination(destination, data, folder)
    with target.failing_as("reading the published site", POINTER):
        previous = pointed_version(target.read(POINTER))
    version = new_version_id()
    prefix = f"{VERSIONS_DIRNAME}/{version}/"
    published = []
    for name, content in contents.items():
        with target.failing_as("upload", prefix + name):
            target.write(prefix + name, content, IMMUTABLE)
        published.append(
            PublishedFile(name, len(content), sha256_hex(content), content_type(name))
        )
        logger.info("uploaded %s (%d bytes)", target.url_of(prefix + name), len(content))
    with target.failing_as("upload", prefix + VERSION_MANIFEST):
        target.write(
            prefix + VERSION_MANIFEST,
            (json.dumps(_version_manifest(version, published), indent=2) + "\n").encode(),
            IMMUTABLE,
        )
    # The server may have stored the pointer before the answer was lost: either site, complete.
    with target.failing_as("upload", POINTER, UNSURE_POINTER):
        target.write(POINTER, pointer_page(version), NO_CACHE)
    pruned = _prune(target, {version} if previous is None else {version, previous})
    return PublishResult(
        version, tuple(published), target.reading_url(POINTER), previous, tuple(pruned)
    )
