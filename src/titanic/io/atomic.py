"""Write outputs atomically: a temporary file in the same folder, then one rename.

A crash or an error half-way never leaves a truncated file in place of a previous good one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:  # pandas costs a second to import; only its types are used
    import pandas as pd


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary_path = Path(temporary)
    # mkstemp creates 0600 files; outputs get the usual permissions (0666 less the umask).
    temporary_path.chmod(0o666 & ~_current_umask())
    try:
        yield temporary_path
        os.replace(temporary_path, path)
    finally:
        temporary_path.unlink(missing_ok=True)


def write_with(path: Path, writer: Callable[[BinaryIO], Any]) -> Path:
    """Write ``path`` atomically through ``writer(binary_handle)``."""
    with atomic_path(path) as temporary, temporary.open("wb") as handle:
        writer(handle)
    return path


def write_bytes(path: Path, content: bytes) -> Path:
    """Write bytes atomically."""
    return write_with(path, lambda handle: handle.write(content))


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, document: Any) -> Path:
    """Write a JSON document atomically, indented, keys in insertion order."""
    return write_text(path, json.dumps(document, indent=2, allow_nan=False) + "\n")


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Write a frame as CSV (no index) atomically."""
    return write_text(path, frame.to_csv(index=False))


def write_model(path: Path, model: Any) -> Path:
    """Pickle a fitted model with joblib, atomically."""
    import joblib  # pylint: disable=import-outside-toplevel  # numpy comes with it: 0.25 s

    return write_with(path, lambda handle: joblib.dump(model, handle))
