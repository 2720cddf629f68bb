"""The site's landing page: what the analysis asked and found, and a link to every page.

Its text comes from the run's ``summary.json`` (the same sentences as the report's opening
callout) and ``metrics.json`` (where the data came from, which commit ran); when an output
folder has no summary.json the page says the summary is unavailable. It links only to names the
site holds, each by a relative link.
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from titanic.io.atomic import write_text
from titanic.io.output_sets import read_manifest
from titanic.metrics import FLAT_METRIC_NAMES
from titanic.provenance import GitState, utc_timestamp
from titanic.site.contents import (
    COMPARISON,
    COMPARISON_TABLE,
    LANDING,
    METRICS,
    REPORT,
    REPORT_PDF,
    SUMMARY,
    VARIANTS_DIRNAME,
    site_files,
)

logger = logging.getLogger(__name__)

TEMPLATE = "landing.html.j2"
DEFAULT_TITLE = "Titanic survival analysis"
BOLD = re.compile(r"\*\*(.+?)\*\*")
# The columns of the comparison's summary.csv that are not swept parameters.
TABLE_COLUMNS = {"variant", "status", "cached", "seconds", "report", "error", "best",
                 *FLAT_METRIC_NAMES}  # fmt: skip
SUMMARY_TEXT_KEYS = ("title", "question")
ACCURACY_KEYS = ("estimate", "low", "high", "level", "sample_size", "method", "sentence")

# Reads a site name's bytes; ``None`` when the site does not hold it.
Reader = Callable[[str], bytes | None]


def markdown(text: str) -> str:
    """Return a summary sentence as HTML: escaped, with ``**bold**`` as ``<strong>``."""
    return BOLD.sub(r"<strong>\1</strong>", html.escape(str(text)))


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("titanic.site", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["markdown"] = lambda text: markupsafe.Markup(markdown(text))
    return environment


def parse_summary(text: str) -> dict[str, Any]:
    """Check a summary.json document's shape and return it.

    Raises
    ------
    ValueError
        When it is not JSON or a key is missing or of the wrong type, naming the key.
    """
    summary = json.loads(text)
    if not isinstance(summary, dict):
        raise ValueError("not a JSON object")
    for key in SUMMARY_TEXT_KEYS:
        if not isinstance(summary.get(key), str):
            raise ValueError(f"{key}: expected text")
    for key in ("headline", "findings"):
        if not isinstance(summary.get(key), list) or not all(
            isinstance(item, str) for item in summary[key]
        ):
            raise ValueError(f"{key}: expected a list of sentences")
    expected = summary.get("expected_accuracy")
    if not isinstance(expected, dict) or any(key not in expected for key in ACCURACY_KEYS):
        raise ValueError(f"expected_accuracy: expected the keys {', '.join(ACCURACY_KEYS)}")
    return summary


def _read_json(read: Reader, name: str, parse: Callable[[str], Any]) -> Any:
    content = read(name)
    if content is None:
        return None
    try:
        return parse(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        logger.warning("%s: unreadable (%s): the landing page goes without it", name, err)
        return None


def _data_provenance(summary: Mapping[str, Any] | None, metrics: Any) -> dict[str, Any] | None:
    """Return the data's source and files: summary.json's, else metrics.json's record."""
    if summary and isinstance(summary.get("data"), dict):
        return dict(summary["data"])
    data = metrics.get("data") if isinstance(metrics, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return None
    files = [{"role": role, **details} for role, details in data["files"].items()]
    return {"source": data.get("source", ""), "files": files}


def _recorded_git(metrics: Any) -> GitState:
    """Return the git state metrics.json records (no commit when it records none)."""
    provenance = metrics.get("provenance") if isinstance(metrics, dict) else None
    git = provenance.get("git") if isinstance(provenance, dict) else None
    if not isinstance(git, dict):
        return {"commit": None, "dirty": None}
    return {"commit": git.get("commit"), "dirty": git.get("dirty")}


def _number(value: str | None, spread: str | None = None) -> str:
    try:
        shown = f"{float(value or ''):.3f}"
    except ValueError:
        return "-"
    try:
        return f"{shown} ± {float(spread or ''):.3f}" if spread is not None else shown
    except ValueError:
        return shown


@dataclass(frozen=True)
class VariantLink:
    """A variant as the landing page lists it."""

    name: str
    href: str
    values: tuple[str, ...]
    accuracy: str
    cv_accuracy: str
    best: bool


def _variants(read: Reader, site: Collection[str]) -> tuple[list[str], list[VariantLink]]:
    """Return the swept keys and the variants whose report the site holds."""
    content = read(COMPARISON_TABLE)
    if content is None:
        return [], []
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    keys = [column for column in (rows[0] if rows else {}) if column not in TABLE_COLUMNS]
    links = [
        VariantLink(
            name=row["variant"],
            href=f"{VARIANTS_DIRNAME}/{row['report']}",
            values=tuple(row[key] for key in keys),
            accuracy=_number(row.get("accuracy")),
            cv_accuracy=_number(row.get("cv_accuracy_mean"), row.get("cv_accuracy_std")),
            best=row.get("best") == "True",
        )
        for row in rows
        if row.get("report") and f"{VARIANTS_DIRNAME}/{row['report']}" in site
    ]
    return keys, links


def landing_page(
    read: Reader,
    site: Collection[str],
    built_at: str | None = None,
    git: GitState | None = None,
) -> str:
    """Return the landing page of a site.

    Parameters
    ----------
    read : callable
        Returns the bytes of one of the site's files by name, ``None`` when absent.
    site : collection of str
        The names the site holds: the page links to these only.
    built_at : str, optional
        When the page is built (default: now, UTC).
    git : GitState, optional
        The checkout the page is built from; without a commit, the one metrics.json records.

    Returns
    -------
    str
        A self-contained HTML page.
    """
    summary = _read_json(read, SUMMARY, parse_summary) if SUMMARY in site else None
    metrics = _read_json(read, METRICS, json.loads) if METRICS in site else None
    if git is None or not git.get("commit"):
        git = _recorded_git(metrics)
    commit = git.get("commit")
    keys, variants = _variants(read, site)
    command = "make sweep" if variants else "make report"
    links = {
        "report": REPORT,
        "pdf": REPORT_PDF if REPORT_PDF in site else None,
        "comparison": COMPARISON if COMPARISON in site and variants else None,
        "metrics": METRICS if METRICS in site else None,
        "summary": SUMMARY if summary else None,
    }
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            title=(summary or {}).get("title") or DEFAULT_TITLE,
            summary=summary,
            links=links,
            variants=variants,
            variant_keys=keys,
            data=_data_provenance(summary, metrics),
            reproduce=f"git checkout {commit} && {command}" if commit else command,
            commit=commit,
            dirty=bool(git.get("dirty")),
            built_at=built_at or utc_timestamp(),
        )
    )


def folder_reader(folder: Path) -> Reader:
    """Return a :data:`Reader` of the files under ``folder``."""

    def read(name: str) -> bytes | None:
        try:
            return (folder / name).read_bytes()
        except FileNotFoundError:
            return None

    return read


def write_landing(folder: Path, git: GitState | None = None) -> Path | None:
    """Write ``folder/index.html``, the landing page of the site ``folder`` holds, atomically.

    ``git`` is the checkout it is built from (see :func:`landing_page`).

    Returns
    -------
    Path or None
        The page; ``None`` when the folder holds no rendered HTML report to land on.

    Raises
    ------
    OutputError
        When a file of the site differs from its manifest.
    """
    manifest = read_manifest(folder)
    if manifest is None or REPORT not in manifest["files"]:
        logger.info("%s: no HTML report: no landing page", folder)
        return None
    names = {file.name for file in site_files(folder)} | {LANDING}
    return write_text(folder / LANDING, landing_page(folder_reader(folder), names, git=git))
