"""``sha256sum``-format checksum files (``SHA256SUMS``)."""

from __future__ import annotations

from titanic.errors import DataError

CHECKSUMS = "SHA256SUMS"


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
