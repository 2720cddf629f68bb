"""The published site as a reader meets it: headless Chromium opens the root, follows every link.

From a folder (file://) and from the moto bucket, served on 127.0.0.1: no broken link, no request
outside the site, every variant's report at most two clicks from the landing page, and every
page one click from it.
"""
# ruff: noqa: F811  (the moto fixtures are imported from test_storage, then requested by name)

from __future__ import annotations

import http.server
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from titanic.cli import app
from titanic.report.pdf import find_chromium

from .browser import Crawl, crawl_site
from .conftest import loopback_server, write_params
from .site_fixtures import write_outputs
from .test_publish import s3_writer
from .test_storage import aws_environment, bucket, moto_endpoint  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="needs Chromium")
runner = CliRunner()


def publish(*args: str) -> None:
    result = runner.invoke(app, ["publish", *args])
    assert result.exit_code == 0, result.output


def assert_reader_finds_everything(crawl: Crawl, variants: list[str]) -> None:
    assert not crawl.problems, "\n".join(crawl.problems)
    base = crawl.landing.rsplit("/", 1)[0]
    depth = {url.removeprefix(f"{base}/"): clicks for url, clicks in crawl.depth.items()}
    for name in ("report.html", "report.pdf", "variants/index.html"):
        assert depth.get(name) == 1, (name, depth)
    for variant in variants:
        assert depth.get(f"variants/{variant}/report.html", 99) <= 2, (variant, depth)
    for page, links in crawl.links.items():
        if page != crawl.landing:
            assert crawl.landing in links, f"{page} does not link back to the landing page"
    assert crawl.requests, "the crawl saw no request at all"


@pytest.fixture
def outputs(project: Path) -> Path:
    write_outputs(project / "_output", "A", ["2", "4", "8"])
    return project / "_output"


def test_a_reader_of_a_published_folder_reaches_every_page(outputs, tmp_path):
    publish("--to", str(tmp_path / "site"))
    crawl = crawl_site((tmp_path / "site" / "index.html").as_uri())
    assert_reader_finds_everything(crawl, ["max_depth-2", "max_depth-4", "max_depth-8"])


@pytest.fixture
def bucket_over_http(moto_endpoint, bucket) -> Iterator[str]:
    """The bucket's site/ prefix served read-only on 127.0.0.1, each object with its stored type.

    moto refuses anonymous reads of private objects; this plays the public bucket's website.
    """
    filesystem = s3_writer(moto_endpoint)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            key = f"{bucket}/site/{self.path.split('?')[0].lstrip('/')}"
            filesystem.invalidate_cache()
            try:
                content = filesystem.cat_file(key)
                kind = filesystem.info(key).get("ContentType", "application/octet-stream")
            except FileNotFoundError:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    with loopback_server(Handler) as url:
        yield url


def test_a_reader_of_the_published_bucket_reaches_every_page(
    outputs, moto_endpoint, bucket, bucket_over_http
):
    publish("--to", f"s3://{bucket}/site", "-P", f"data.endpoint_url={moto_endpoint}")
    crawl = crawl_site(f"{bucket_over_http}/index.html")
    assert_reader_finds_everything(crawl, ["max_depth-2", "max_depth-4", "max_depth-8"])


def test_the_reader_reports_a_broken_link_and_a_request_outside_the_site(outputs, tmp_path):
    publish("--to", str(tmp_path / "site"))
    (version,) = (tmp_path / "site" / "versions").iterdir()
    (version / "report.pdf").unlink()
    comparison = version / "variants" / "index.html"
    comparison.write_text(
        comparison.read_text().replace(
            "</body>", '<img src="http://example.org/pixel.png" alt=""></body>'
        )
    )
    problems = "\n".join(crawl_site((tmp_path / "site" / "index.html").as_uri()).problems)
    assert "broken link" in problems and "report.pdf" in problems
    assert "requested outside the site: http://example.org/pixel.png" in problems


@pytest.mark.slow
def test_a_newcomer_renders_sweeps_publishes_and_reads_the_site(tmp_path, monkeypatch):
    """``titanic render``, ``titanic sweep``, ``titanic publish --to ./site``, then read it."""
    write_params(
        tmp_path,
        model={"n_estimators": 10, "max_depth": 4},
        split={"cv_folds": 2},
        evaluation={"permutation_repeats": 1},
        selection={"enabled": False, "n_estimators": 5},
        variants={"grid": {"model.max_depth": [2, 3]}, "sets": {}, "max_variants": 10},
    )
    root = Path(__file__).resolve().parents[1]
    for name in ("report.qmd", "_quarto.yml", "report.scss"):
        (tmp_path / name).write_bytes((root / name).read_bytes())
    monkeypatch.chdir(tmp_path)
    for command in (["render"], ["sweep", "--jobs", "1"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "_output" / "index.html").is_file()  # the landing page, beside the report
    publish("--to", "site")
    crawl = crawl_site((tmp_path / "site" / "index.html").as_uri())
    assert_reader_finds_everything(crawl, ["max_depth-2", "max_depth-3"])
    (version,) = (tmp_path / "site" / "versions").iterdir()
    published = json.loads((version / "site.json").read_text())["files"]
    assert not [name for name in published if name.endswith((".joblib", ".ipynb", ".log"))]
