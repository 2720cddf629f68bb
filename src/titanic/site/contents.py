"""What the published site holds: a declared list of names, checked against the output sets.

The same list decides what ``titanic publish`` sends to a folder or to S3 and what the landing
page links to. A model (``model.joblib``, a pickle), the notebooks, logs, resolved parameters,
caches and lock files are never in it; ``--include-models`` adds the models alone.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from titanic.errors import OutputError
from titanic.io.output_sets import MANIFEST, read_manifest, verify
from titanic.project import (
    COMPARISON_FILENAME,
    COMPARISON_TABLE_FILENAME,
    METRICS_FILENAME,
    MODEL_FILENAME,
    REPORT_HTML_FILENAME,
    REPORT_PDF_FILENAME,
    SUMMARY_FILENAME,
    VARIANTS_DIRNAME,
)

logger = logging.getLogger(__name__)

# The site's names: the landing page, then those of the output folder it publishes.
LANDING = "index.html"
REPORT = REPORT_HTML_FILENAME
REPORT_PDF = REPORT_PDF_FILENAME
SUMMARY = SUMMARY_FILENAME
METRICS = METRICS_FILENAME
COMPARISON = f"{VARIANTS_DIRNAME}/{COMPARISON_FILENAME}"
COMPARISON_TABLE = f"{VARIANTS_DIRNAME}/{COMPARISON_TABLE_FILENAME}"
# One output set's published files, by name inside its folder (the report's, each variant's).
SET_FILES = (REPORT, REPORT_PDF, METRICS, SUMMARY, MANIFEST, "figures/*.png")
MODEL_FILES = (MODEL_FILENAME,)
# Every name the site may hold: the landing page, the report's set, the comparison page and
# its table, and each variant's set. ``*`` stands for one path segment.
PUBLISHED = (
    LANDING,
    *SET_FILES,
    COMPARISON,
    COMPARISON_TABLE,
    *(f"{VARIANTS_DIRNAME}/*/{name}" for name in SET_FILES),
)
MODELS = (*MODEL_FILES, *(f"{VARIANTS_DIRNAME}/*/{name}" for name in MODEL_FILES))


def matches(name: str, patterns: Iterable[str]) -> bool:
    """Tell whether ``name`` matches a pattern, segment by segment (``*`` never spans a ``/``)."""
    parts = name.split("/")
    for pattern in patterns:
        pattern_parts = pattern.split("/")
        if len(pattern_parts) == len(parts) and all(
            fnmatchcase(part, wanted) for part, wanted in zip(parts, pattern_parts, strict=True)
        ):
            return True
    return False


def allowed(include_models: bool = False) -> tuple[str, ...]:
    """Return the patterns of the names the site may hold."""
    return (*PUBLISHED, *MODELS) if include_models else PUBLISHED


@dataclass(frozen=True)
class SiteFile:
    """One file of the site: its name (a relative path) and where its bytes are now."""

    name: str
    source: Path


def _set_files(folder: Path, prefix: str, patterns: Sequence[str]) -> list[SiteFile]:
    """Return the published files of one output set, refusing a set that fails its manifest."""
    problem = verify(folder)
    if problem is not None:
        raise OutputError(
            f"{folder}: {problem}; render it again before publishing", path=str(folder)
        )
    manifest = read_manifest(folder) or {"files": {}}
    names = sorted({*manifest["files"], MANIFEST})
    return [
        SiteFile(f"{prefix}{name}", folder / name)
        for name in names
        if matches(f"{prefix}{name}", patterns)
    ]


def compared_variants(folder: Path) -> list[dict[str, str]]:
    """Return the rows of the comparison's summary.csv whose variant has a report.

    Only these variants are linked from the comparison page, so only they are published: a
    folder left by an older sweep, or a failed variant's, is not.
    """
    try:
        text = (folder / COMPARISON_TABLE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as err:
        raise OutputError(f"cannot read {folder / COMPARISON_TABLE}: {err.strerror}") from err
    return [row for row in csv.DictReader(io.StringIO(text)) if row.get("report")]


def site_files(folder: Path, include_models: bool = False) -> list[SiteFile]:
    """List the files of the site an output folder holds (the landing page aside).

    Parameters
    ----------
    folder : Path
        The output folder (``output_dir``), holding a rendered report and perhaps a sweep.
    include_models : bool
        Add each set's ``model.joblib``.

    Returns
    -------
    list of SiteFile
        The report's set, then each compared variant's set and the comparison page.

    Raises
    ------
    OutputError
        When there is no rendered report, or a file differs from its manifest.
    """
    manifest = read_manifest(folder)
    if manifest is None or REPORT not in manifest["files"]:
        raise OutputError(
            f"{folder}: no rendered report: run `titanic render` first", path=str(folder)
        )
    patterns = allowed(include_models)
    files = _set_files(folder, "", patterns)
    variants = compared_variants(folder)
    for row in variants:
        name = row["variant"]
        files += _set_files(
            folder / VARIANTS_DIRNAME / name, f"{VARIANTS_DIRNAME}/{name}/", patterns
        )
    if variants:
        if not (folder / COMPARISON).is_file():
            raise OutputError(
                f"{folder / COMPARISON}: the comparison page is missing: run `titanic sweep`",
                path=str(folder / COMPARISON),
            )
        files += [SiteFile(name, folder / name) for name in (COMPARISON, COMPARISON_TABLE)]
    return files
