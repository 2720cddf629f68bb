"""Cache keys of sweep variants: what every variant shares, its parameters and the data bytes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from titanic.fingerprint import (
    changed_components,
    package_sha256,
    sha256_hex,
    sha256_or_absent,
)
from titanic.io.output_sets import read_manifest, verify
from titanic.sweep.variants import Variant

CACHE_FORMAT = 1


# Quarto's project options and the HTML theme's style sheet, beside report.qmd.
TYPESETTING_FILES = ("_quarto.yml", "report.scss")


def source_fingerprint(report: Path, lock_file: Path) -> dict[str, str]:
    """Hash what every variant shares: the report, the package's files and uv.lock.

    The report's component also covers the files beside it that shape the typesetting
    (:data:`TYPESETTING_FILES`); the package's covers its modules and templates.
    """
    report_files = (report, *(report.parent / name for name in TYPESETTING_FILES))
    return {
        "report": sha256_hex("".join(sha256_or_absent(path) for path in report_files).encode()),
        "package": package_sha256(),
        "lock": sha256_or_absent(lock_file),
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
    return changed_components(record, components) or verify(folder)
