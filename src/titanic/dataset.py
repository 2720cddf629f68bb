"""Load the Kaggle train/test files from the configured source, check their sha256 and schema."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from pandera.errors import SchemaErrors

from titanic.config import DataSettings
from titanic.errors import DataError
from titanic.fingerprint import sha256_hex
from titanic.io.checksums import CHECKSUMS, parse_checksums
from titanic.io.locations import EMBEDDED, Location, read_bytes, resolve_location
from titanic.io.tables import parse_table
from titanic.schema.columns import SCHEMAS, TARGET, Role

if TYPE_CHECKING:
    from titanic.io.memo import ContentCache

logger = logging.getLogger(__name__)

MAX_REPORTED_FAILURES = 3


@dataclass(frozen=True)
class DataFile:
    """What was read: where from, its sha256 and its size."""

    role: Role
    url: str
    sha256: str
    rows: int
    columns: int


@dataclass(frozen=True)
class Dataset:
    """The validated training and test frames and where they came from."""

    train: pd.DataFrame
    test: pd.DataFrame
    source: str
    files: tuple[DataFile, ...]
    endpoint: str = "local filesystem"

    @property
    def train_url(self) -> str:
        """Return where the training file was read from, for messages."""
        return next((file.url for file in self.files if file.role == "train"), self.source)

    def provenance(self) -> dict[str, object]:
        """Return the source, the server it was read from and per-file checksums."""
        return {
            "source": self.source,
            "endpoint": self.endpoint,
            "files": {
                file.role: {
                    "url": file.url,
                    "sha256": file.sha256,
                    "rows": file.rows,
                    "columns": file.columns,
                }
                for file in self.files
            },
        }


def embedded_checksums(location: Location) -> dict[str, str]:
    """Read the SHA256SUMS file shipped beside the embedded data."""
    content = read_bytes(location, CHECKSUMS).decode("ascii", errors="replace")
    return parse_checksums(content, location.url_of(CHECKSUMS))


def _first_failures(cases: pd.DataFrame) -> str:
    shown = []
    for _, case in cases.head(MAX_REPORTED_FAILURES).iterrows():
        index = case["index"]
        where = f"row {int(index) + 1}" if pd.notna(index) else "column"
        shown.append(f"{where} ({case['failure_case']!r})")
    more = len(cases) - MAX_REPORTED_FAILURES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def describe_schema_errors(error: SchemaErrors) -> tuple[str, str | None]:
    """Summarise pandera's failure cases as one line; also return the first bad column."""
    cases = error.failure_cases
    problems: list[str] = []
    first_column: str | None = None
    missing = cases[cases["check"] == "column_in_dataframe"]["failure_case"].tolist()
    if missing:
        problems.append("missing column(s) " + ", ".join(map(str, missing)))
        first_column = str(missing[0])
    per_column = cases[cases["check"] != "column_in_dataframe"].dropna(subset=["column"])
    coerce_failed = set(per_column[per_column["check"].str.startswith("coerce_dtype")]["column"])
    for (column, check), group in per_column.groupby(["column", "check"], sort=False):
        # A column whose dtype coercion failed also fails every later check: report the cause.
        if column in coerce_failed and not str(check).startswith("coerce_dtype"):
            continue
        first_column = first_column or str(column)
        check_text = str(check).replace("coerce_dtype", "expected dtype")
        problems.append(f"column {column!r} fails {check_text} at {_first_failures(group)}")
    return "; ".join(problems), first_column


def validate_table(frame: pd.DataFrame, role: Role, url: str) -> pd.DataFrame:
    """Check columns, dtypes, ranges and unique ids; return the frame with coerced dtypes.

    Rows are numbered from 1, the header not counted.

    Raises
    ------
    DataError
        Naming the file, the column(s) and the first bad rows.
    """
    if role == "test" and TARGET in frame.columns:
        raise DataError(
            f"the test file must not carry the label column {TARGET!r}: is it the training file?",
            url,
            column=TARGET,
        )
    if frame.empty:
        raise DataError("the file has a header but no rows", url)
    try:
        validated = SCHEMAS[role].validate(frame, lazy=True)
    except SchemaErrors as err:
        message, column = describe_schema_errors(err)
        raise DataError(message, url, column=column) from err
    return validated.reset_index(drop=True)


def read_table(
    location: Location,
    name: str,
    role: Role,
    expected_sha256: str | None,
    cache: ContentCache | None = None,
) -> tuple[pd.DataFrame, DataFile]:
    """Read, checksum, parse and validate one file; parse and validate once per content.

    With a ``cache``, the validated frame of bytes already validated is taken from it, keyed
    on the bytes' sha256, the file's name (CSV or Parquet) and its role. A file that fails
    is never cached, so its error is raised, naming ``url``, on every read.
    """
    url = location.url_of(name)
    content = read_bytes(location, name)
    digest = sha256_hex(content)
    if expected_sha256 and digest != expected_sha256:
        raise DataError(
            f"sha256 mismatch: expected {expected_sha256}, got {digest}; the file changed or"
            " was corrupted in transit",
            url,
        )

    def parse_and_validate() -> pd.DataFrame:
        return validate_table(parse_table(content, name, url), role, url)

    inputs = {"name": name, "role": role, "sha256": digest}
    frame = cache.get("table", inputs, parse_and_validate) if cache else parse_and_validate()
    logger.info("read %s: %d rows, sha256 %s", url, len(frame), digest[:12])
    return frame, DataFile(role, url, digest, len(frame), frame.shape[1])


def load_dataset(
    data: DataSettings, root: Path | None = None, cache: ContentCache | None = None
) -> Dataset:
    """Load and validate the training and test files named by the ``data`` section.

    Parameters
    ----------
    data : DataSettings
        Source, file names, endpoint and expected checksums.
    root : Path, optional
        The project root, where a relative local ``data.source`` starts.
    cache : ContentCache, optional
        Where validated frames are kept, keyed on the bytes read (:func:`read_table`).

    Returns
    -------
    Dataset
        The validated frames with their provenance.

    Raises
    ------
    DataError
        On any missing, unreadable, corrupted or invalid file.
    """
    location = resolve_location(data, root)
    expected = dict(data.sha256 or {})
    if data.source == EMBEDDED:
        # The shipped copy is always checked: a wheel built from a damaged checkout must fail.
        expected = embedded_checksums(location)
    train, train_file = read_table(
        location, data.train_file, "train", expected.get(data.train_file), cache
    )
    test, test_file = read_table(
        location, data.test_file, "test", expected.get(data.test_file), cache
    )
    return Dataset(
        train, test, location.display, (train_file, test_file), location.describe_endpoint()
    )
