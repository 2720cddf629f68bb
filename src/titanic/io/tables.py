"""Parse a data file's bytes (CSV or Parquet) into a frame, refusing what is not a table."""

from __future__ import annotations

import csv
import io

import pandas as pd

from titanic.errors import DataError

HTML_STARTS = ("<!doctype html", "<html")
JSON_STARTS = ("{", "[")


def parse_table(content: bytes, name: str, url: str) -> pd.DataFrame:
    """Parse CSV (UTF-8, optional BOM, LF or CRLF) or Parquet bytes into a frame.

    Raises
    ------
    DataError
        When the bytes are empty, not UTF-8 text, an HTML page or a JSON document, truncated,
        not Parquet, or a row's field count differs from the header's.
    """
    if not content.strip():
        raise DataError("the file is empty", url)
    if name.lower().endswith(".parquet"):
        try:
            return pd.read_parquet(io.BytesIO(content))
        except (OSError, ValueError) as err:
            raise DataError(f"not a readable Parquet file ({err})", url) from err
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(
            f"not a UTF-8 CSV file (undecodable byte at offset {err.start})", url
        ) from err
    if "\x00" in text:
        raise DataError("not a CSV file (it holds NUL bytes)", url)
    start = text.lstrip().lower()
    if start.startswith(HTML_STARTS):
        raise DataError("this is an HTML page, not a CSV file (a login or error page?)", url)
    if start.startswith(JSON_STARTS):
        raise DataError("a JSON document, not a CSV file", url)
    check_field_counts(text, url)
    try:
        frame = pd.read_csv(io.StringIO(text), na_values=[""], keep_default_na=False)
    except pd.errors.ParserError as err:
        raise DataError(f"malformed or truncated CSV ({err})", url) from err
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame


def check_field_counts(text: str, url: str) -> None:
    """Refuse a row whose field count differs from the header's: its values would shift.

    Raises
    ------
    DataError
        Naming the row's first line in the file (the header is line 1).
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, [])
        line = reader.line_num + 1
        for row in reader:
            if row and len(row) != len(header):
                raise DataError(
                    f"line {line} has {len(row)} fields, the header has {len(header)}", url
                )
            line = reader.line_num + 1
    except csv.Error as err:
        raise DataError(
            f"malformed or truncated CSV (line {reader.line_num}: {err})", url
        ) from err
