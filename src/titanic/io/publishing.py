"""``titanic publish``: the report and the sweep's comparison site, copied to object storage.

Every file is checked against the manifest of its output set before it leaves the machine, sent
with its content type, and each set's ``manifest.json`` goes last, so a reader who finds a
manifest finds every file it lists.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from titanic.config import DataSettings
from titanic.errors import DataError, OutputError
from titanic.fingerprint import sha256_hex
from titanic.io.locations import Location, resolve_location, storage_errors
from titanic.io.output_sets import MANIFEST, read_manifest, verify

logger = logging.getLogger(__name__)

VARIANTS_DIRNAME = "variants"
# The comparison page and its table: written by every sweep, in no set of their own.
SITE_PAGES = ("index.html", "summary.csv")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".ipynb": "application/x-ipynb+json",
    ".csv": "text/csv; charset=utf-8",
    ".log": "text/plain; charset=utf-8",
    ".yaml": "text/yaml; charset=utf-8",
    ".pdf": "application/pdf",
    ".png": "image/png",
}


@dataclass(frozen=True)
class PublishedFile:
    """One uploaded object: its name under the prefix, size, sha256 and content type."""

    name: str
    size: int
    sha256: str
    content_type: str


def content_type(name: str) -> str:
    """Return the content type a browser needs to show ``name``."""
    suffix = Path(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _checked_set(folder: Path, prefix: str) -> list[tuple[str, Path]]:
    """Return a sealed set's files (manifest last), refusing one that fails its manifest."""
    problem = verify(folder)
    if problem is not None:
        raise OutputError(
            f"{folder}: {problem}; render it again before publishing", path=str(folder)
        )
    manifest = read_manifest(folder) or {"files": {}}
    names = [*sorted(manifest["files"]), MANIFEST]
    return [(f"{prefix}{name}", folder / name) for name in names]


def plan_upload(folder: Path) -> list[tuple[str, Path]]:
    """List what ``titanic publish`` uploads from an output folder, in upload order.

    The report's set first, then each sweep variant's set and the comparison page; manifests
    come after the files they list, the report's own manifest last of all.

    Raises
    ------
    OutputError
        When there is no report, or a file differs from its manifest.
    """
    if read_manifest(folder) is None:
        raise OutputError(
            f"{folder}: no rendered report: run `titanic render` first", path=str(folder)
        )
    report = _checked_set(folder, "")
    variants: list[tuple[str, Path]] = []
    site = folder / VARIANTS_DIRNAME
    if site.is_dir():
        for variant in sorted(path for path in site.iterdir() if (path / MANIFEST).is_file()):
            variants += _checked_set(variant, f"{VARIANTS_DIRNAME}/{variant.name}/")
        variants += [
            (f"{VARIANTS_DIRNAME}/{name}", site / name)
            for name in SITE_PAGES
            if (site / name).is_file()
        ]
    return [*report[:-1], *variants, report[-1]]


def reading_url(location: Location, name: str) -> str:
    """Return the https address where a browser reads ``name`` at ``location``."""
    bucket, _, prefix = location.root.partition("/")
    key = f"{prefix.rstrip('/')}/{name}" if prefix else name
    if location.endpoint:
        parts = urlsplit(location.endpoint)
        return f"{parts.scheme}://{parts.netloc}/{bucket}/{key}"
    return f"https://{bucket}.s3.amazonaws.com/{key}"


def publish_outputs(
    folder: Path, destination: str, data: DataSettings
) -> tuple[list[PublishedFile], str]:
    """Upload the report and the comparison site under ``destination`` (``s3://bucket/prefix``).

    Parameters
    ----------
    folder : Path
        The output folder (``output_dir``), holding the rendered report.
    destination : str
        Where to publish: ``s3://bucket/prefix``.
    data : DataSettings
        The endpoint (``data.endpoint_url``) and anonymity settings; credentials come from the
        environment, as for ``titanic data push``.

    Returns
    -------
    tuple of (list of PublishedFile, str)
        The uploaded objects, and the URL of the report.

    Raises
    ------
    DataError
        When the destination is not S3 or refuses the upload.
    OutputError
        When a file differs from its manifest (nothing is uploaded then).
    """
    if not destination.startswith(("s3://", "s3a://")):
        raise DataError(f"cannot publish to {destination!r}: give --to s3://bucket/prefix")
    location = resolve_location(data.model_copy(update={"source": destination}))
    uploads = plan_upload(folder)
    published = []
    for name, path in uploads:
        content = path.read_bytes()
        kind = content_type(name)
        url = location.url_of(name)
        logger.info("uploading %s (%d bytes, %s)", url, len(content), kind)
        with storage_errors(location, url):
            location.filesystem.pipe_file(location.path_of(name), content, ContentType=kind)
        published.append(PublishedFile(name, len(content), sha256_hex(content), kind))
    return published, reading_url(location, "report.html")
