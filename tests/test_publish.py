"""``titanic publish`` against a real S3 endpoint on loopback (moto_server), read back."""
# ruff: noqa: F811  (the moto fixtures are imported from test_storage, then requested by name)

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from titanic.cli import app
from titanic.config import load_settings
from titanic.fingerprint import sha256_hex
from titanic.io import locations as storage
from titanic.io.output_sets import seal

from .test_storage import aws_environment, bucket, moto_endpoint  # noqa: F401  (fixtures)

runner = CliRunner()


def remote_filesystem(endpoint: str):
    settings = load_settings(Path("params.yaml"), overrides=[f"data.endpoint_url={endpoint}"])
    return storage.s3_filesystem(settings.data)


def sealed(folder: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    seal(folder, "test", {})


@pytest.fixture
def rendered(project: Path) -> Path:
    output = project / "_output"
    sealed(
        output,
        {
            "report.html": b"<html>report</html>",
            "report.pdf": b"%PDF-1.7 report",
            "report.ipynb": b"{}",
            "metrics.json": b'{"metrics": {}}',
        },
    )
    sealed(output / "variants" / "max_depth-2", {"report.html": b"<html>2</html>"})
    (output / "variants" / "index.html").write_bytes(b"<html>index</html>")
    return output


def test_publish_uploads_every_file_with_its_type_and_prints_the_url(
    rendered, moto_endpoint, bucket
):
    result = runner.invoke(
        app, ["publish", "--to", f"s3://{bucket}/site", "-P", f"data.endpoint_url={moto_endpoint}"]
    )
    assert result.exit_code == 0, result.output
    assert f"read the report at {moto_endpoint}/{bucket}/site/report.html" in result.stdout
    filesystem = remote_filesystem(moto_endpoint)
    expected = {
        "report.html": "text/html; charset=utf-8",
        "report.pdf": "application/pdf",
        "report.ipynb": "application/x-ipynb+json",
        "metrics.json": "application/json",
        "manifest.json": "application/json",
        "variants/index.html": "text/html; charset=utf-8",
        "variants/max_depth-2/report.html": "text/html; charset=utf-8",
        "variants/max_depth-2/manifest.json": "application/json",
    }
    for name, kind in expected.items():
        remote = f"{bucket}/site/{name}"
        assert sha256_hex(filesystem.cat_file(remote)) == sha256_hex(
            (rendered / name).read_bytes()
        ), name
        assert filesystem.info(remote)["ContentType"] == kind
    lines = result.stdout.splitlines()[:-1]
    assert len(lines) == len(expected) and lines[-1].endswith(
        "  manifest.json"
    )  # the report's manifest goes last


def test_a_file_that_differs_from_its_manifest_is_not_published(rendered, moto_endpoint, bucket):
    (rendered / "variants" / "max_depth-2" / "report.html").write_bytes(b"<html>edited</html>")
    result = runner.invoke(
        app, ["publish", "--to", f"s3://{bucket}/site", "-P", f"data.endpoint_url={moto_endpoint}"]
    )
    assert result.exit_code == 1
    assert "max_depth-2: outputs changed: report.html" in result.stderr
    filesystem = remote_filesystem(moto_endpoint)
    assert not filesystem.ls(bucket)
