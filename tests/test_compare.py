import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from titanic.sweep import compare
from titanic.sweep.compare import BEST_BY_TEXT, ComparisonEntry, read_metrics, write_comparison

from .conftest import metrics_json

KEYS = ["model.n_estimators", "model.max_depth"]


def fake_variant(folder: Path, name: str, cv_mean: float, accuracy: float = 0.8) -> None:
    variant = folder / name
    variant.mkdir(parents=True)
    validation = {
        "accuracy": accuracy,
        "precision": 0.7,
        "recall": 0.6,
        "f1": 0.65,
        "roc_auc": 0.85,
    }
    text = metrics_json(validation, cv_mean=cv_mean, cv_std=0.02)
    (variant / "metrics.json").write_text(text, encoding="utf-8")
    (variant / "report.html").write_text("<html></html>", encoding="utf-8")


@pytest.fixture
def written(tmp_path):
    fake_variant(tmp_path, "n_estimators-10_max_depth-2", 0.80, accuracy=0.79)
    fake_variant(tmp_path, "n_estimators-10_max_depth-null", 0.83, accuracy=0.81)
    fake_variant(tmp_path, "n_estimators-50_max_depth-2", 0.81)
    # A failed variant whose folder still holds an older run's outputs.
    fake_variant(tmp_path, "n_estimators-50_max_depth-null", 0.99)
    entries = [
        ComparisonEntry("n_estimators-10_max_depth-2", {KEYS[0]: 10, KEYS[1]: 2}, "done", 12.5),
        ComparisonEntry(
            "n_estimators-10_max_depth-null", {KEYS[0]: 10, KEYS[1]: None}, "cached", 9
        ),
        ComparisonEntry("n_estimators-50_max_depth-2", {KEYS[0]: 50, KEYS[1]: 2}, "done", 20.0),
        ComparisonEntry(
            "n_estimators-50_max_depth-null",
            {KEYS[0]: 50, KEYS[1]: None},
            "failed",
            3.0,
            "ValueError: <bad> & worse",
        ),
    ]
    index, summary = write_comparison(tmp_path, entries, KEYS)
    return index, summary, entries


def test_summary_csv_has_one_row_per_variant_with_parameters_and_metrics(written):
    summary = pd.read_csv(written[1]).set_index("variant")
    assert list(summary.index) == [
        "n_estimators-10_max_depth-2",
        "n_estimators-10_max_depth-null",
        "n_estimators-50_max_depth-2",
        "n_estimators-50_max_depth-null",
    ]
    for column in ("status", "cached", "seconds", *KEYS, "accuracy", "f1", "roc_auc"):
        assert column in summary.columns
    assert {"cv_accuracy_mean", "cv_accuracy_std", "error", "best"} <= set(summary.columns)
    assert summary.loc["n_estimators-10_max_depth-null", "cached"]
    assert summary.loc["n_estimators-10_max_depth-2", "accuracy"] == pytest.approx(0.79)
    # The failed variant shows no metrics, although an older metrics.json is still there.
    failed = summary.loc["n_estimators-50_max_depth-null"]
    assert pd.isna(failed["accuracy"]) and failed["error"] == "ValueError: <bad> & worse"
    assert summary["best"].tolist() == [False, True, False, False]


def test_page_is_self_contained_sortable_and_highlights_the_best(written):
    page = written[0].read_text(encoding="utf-8")
    # Nothing from the network: no http(s) address in any src or href, no external stylesheet.
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<link" not in page and "<style>" in page and "<script>" in page
    assert "aria-sort" in page and "addEventListener" in page
    rows = re.findall(r"<tr class=\"([^\"]*)\">(.*?)</tr>", page)
    best = [cells for classes, cells in rows if "best" in classes.split()]
    assert len(best) == 1 and "n_estimators-10_max_depth-null" in best[0]
    assert BEST_BY_TEXT in page
    for name in ("n_estimators-10_max_depth-2", "n_estimators-50_max_depth-2"):
        assert f'href="{name}/report.html"' in page
    assert 'href="n_estimators-50_max_depth-null/report.html"' not in page
    assert "ValueError: &lt;bad&gt; &amp; worse" in page
    assert "0.830 ± 0.020" in page
    # One figure per swept parameter, embedded as PNG.
    assert page.count('<img src="data:image/png;base64,') == 2


def test_read_metrics_refuses_incomplete_files(tmp_path):
    (tmp_path / "metrics.json").write_text('{"metrics": {"validation": {}}}', encoding="utf-8")
    assert read_metrics(tmp_path) is None
    assert read_metrics(tmp_path / "absent") is None


def test_no_metrics_at_all_still_writes_a_page(tmp_path):
    entries = [ComparisonEntry("a", {"model.max_depth": 2}, "failed", None, "boom")]
    index, summary = write_comparison(tmp_path, entries, ["model.max_depth"])
    assert "No variant has metrics yet" in index.read_text(encoding="utf-8")
    assert pd.read_csv(summary)["best"].tolist() == [False]


def test_figures_are_drawn_again_only_when_their_data_changes(written, monkeypatch):
    index, _, entries = written
    folder = index.parent
    figures = re.findall(r'<img src="([^"]+)"', index.read_text(encoding="utf-8"))
    assert (folder / compare.FIGURES_CACHE_FILENAME).is_file()
    drawn = []
    original = compare.parameter_figure
    monkeypatch.setattr(
        compare, "parameter_figure", lambda *args: drawn.append(args[1]) or original(*args)
    )
    # Same metrics, other statuses (as on a fully cached re-run): no figure is drawn.
    restated = [replace(entry, status="cached") for entry in entries[:3]] + entries[3:]
    write_comparison(folder, restated, KEYS)
    assert drawn == []
    assert re.findall(r'<img src="([^"]+)"', index.read_text(encoding="utf-8")) == figures
    fake_variant(folder, "n_estimators-20_max_depth-2", 0.9)
    added = ComparisonEntry("n_estimators-20_max_depth-2", {KEYS[0]: 20, KEYS[1]: 2}, "done", 1.0)
    write_comparison(folder, [*restated, added], KEYS)
    assert sorted(drawn) == sorted(KEYS)


def margin_rows(means: dict[str, float]) -> list[dict]:
    return [{"variant": name, "cv_accuracy_mean": mean} for name, mean in means.items()]


def test_a_lead_on_every_shared_fold_is_clear():
    folds = {"a": [0.85, 0.86, 0.84], "b": [0.80, 0.81, 0.79]}
    sentence = compare.margin_sentence(margin_rows({"a": 0.85, "b": 0.80}), folds, ["model.x"])
    assert sentence == (
        "Its lead over the runner-up, b, is clear (+5.0 points on average over the same 3 folds,"
        " standard deviation 0.0)."
    )


def test_a_lead_that_changes_sign_across_folds_is_within_noise():
    folds = {"a": [0.85, 0.80, 0.90], "b": [0.84, 0.83, 0.86]}
    rows = margin_rows({"a": 0.85, "b": 0.8433})
    sentence = compare.margin_sentence(rows, folds, ["model.x"])
    assert sentence.startswith("The runner-up, b, is within noise of it (+0.7 points on average")
    assert sentence.endswith("the sweep does not single out one variant.")


def test_variants_on_other_folds_are_compared_by_their_spread():
    folds = {"a": [0.85, 0.86, 0.84], "b": [0.80, 0.81, 0.79]}
    rows = margin_rows({"a": 0.85, "b": 0.80})
    sentence = compare.margin_sentence(rows, folds, ["split.test_size"])
    # lead 0.05 against 1.96 * hypot(0.01 / sqrt 3, 0.01 / sqrt 3) = 0.016
    assert sentence == (
        "Its lead over the runner-up, b, is clear (+5.0 points; the swept parameters change the"
        " folds)."
    )
    assert compare.margin_sentence(margin_rows({"a": 0.85}), folds, []) == ""


def test_every_value_on_the_page_is_escaped(tmp_path):
    hostile = "<script>alert(1)</script>"
    fake_variant(tmp_path, "a", 0.85)
    fake_variant(tmp_path, "<i>b", 0.80)
    key = "data.source"
    entries = [
        ComparisonEntry("a", {key: hostile}, "done", 1.0),
        ComparisonEntry("<i>b", {key: "x"}, "done", 1.0),
        ComparisonEntry("c", {key: "<b>y</b>"}, "failed", 1.0, "<img src=x onerror=alert(2)>"),
    ]
    page = write_comparison(tmp_path, entries, [key])[0].read_text(encoding="utf-8")
    assert page.count("<script>") == 1  # the page's own sorting script
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;y&lt;/b&gt;" in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<i>" not in page and "<b>" not in page and "<img src=x" not in page
    # The runner-up's name in the margin sentence, escaped once.
    assert "Its lead over the runner-up, &lt;i&gt;b, is clear" in page
    assert 'href="&lt;i&gt;b/report.html"' in page
