import io
import os
import shutil

import pandas as pd
import pytest

from titanic.config import DataSettings
from titanic.dataset import load_dataset, validate_table
from titanic.errors import DataError
from titanic.io.tables import parse_table
from titanic.schema.columns import FEATURE_COLUMNS

from .conftest import SHARED_DATA, top_level_modules_after

# Kaggle's files as recorded in ../shared/data/titanic/SHA256SUMS: the embedded copy must be
# byte for byte these, whether or not ../shared is beside the checkout.
KAGGLE_SHA256 = {
    "train.csv": "7d118fef8b6ccf7f81111877bc388536f7b1e498a655e3d649d19aaa010e9f6f",
    "test.csv": "56023b9948236f3c7a1c9448fcf418b283e109ef177fa8c7e069158dd7dd52b2",
}
EMBEDDED = DataSettings(source="embedded", train_file="train.csv", test_file="test.csv")


def local(folder, **extra) -> DataSettings:
    return DataSettings(source=str(folder), train_file="train.csv", test_file="test.csv", **extra)


@pytest.fixture
def shared_kaggle_dir():
    """Kaggle's files beside the checkout (../shared/data/titanic); skips where they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"{SHARED_DATA} is absent: no copy of Kaggle's files independent of the embedded one"
        )
    return SHARED_DATA


def test_embedded_data_is_kaggle_s_files():
    dataset = load_dataset(EMBEDDED)
    assert dataset.train.shape == (891, 12)
    assert dataset.test.shape == (418, 11)
    assert {file.role: file.sha256 for file in dataset.files} == {
        "train": KAGGLE_SHA256["train.csv"],
        "test": KAGGLE_SHA256["test.csv"],
    }
    assert dataset.train["Age"].isna().sum() == 177
    assert dataset.test["Fare"].isna().sum() == 1


def test_the_recorded_checksums_are_those_beside_the_checkout(shared_kaggle_dir):
    lines = (shared_kaggle_dir / "SHA256SUMS").read_text(encoding="ascii").splitlines()
    assert {name: digest for digest, name in (line.split() for line in lines if line)} == (
        KAGGLE_SHA256
    )


def test_kaggle_s_files_in_a_local_folder_give_the_embedded_frames(tmp_path, shared_kaggle_dir):
    folder = tmp_path / "data"
    shutil.copytree(shared_kaggle_dir, folder)
    copied = load_dataset(local(folder))
    embedded = load_dataset(EMBEDDED)
    pd.testing.assert_frame_equal(embedded.train, copied.train)
    pd.testing.assert_frame_equal(embedded.test, copied.test)
    assert copied.source == str(folder)


def test_expected_checksum_is_enforced(data_copy):
    wrong = "0" * 64
    with pytest.raises(
        DataError, match=rf"train.csv: sha256 mismatch: expected {wrong}, got [0-9a-f]{{64}}"
    ):
        load_dataset(local(data_copy, sha256={"train.csv": wrong}))


def test_damaged_embedded_copy_is_refused(tmp_path, monkeypatch, kaggle_dir):
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("test.csv", "SHA256SUMS"):
        (folder / name).write_bytes((kaggle_dir / name).read_bytes())
    (folder / "train.csv").write_bytes(
        (kaggle_dir / "train.csv").read_bytes().replace(b"Braund", b"Brand")
    )
    monkeypatch.setattr("titanic.io.locations.embedded_data_dir", lambda: folder)
    with pytest.raises(DataError, match="sha256 mismatch"):
        load_dataset(DataSettings(source="embedded", train_file="train.csv", test_file="test.csv"))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


@pytest.mark.parametrize(
    "transform",
    [
        lambda raw: b"\xef\xbb\xbf" + raw,  # UTF-8 BOM
        lambda raw: raw.replace(b"\n", b"\r\n"),  # CRLF
        lambda raw: raw.replace(b"\r\n", b"\n"),  # LF
    ],
    ids=["bom", "crlf", "lf"],
)
def test_real_world_csv_variants_parse_identically(passengers, transform):
    raw = csv_bytes(passengers)
    expected = validate_table(parse_table(raw, "train.csv", "x"), "train", "x")
    variant = validate_table(parse_table(transform(raw), "train.csv", "x"), "train", "x")
    pd.testing.assert_frame_equal(expected, variant)


def test_extra_columns_and_another_order_are_tolerated(passengers):
    shuffled = passengers[list(reversed(passengers.columns))].assign(Boat="13")
    validated = validate_table(parse_table(csv_bytes(shuffled), "train.csv", "x"), "train", "x")
    assert set(FEATURE_COLUMNS) <= set(validated.columns)
    assert len(validated) == len(passengers)


def test_parquet_is_read(passengers):
    buffer = io.BytesIO()
    passengers.to_parquet(buffer)
    frame = parse_table(buffer.getvalue(), "train.parquet", "x")
    validated = validate_table(frame, "train", "x")
    assert validated["PassengerId"].tolist() == passengers["PassengerId"].tolist()


def invalid(passengers, role="train", **changes) -> str:
    frame = passengers.copy()
    for column, (row, value) in changes.items():
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
    with pytest.raises(DataError) as caught:
        validate_table(
            parse_table(csv_bytes(frame), "train.csv", "bad/train.csv"), role, "bad/train.csv"
        )
    message = str(caught.value)
    assert message.startswith("bad/train.csv: ")
    return message


@pytest.mark.parametrize(
    ("column", "value", "check"),
    [
        ("Pclass", 4, "isin"),
        ("Sex", "unknown", "isin"),
        ("Age", -1.0, "greater_than_or_equal_to"),
        ("Fare", -5.0, "greater_than_or_equal_to"),
        ("Survived", 2, "isin"),
        ("Embarked", "X", "isin"),
        ("SibSp", -1, "greater_than_or_equal_to"),
    ],
)
def test_out_of_range_values_name_column_and_row(passengers, column, value, check):
    message = invalid(passengers, **{column: (4, value)})
    assert f"column '{column}' fails {check}" in message
    assert f"row 5 ({value!r})" in message


def test_wrong_dtype_names_column_and_row(passengers):
    message = invalid(passengers, Age=(2, "about thirty"))
    assert "column 'Age' fails expected dtype('float64') at row 3 ('about thirty')" in message
    assert message.count("Age") == 1  # the dtype failure, not a cascade of follow-on checks


def test_duplicate_ids_are_refused(passengers):
    message = invalid(passengers, PassengerId=(3, 1))
    assert "column 'PassengerId' fails field_uniqueness" in message


def test_missing_column_is_named(passengers):
    raw = csv_bytes(passengers.drop(columns=["Sex", "Ticket"]))
    with pytest.raises(DataError, match="missing column.*Sex.*Ticket") as caught:
        validate_table(parse_table(raw, "train.csv", "f"), "train", "f")
    assert caught.value.column == "Sex"


def test_label_in_the_test_file_is_refused(passengers):
    with pytest.raises(DataError, match="must not carry the label column 'Survived'"):
        validate_table(passengers, "test", "test.csv")


def test_missing_label_in_the_training_file_is_refused(passengers):
    with pytest.raises(DataError, match="missing column.*Survived"):
        validate_table(passengers.drop(columns="Survived"), "train", "train.csv")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"  \r\n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "not a UTF-8 CSV file"),
        (b"PassengerId,Name\n1,\x00\x00\n", "not a CSV file"),
        (b'PassengerId,Name\n1,"Braund, Mr', "malformed or truncated CSV"),
        (b"PAR1\x00\x01garbage", "not a readable Parquet file"),
    ],
    ids=["empty", "blank", "binary", "nul", "truncated-quote", "bad-parquet"],
)
def test_unreadable_content(content, message):
    name = "train.parquet" if content.startswith(b"PAR1") else "train.csv"
    with pytest.raises(DataError, match=message):
        parse_table(content, name, "somewhere/" + name)


def test_truncated_last_row_is_refused(passengers):
    raw = csv_bytes(passengers)
    truncated = raw[: raw.rindex(b"\n", 0, len(raw) - 1) + 12]  # cut inside the last row
    with pytest.raises(DataError, match=r"f: line 21 has 4 fields, the header has 12"):
        validate_table(parse_table(truncated, "train.csv", "f"), "train", "f")


def test_header_only_file_is_refused(passengers):
    with pytest.raises(DataError, match="header but no rows"):
        validate_table(parse_table(csv_bytes(passengers.head(0)), "train.csv", "f"), "train", "f")


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(DataError, match=rf"{tmp_path}/train.csv: file not found"):
        load_dataset(local(tmp_path))


def test_folder_instead_of_file(tmp_path):
    (tmp_path / "train.csv").mkdir()
    with pytest.raises(DataError, match="train.csv"):
        load_dataset(local(tmp_path))


def test_unreadable_file(data_copy, monkeypatch):
    # chmod 000 does not stop root (CI runs as root), so the filesystem refuses instead.
    def refuse(self, path, mode="rb", **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr("fsspec.implementations.local.LocalFileSystem.open", refuse)
    with pytest.raises(DataError, match=rf"{data_copy}/train.csv: access denied"):
        load_dataset(local(data_copy))


def test_unsupported_source():
    with pytest.raises(DataError, match="unsupported data.source 'ftp://x/y'"):
        load_dataset(
            DataSettings(source="ftp://x/y", train_file="train.csv", test_file="test.csv")
        )


# --- input that lies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<!DOCTYPE html>\n<html><body>Sign in</body></html>\n", "this is an HTML page"),
        (b"\xef\xbb\xbf  \n<HTML>\n<head></head></html>", "this is an HTML page"),
        (b'{"error": "not found"}\n', "a JSON document, not a CSV file"),
        (b'  [{"PassengerId": 1}]', "a JSON document, not a CSV file"),
    ],
    ids=["doctype", "bom-html", "json-object", "json-array"],
)
def test_a_file_that_is_not_csv_is_named_as_such(content, message):
    with pytest.raises(DataError) as caught:
        parse_table(content, "train.csv", "https://host/train.csv")
    assert str(caught.value).startswith(f"https://host/train.csv: {message}")
    if "HTML" in message:
        assert "(a login or error page?)" in str(caught.value)


def test_a_row_with_a_missing_field_is_refused_naming_its_line(passengers):
    lines = csv_bytes(passengers).decode().splitlines(keepends=True)
    lines[6] = lines[6].replace(",male,", ",", 1)  # one field fewer: values would shift left
    with pytest.raises(DataError) as caught:
        parse_table("".join(lines).encode(), "train.csv", "f/train.csv")
    assert str(caught.value) == "f/train.csv: line 7 has 11 fields, the header has 12"


def test_a_row_with_an_extra_field_is_refused_naming_its_line(passengers):
    raw = csv_bytes(passengers).replace(b"\r\n", b"\n").decode().splitlines(keepends=True)
    raw[3] = raw[3].rstrip("\n") + ",extra\n"
    with pytest.raises(DataError, match="f: line 4 has 13 fields, the header has 12"):
        parse_table("".join(raw).encode(), "train.csv", "f")


def test_quoted_commas_and_newlines_are_one_field(passengers):
    frame = passengers.copy()
    frame.loc[2, "Name"] = 'Line, "two"\nand three'
    parsed = parse_table(csv_bytes(frame), "train.csv", "f")
    assert parsed.loc[2, "Name"] == 'Line, "two"\nand three'
    assert len(parsed) == len(frame)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("Fare", 1e308),
        ("Fare", float("inf")),
        ("Age", 121.0),
        ("Age", float("inf")),
        ("SibSp", 1000),
        ("Parch", 99),
    ],
)
def test_absurd_numbers_are_refused_naming_row_and_column(passengers, column, value):
    message = invalid(passengers, **{column: (4, value)})
    assert f"column '{column}' fails less_than_or_equal_to" in message
    assert "row 5" in message


def test_a_pipe_in_place_of_a_local_file_is_refused_without_reading_it(data_copy):
    (data_copy / "train.csv").unlink()
    os.mkfifo(data_copy / "train.csv")  # a reader would wait for a writer forever
    with pytest.raises(DataError, match="train.csv: not a regular file"):
        load_dataset(local(data_copy))


def test_a_local_file_over_the_size_cap_is_refused_naming_the_limit(data_copy):
    size = (data_copy / "train.csv").stat().st_size
    with pytest.raises(DataError, match=f"{size} bytes, more than data.max_bytes = 1000"):
        load_dataset(local(data_copy, max_bytes=1000))


def test_reading_the_embedded_files_loads_no_http_client():
    loaded = top_level_modules_after(
        "from titanic.config import DataSettings\n"
        "from titanic.dataset import load_dataset\n"
        "data = DataSettings(source='embedded', train_file='train.csv', test_file='test.csv')\n"
        "assert len(load_dataset(data).train) == 891\n"
    )
    assert "titanic" in loaded and "aiohttp" not in loaded
