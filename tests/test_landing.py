"""The site's landing page, built from summary.json and metrics.json: titanic.site.landing."""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path

import pytest

from titanic.site.landing import landing_page, markdown, parse_summary, write_landing

from .site_fixtures import SUMMARY, links_of, write_outputs

GIT = {"commit": "c0ffee" * 6 + "c0ff", "dirty": False}


def page_of(folder: Path, **options) -> str:
    written = write_landing(folder, **options)
    assert written == folder / "index.html"
    return written.read_text()


def text_of(page: str) -> str:
    """The page's visible text, tags removed and spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_page_states_the_summary_of_the_run(project):
    output = project / "_output"
    write_outputs(output, "A", ["2", "4"])
    page = page_of(output, git=GIT)
    text = text_of(page)
    assert SUMMARY["title"] in text and SUMMARY["question"] in text
    assert "Women survived far more often than men: <strong>74 %</strong> against" in page
    assert "82.2 % (95 % interval 79.0 % to 85.3 %)" in text
    assert "For a new sample of 891 passengers: estimated by nested cross-validation" in text
    for finding in SUMMARY["findings"]:
        assert text_of(markdown(finding)) in text
    assert "7d118fef8b6ccf7f81111877bc388536f7b1e498a655e3d649d19aaa010e9f6f" in text
    assert f"git checkout {GIT['commit']} && make sweep" in text
    assert re.search(
        rf"Built \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 from commit {GIT['commit']}", text
    )


def test_without_summary_json_the_page_says_so_and_invents_nothing(project):
    output = project / "_output"
    write_outputs(output, "A", [], summary=False)
    text = text_of(page_of(output))
    assert "The summary is unavailable" in text
    assert "%" not in text  # no accuracy, no share of anything
    assert "74" not in text
    # The commit and the data's provenance still come from metrics.json.
    assert "from commit A000" in text
    assert "make report" in text


def test_a_malformed_summary_is_unavailable_with_a_warning(project, caplog):
    output = project / "_output"
    write_outputs(output, "A", [])
    broken = {**SUMMARY, "expected_accuracy": {"estimate": 0.8}}
    read = {"summary.json": json.dumps(broken).encode(), "metrics.json": b"{}"}.get
    with caplog.at_level(logging.WARNING, logger="titanic.site.landing"):
        page = landing_page(read, {"index.html", "report.html", "summary.json", "metrics.json"})
    assert "The summary is unavailable" in text_of(page)
    assert "summary.json: unreadable (expected_accuracy: expected the keys" in caplog.text
    with pytest.raises(ValueError, match="headline: expected a list of sentences"):
        parse_summary(json.dumps({**SUMMARY, "headline": "one sentence"}))


def test_summary_text_is_escaped_and_only_bold_is_markup():
    assert markdown("<script>x</script> is **bold** & *not italic*") == (
        "&lt;script&gt;x&lt;/script&gt; is <strong>bold</strong> &amp; *not italic*"
    )


def test_the_page_links_only_what_the_site_holds(project):
    output = project / "_output"
    write_outputs(output, "A", ["2", "4"])
    page = page_of(output)
    assert sorted(set(links_of(page))) == [
        "metrics.json", "report.html", "report.pdf", "summary.json", "variants/index.html",
        "variants/max_depth-2/report.html", "variants/max_depth-4/report.html",
    ]  # fmt: skip
    # Without the PDF and the summary, their links go too.
    reader = {"report.html": b"<html></html>", "metrics.json": b"{}"}.get
    assert sorted(set(links_of(landing_page(reader, {"report.html", "metrics.json"})))) == [
        "metrics.json",
        "report.html",
    ]


def test_no_landing_page_without_a_rendered_html_report(project):
    output = project / "_output"
    write_outputs(output, "A", [])
    assert write_landing(project) is None  # no output set at all
    manifest = json.loads((output / "manifest.json").read_text())
    del manifest["files"]["report.html"]  # a run without the HTML (render --to pdf, or run)
    (output / "manifest.json").write_text(json.dumps(manifest))
    assert write_landing(output) is None
    assert not (output / "index.html").exists()
