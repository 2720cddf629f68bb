"""sha256 of bytes and files, and ``sha256sum``-format checksum files."""

from __future__ import annotations

import hashlib
from pathlib import Path

from titanic.errors import DataError

CHECKSUMS = "SHA256SUMS"
CHUNK_BYTES = 1 << 20


def sha256_hex(content: bytes) -> str:
    """Return the hex sha256 of some bytes."""
    return hashlib.sha256(content).hexdigest()


def parse_checksums(text: str, url: str) -> dict[str, str]:
    """Parse ``sha256sum`` output (``<hex>  <name>`` lines) into a name-to-digest mapping."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        digest, _, name = line.partition(" ")
        if len(digest) != 64 or not name.strip():
            raise DataError(f"line {number} is not '<sha256>  <name>'", url)
        sums[name.strip().lstrip("*")] = digest.lower()
    return sums


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a local file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
