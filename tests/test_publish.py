"""``titanic publish`` to a folder and to a real S3 endpoint on loopback (moto_server).

The site is read back as a reader reads it: from the root's index.html, through the live
version's site.json, checking every file's sha256 and every link.
"""
# ruff: noqa: F811  (the moto fixtures are imported from test_storage, then requested by name)

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from titanic.cli import app
from titanic.config import load_settings
from titanic.io.locations import s3_filesystem
from titanic.site.contents import PUBLISHED, matches

from .site_fixtures import PRIVATE, FaultProxy, read_site, write_outputs
from .test_storage import aws_environment, bucket, moto_endpoint  # noqa: F401  (fixtures)

runner = CliRunner()
UNFINISHED = "20200101T000000Z-0123abcd"


def publish(*args: str):
    return runner.invoke(app, ["publish", *args])


def folder_reader(root: Path):
    def fetch(name: str) -> bytes | None:
        path = root / name
        return path.read_bytes() if path.is_file() else None

    return fetch


def s3_reader(filesystem, base: str):
    """Read objects under ``bucket/prefix`` afresh each time (no cached listing or bytes)."""

    def fetch(name: str) -> bytes | None:
        filesystem.invalidate_cache()
        try:
            return filesystem.cat_file(f"{base}/{name}")
        except FileNotFoundError:
            return None

    return fetch


def s3_versions(filesystem, base: str) -> list[str]:
    filesystem.invalidate_cache()
    return sorted(path.rsplit("/", 1)[-1] for path in filesystem.ls(f"{base}/versions"))


def s3_writer(endpoint: str):
    settings = load_settings(Path("params.yaml"), overrides=[f"data.endpoint_url={endpoint}"])
    return s3_filesystem(settings.data)


def versions_in(root: Path) -> list[str]:
    return sorted(path.name for path in (root / "versions").iterdir())


def live_version(root: Path) -> str:
    found = re.search(r"url=versions/([^/]+)/index.html", (root / "index.html").read_text())
    assert found is not None
    return found.group(1)


@pytest.fixture
def outputs(project: Path) -> Path:
    """Edition A: a rendered report and a sweep of two variants, in _output/."""
    write_outputs(project / "_output", "A", ["2", "4"])
    return project / "_output"


# --- what is published -------------------------------------------------------------------------


def test_a_folder_site_holds_the_declared_list_and_nothing_private(outputs, tmp_path):
    result = publish("--to", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    files = read_site(folder_reader(tmp_path / "site"))
    assert set(files) == {
        "index.html", "report.html", "report.pdf", "metrics.json", "summary.json",
        "manifest.json", "figures/roc_curve.png", "variants/index.html", "variants/summary.csv",
        *(f"variants/max_depth-{depth}/{name}" for depth in (2, 4) for name in
          ("report.html", "metrics.json", "manifest.json", "figures/roc_curve.png")),
    }  # fmt: skip
    on_disk = [
        path.relative_to(tmp_path / "site").as_posix()
        for path in (tmp_path / "site").rglob("*")
        if path.is_file()
    ]
    assert all(Path(name).name not in PRIVATE for name in on_disk), on_disk
    assert not [name for name in on_disk if Path(name).name.startswith(".")]
    version = versions_in(tmp_path / "site")[0]
    assert all(
        matches(name.removeprefix(f"versions/{version}/"), (*PUBLISHED, "site.json"))
        for name in on_disk
        if name != "index.html"
    )
    assert f"read the site at {tmp_path / 'site' / 'index.html'}" in result.stdout


def test_models_are_published_only_when_asked_for(outputs, tmp_path):
    assert publish("--to", str(tmp_path / "site"), "--include-models").exit_code == 0
    files = read_site(folder_reader(tmp_path / "site"))
    models = sorted(name for name in files if name.endswith("model.joblib"))
    assert models == [
        "model.joblib",
        "variants/max_depth-2/model.joblib",
        "variants/max_depth-4/model.joblib",
    ]
    assert not [name for name in files if name.endswith((".ipynb", ".yaml", ".log"))]


def test_a_file_that_differs_from_its_manifest_is_not_published(outputs, tmp_path):
    (outputs / "variants" / "max_depth-2" / "report.html").write_bytes(b"<html>edited</html>")
    result = publish("--to", str(tmp_path / "site"))
    assert result.exit_code == 1
    assert "max_depth-2: outputs changed: report.html" in result.stderr
    assert not (tmp_path / "site").exists()


def test_a_folder_holding_other_files_is_refused(outputs, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "notes.txt").write_text("mine")
    result = publish("--to", str(tmp_path / "site"))
    assert result.exit_code == 1
    assert "holds other files (notes.txt) and no published site" in result.stderr
    assert sorted(path.name for path in (tmp_path / "site").iterdir()) == ["notes.txt"]


# --- links ---------------------------------------------------------------------------------------


def test_every_page_links_the_site_and_each_variant_back(outputs, tmp_path):
    assert publish("--to", str(tmp_path / "site")).exit_code == 0
    files = read_site(folder_reader(tmp_path / "site"))
    report = files["report.html"].decode()
    assert 'href="variants/index.html"' in report and 'href="report.pdf"' in report
    assert 'href="index.html"' in report
    variant = files["variants/max_depth-4/report.html"].decode()
    assert 'href="../index.html"' in variant and 'href="../../report.html"' in variant
    assert 'href="../../index.html"' in variant
    comparison = files["variants/index.html"].decode()
    assert 'href="../report.html"' in comparison and 'href="../index.html"' in comparison
    landing = files["index.html"].decode()
    variants = ("variants/max_depth-2/report.html", "variants/max_depth-4/report.html")
    for target in ("report.html", "report.pdf", "variants/index.html", *variants):
        assert f'href="{target}"' in landing


def test_without_a_sweep_no_page_links_a_comparison(project, tmp_path):
    write_outputs(project / "_output", "A", [])
    assert publish("--to", str(tmp_path / "site")).exit_code == 0
    files = read_site(folder_reader(tmp_path / "site"))
    assert not [name for name in files if name.startswith("variants/")]
    assert b"variants/" not in files["report.html"] + files["index.html"]


# --- all or nothing, over an earlier site -------------------------------------------------------


def test_republishing_a_folder_keeps_the_live_and_the_previous_version_only(outputs, tmp_path):
    site = tmp_path / "site"
    made = []
    for edition in ("A", "B", "C"):
        write_outputs(outputs, edition, ["2", "4"])
        assert publish("--to", str(site)).exit_code == 0
        made.append(live_version(site))
    assert versions_in(site) == sorted(made[1:])
    assert b"report C" in read_site(folder_reader(site))["report.html"]


@pytest.fixture
def proxy(moto_endpoint):
    with FaultProxy(moto_endpoint) as running:
        yield running


def edition_of(files: dict[str, bytes]) -> str:
    report = files["report.html"]
    return next(edition for edition in "AB" if f"report {edition}".encode() in report)


@pytest.mark.slow
def test_a_fault_at_any_write_leaves_readers_one_complete_site(
    project, proxy, moto_endpoint, bucket
):
    write_outputs(project / "out-a", "A", ["2", "4"])
    write_outputs(project / "out-b", "B", ["4", "8"])  # max_depth-2 is gone in B
    filesystem = s3_writer(moto_endpoint)  # straight to moto: not counted by the proxy

    def publish_edition(edition: str, prefix: str):
        return publish(
            "--to", f"s3://{bucket}/{prefix}", "-P", f"output_dir=out-{edition.lower()}",
            "-P", f"data.endpoint_url={proxy.endpoint}",
        )  # fmt: skip

    def earlier_site(prefix: str) -> None:
        """Edition A, live, beside a version a killed publish left unfinished (to prune)."""
        assert publish_edition("A", prefix).exit_code == 0
        filesystem.pipe_file(f"{bucket}/{prefix}/versions/{UNFINISHED}/report.html", b"half")

    # A clean run over an earlier site counts the writes and finds the pointer's.
    earlier_site("count")
    proxy.reset()
    assert publish_edition("B", "count").exit_code == 0
    total = proxy.writes
    pointer_write = proxy.log.index(("PUT", f"/{bucket}/count/index.html")) + 1
    assert 10 < pointer_write < total  # files, site.json, the pointer, then the pruning
    for position in range(1, total + 1):
        prefix = f"site-{position}"
        proxy.reset()
        earlier_site(prefix)
        proxy.reset(fail_from=position)
        result = publish_edition("B", prefix)
        files = read_site(s3_reader(filesystem, f"{bucket}/{prefix}"))
        if position <= pointer_write:
            assert result.exit_code == 1, (position, result.output)
            assert "error: upload failed: s3://" in result.stderr
            unchanged = position < pointer_write  # the pointer's answer may be lost after it
            assert ("the published site is unchanged" in result.stderr) == unchanged
            assert "cannot reach the data" not in result.stderr
            assert edition_of(files) == "A", position
        else:  # only the pruning failed: the new site is live, the next publish prunes
            assert result.exit_code == 0, (position, result.output)
            assert edition_of(files) == "B", position
            assert "variants/max_depth-2/report.html" not in files


def test_a_publish_killed_midway_then_run_again(project, proxy, moto_endpoint, bucket):
    write_outputs(project / "out-a", "A", ["2", "4"])
    write_outputs(project / "out-b", "B", ["4", "8"])
    destination = f"s3://{bucket}/site"
    filesystem = s3_writer(moto_endpoint)
    reader = s3_reader(filesystem, f"{bucket}/site")

    def command(edition: str) -> list[str]:
        return [
            str(Path(sys.executable).parent / "titanic"), "publish", "--to", destination,
            "-P", f"output_dir=out-{edition.lower()}", "-P", f"data.endpoint_url={proxy.endpoint}",
        ]  # fmt: skip

    subprocess.run(command("A"), check=True, capture_output=True, timeout=120)
    proxy.reset(hold_at=5)
    publisher = subprocess.Popen(command("B"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert proxy.held.wait(60), "the publish never reached its fifth write"
        os.kill(publisher.pid, signal.SIGKILL)
        publisher.wait(timeout=30)
    finally:
        if publisher.poll() is None:
            publisher.kill()
            publisher.wait()
    proxy.release.set()
    assert publisher.returncode == -signal.SIGKILL
    assert edition_of(read_site(reader)) == "A"
    before = s3_versions(filesystem, f"{bucket}/site")
    assert len(before) == 2  # A, live, and the killed publish's unfinished version
    proxy.reset()
    again = subprocess.run(command("B"), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    files = read_site(reader)
    assert edition_of(files) == "B"
    assert "variants/max_depth-2/report.html" not in files
    after = s3_versions(filesystem, f"{bucket}/site")
    # A stays (the version just replaced), the unfinished one is pruned.
    assert len(after) == 2 and before[0] in after and before[1] not in after
    assert f"Removed earlier versions: {before[1]}" in again.stdout


def test_s3_objects_carry_their_type_and_caching_rule(outputs, moto_endpoint, bucket):
    result = publish("--to", f"s3://{bucket}/site", "-P", f"data.endpoint_url={moto_endpoint}")
    assert result.exit_code == 0, result.output
    assert f"read the site at {moto_endpoint}/{bucket}/site/index.html" in result.stdout
    filesystem = s3_writer(moto_endpoint)
    files = read_site(s3_reader(filesystem, f"{bucket}/site"))
    assert "report.pdf" in files
    pointer = filesystem.info(f"{bucket}/site/index.html")
    assert pointer["ContentType"] == "text/html; charset=utf-8"
    head = filesystem.call_s3("head_object", Bucket=bucket, Key="site/index.html")
    assert head["CacheControl"] == "no-cache"
    (version,) = s3_versions(filesystem, f"{bucket}/site")
    for name, kind in (("report.pdf", "application/pdf"), ("figures/roc_curve.png", "image/png"),
                       ("variants/summary.csv", "text/csv; charset=utf-8")):  # fmt: skip
        key = f"site/versions/{version}/{name}"
        head = filesystem.call_s3("head_object", Bucket=bucket, Key=key)
        assert head["ContentType"] == kind
        assert "immutable" in head["CacheControl"]


def test_a_flat_site_published_before_versions_is_removed_after_the_switch(
    outputs, moto_endpoint, bucket
):
    filesystem = s3_writer(moto_endpoint)
    flat = {"report.html": b"old", "metrics.json": b"{}", "variants/index.html": b"old",
            "variants/max_depth-2/report.html": b"old"}  # fmt: skip
    for name, content in flat.items():
        filesystem.pipe_file(f"{bucket}/site/{name}", content)
    filesystem.pipe_file(
        f"{bucket}/site/manifest.json",
        b'{"files": {"report.html": {}, "metrics.json": {}, "index.html": {}}}',
    )
    result = publish("--to", f"s3://{bucket}/site", "-P", f"data.endpoint_url={moto_endpoint}")
    assert result.exit_code == 0, result.output
    filesystem.invalidate_cache()
    remaining = sorted(
        path.removeprefix(f"{bucket}/site/") for path in filesystem.find(f"{bucket}/site")
    )
    assert all(name == "index.html" or name.startswith("versions/") for name in remaining)
    assert edition_of(read_site(s3_reader(filesystem, f"{bucket}/site"))) == "A"
