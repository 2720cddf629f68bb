"""sha256 fingerprints: of bytes, files, folders, JSON documents, the package and its runtime.

Every cache key and every recorded hash of the package is computed here: the sweep's cache, the
report's reuse of an execution, the shared content cache, the output sets' manifests and the
bundles shipped to remote workers.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
CHUNK_BYTES = 1 << 20


def sha256_hex(content: bytes) -> str:
    """Return the hex sha256 of some bytes."""
    return hashlib.sha256(content).hexdigest()


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a local file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_or_absent(path: Path) -> str:
    """Return the hex sha256 of a file's bytes, or ``"absent"`` when it does not exist."""
    return file_sha256(path) if path.is_file() else "absent"


def json_sha256(document: Any) -> str:
    """Return the sha256 of a document's canonical JSON (sorted keys, no spaces).

    Values JSON cannot hold are written as their ``str``.
    """
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return sha256_hex(canonical.encode())


def frames_sha256(frames: Iterable[Any]) -> str:
    """Return the sha256 of pandas tables' contents: names, dtypes, index and every value.

    Each row enters through pandas' own 64-bit row hash (``hash_pandas_object``, seeded with a
    fixed key), so equal contents give the same digest in every process.
    """
    import pandas as pd  # pylint: disable=import-outside-toplevel  # only callers with tables

    digest = hashlib.sha256()
    for frame in frames:
        table = frame.to_frame() if isinstance(frame, pd.Series) else frame
        names = [[str(name), str(dtype)] for name, dtype in table.dtypes.items()]
        digest.update(json.dumps(names).encode() + b"\0")
        digest.update(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def named_sha256(digests: Iterable[tuple[str, str]]) -> str:
    """Return the sha256 of ``(name, hex sha256)`` pairs, in the order given."""
    digest = hashlib.sha256()
    for name, content_digest in digests:
        digest.update(name.encode() + b"\0")
        digest.update(content_digest.encode() + b"\n")
    return digest.hexdigest()


def files_sha256(files: Mapping[str, bytes]) -> str:
    """Return the sha256 of named contents (their names and bytes), as :func:`tree_sha256`."""
    return named_sha256((name, sha256_hex(files[name])) for name in sorted(files))


def tree_sha256(folder: Path) -> str:
    """Hash every file under ``folder`` (names and bytes), byte-code caches excepted."""
    return named_sha256(
        (path.relative_to(folder).as_posix(), file_sha256(path))
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def package_sha256() -> str:
    """Return the :func:`tree_sha256` of the ``titanic`` package's files."""
    return tree_sha256(PACKAGE_DIR)


@lru_cache(maxsize=1)
def runtime_fingerprint() -> str:
    """Return the sha256 of the package's files, the Python version and the installed versions.

    Computed once per process: the package and the environment do not change under a running
    render.
    """
    return json_sha256(
        {
            "python": sys.version,
            "package": package_sha256(),
            "distributions": installed_distributions(),
        }
    )


def installed_distributions() -> list[str]:
    """Return the metadata folders on ``sys.path`` (``pandas-2.3.1.dist-info``...), sorted.

    Their names carry each installed distribution's name and version; listing them costs
    milliseconds, where reading every distribution's metadata costs most of a second.
    """
    folders = (Path(entry) for entry in sys.path if entry and Path(entry).is_dir())
    return sorted(
        path.name
        for folder in folders
        for path in folder.iterdir()
        if path.suffix in {".dist-info", ".egg-info"}
    )


def key_record(components: Mapping[str, Any]) -> dict[str, Any]:
    """Return a cache record: the key (:func:`json_sha256` of the components) and the components.

    The components are kept so that a later mismatch can name the ones that changed.
    """
    return {"key": json_sha256(components), "components": dict(components)}


def changed_components(record: Mapping[str, Any], components: Mapping[str, Any]) -> str | None:
    """Say which components differ from a record's (``None`` when its key is theirs).

    Returns
    -------
    str or None
        ``None``, or ``"<component>, ... changed"`` (``"key changed"`` when none differs).
    """
    if record.get("key") == json_sha256(components):
        return None
    stored = record.get("components", {})
    changed = [name for name in components if stored.get(name) != components[name]]
    return f"{', '.join(changed) or 'key'} changed"
