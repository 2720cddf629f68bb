"""Cache keys of sweep variants: what every variant shares, its parameters and the data bytes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import titanic
from titanic.config import (
    DataSettings,
)
from titanic.io.checksums import file_sha256, sha256_hex
from titanic.io.locations import read_bytes, resolve_location
from titanic.io.output_sets import read_manifest, verify
from titanic.sweep.variants import Variant

PACKAGE_DIR = Path(titanic.__file__).parent
CACHE_FORMAT = 1


# Quarto's project options and the HTML theme's style sheet, beside report.qmd.
TYPESETTING_FILES = ("_quarto.yml", "report.scss")


def sha256_or_absent(path: Path) -> str:
    """Return the hex sha256 of a file's bytes, or ``"absent"`` when it does not exist."""
    return file_sha256(path) if path.is_file() else "absent"


def tree_sha256(folder: Path) -> str:
    """Hash every file under ``folder`` (names and bytes), byte-code caches excepted."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(sha256_or_absent(path).encode() + b"\n")
    return digest.hexdigest()


def source_fingerprint(report: Path, lock_file: Path) -> dict[str, str]:
    """Hash what every variant shares: the report, the package's files and uv.lock.

    The report's component also covers the files beside it that shape the typesetting
    (:data:`TYPESETTING_FILES`); the package's covers its modules and templates.
    """
    report_files = (report, *(report.parent / name for name in TYPESETTING_FILES))
    return {
        "report": sha256_hex("".join(sha256_or_absent(path) for path in report_files).encode()),
        "package": tree_sha256(PACKAGE_DIR),
        "lock": sha256_or_absent(lock_file),
    }


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


def cache_components(
    variant: Variant, sources: Mapping[str, str], data: Mapping[str, str]
) -> dict[str, Any]:
    """Return everything the variant's cache key covers, as one JSON-ready document."""
    return {
        "format": CACHE_FORMAT,
        **sources,
        "parameters": variant.parameters(),
        "data": dict(data),
    }


def cache_key(components: Mapping[str, Any]) -> str:
    """Return the sha256 of the canonical JSON of the key's components."""
    canonical = json.dumps(components, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_cache_record(folder: Path) -> dict[str, Any] | None:
    """Return the cache record in a variant folder's manifest, or ``None`` if there is none."""
    manifest = read_manifest(folder)
    record = manifest.get("cache") if manifest else None
    return record if isinstance(record, dict) else None


def stale_reason(
    record: Mapping[str, Any] | None, components: Mapping[str, Any], folder: Path
) -> str | None:
    """Say why a variant must run (``None``: its outputs are current and intact).

    The cache vouches only for what it can check: the key must match, and every file of the
    variant's manifest must still have the size and sha256 recorded when it was published.

    Returns
    -------
    str or None
        ``"new"``, ``"<component>, ... changed"``, ``"outputs missing: ..."`` or
        ``"outputs changed: ..."``.
    """
    if record is None:
        return "new"
    if record.get("key") != cache_key(components):
        stored = record.get("components", {})
        changed = [name for name in components if stored.get(name) != components[name]]
        return f"{', '.join(changed) or 'key'} changed"
    return verify(folder)
