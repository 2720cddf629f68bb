"""Work that no swept parameter changes, computed once and shared through ``joblib.Memory``.

The report's data loading (parsing and validating each file) and its descriptive tables and
figures depend only on the data's bytes, the package's code and the installed libraries, not
on the model's parameters: every variant of a sweep, and every re-render after a parameter
change, would compute them again. :class:`ContentCache` keeps them in
``<output_dir>/.cache/joblib/`` (``output_dir`` from the parameters, ``_output`` by default).

An entry is keyed on content only: a JSON document naming what is computed, with the sha256
of the data bytes it reads, plus :func:`~titanic.fingerprint.runtime_fingerprint` (every file
of the package, the Python version and every installed distribution's version). Timestamps
never enter a key.
joblib writes each entry to a temporary file and renames it into place, so an interrupted
write leaves no entry (at worst an orphaned temporary file, never read); the value is stored
with its sha256, checked on every load, and computed again when it does not match.
"""

from __future__ import annotations

import logging
import pickle
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import joblib

from titanic.fingerprint import json_sha256, runtime_fingerprint, sha256_hex

logger = logging.getLogger(__name__)

CACHE_DIRNAME = ".cache"
Value = TypeVar("Value")


@dataclass(frozen=True)
class Sealed:
    """A pickled value and the sha256 of its bytes, as stored in the cache."""

    digest: str
    payload: bytes


def cache_folder(output_dir: Path) -> Path:
    """Return the cache folder of an output folder, ``<output_dir>/.cache``.

    joblib keeps its entries in a ``joblib`` folder inside it.
    """
    return output_dir / CACHE_DIRNAME


def content_key(what: str, inputs: Mapping[str, Any]) -> str:
    """Return the sha256 of ``what``, its JSON-ready ``inputs`` and the runtime's fingerprint."""
    return json_sha256({"what": what, "inputs": dict(inputs), "code": runtime_fingerprint()})


def _seal(key: str, compute: Callable[[], Any]) -> Sealed:
    """Compute a value and seal it; memoized by joblib on ``key`` alone."""
    del key  # only joblib reads it, to name the entry
    payload = pickle.dumps(compute(), protocol=pickle.HIGHEST_PROTOCOL)
    return Sealed(sha256_hex(payload), payload)


class ContentCache:
    """A ``joblib.Memory`` whose entries are keyed on content and checked when loaded.

    Parameters
    ----------
    location : Path or None
        The cache folder (:func:`cache_folder`), where joblib writes ``joblib/``; ``None``
        computes every value, caching nothing.
    """

    def __init__(self, location: Path | None):
        self.location = location

    @cached_property
    def _sealed(self) -> Any:
        """Return the memoized :func:`_seal`, made at first use: until then no folder exists."""
        memory = joblib.Memory(None if self.location is None else str(self.location), verbose=0)
        return memory.cache(_seal, ignore=["compute"])

    def get(self, what: str, inputs: Mapping[str, Any], compute: Callable[[], Value]) -> Value:
        """Return ``compute()``, from the cache when an entry for the same content exists.

        Parameters
        ----------
        what : str
            Names the computation, so that two computations on the same inputs never meet.
        inputs : mapping
            Everything ``compute`` reads, as JSON-ready values (e.g. the data's sha256).
        compute : callable
            Computes the value; it must read nothing but what ``inputs`` describes.
        """
        key = content_key(what, inputs)
        with warnings.catch_warnings():
            # joblib warns (on stderr, into the report) when it cannot write or read an entry;
            # either way the value is computed, which is all the caller needs.
            warnings.simplefilter("ignore")
            sealed = self._sealed(key, compute)
            if sha256_hex(sealed.payload) != sealed.digest:
                logger.info("cache entry %s for %s is damaged: computing it again", key, what)
                sealed, _ = self._sealed.call(key, compute)
        # Written by this class into the project's own folder, and its sha256 checked above.
        return pickle.loads(sealed.payload)
