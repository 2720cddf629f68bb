"""The shared cache of work no swept parameter changes: titanic.io.memo and its two users."""

import pickle

import pandas as pd
import pytest

from titanic import dataset as dataset_module
from titanic.config import load_settings
from titanic.dataset import load_dataset
from titanic.io import memo
from titanic.io.memo import ContentCache, Sealed, cache_folder
from titanic.project import Project
from titanic.report import overview as overview_module
from titanic.report.overview import data_overview, report_cache, shared_overview
from titanic.report.render import RenderRequest, render_report

from .conftest import REPO_ROOT
from .test_reuse import normalised, tiny_report_project


class Counter:
    """A computation that counts its calls and returns its inputs' value."""

    def __init__(self):
        self.calls = 0

    def __call__(self, value):
        def compute():
            self.calls += 1
            return {"value": value}

        return compute


@pytest.fixture
def cache(tmp_path):
    return ContentCache(cache_folder(tmp_path / "out"))


def entries(folder):
    return sorted(folder.rglob("output.pkl"))


def test_a_value_is_computed_once_per_content_and_again_for_other_inputs(cache):
    counter = Counter()
    assert cache.get("thing", {"sha256": "a"}, counter(1)) == {"value": 1}
    assert cache.get("thing", {"sha256": "a"}, counter(1)) == {"value": 1}
    assert counter.calls == 1
    assert cache.get("thing", {"sha256": "b"}, counter(2)) == {"value": 2}
    assert cache.get("other thing", {"sha256": "a"}, counter(3)) == {"value": 3}
    assert counter.calls == 3


def test_another_package_or_environment_computes_again(cache, monkeypatch):
    counter = Counter()
    cache.get("thing", {"sha256": "a"}, counter(1))
    monkeypatch.setattr(memo, "runtime_fingerprint", lambda: "another package")
    assert cache.get("thing", {"sha256": "a"}, counter(2)) == {"value": 2}
    assert counter.calls == 2


@pytest.mark.parametrize("damage", ["payload", "unreadable"])
def test_a_damaged_entry_is_never_served(cache, tmp_path, damage):
    counter = Counter()
    cache.get("thing", {"sha256": "a"}, counter(1))
    (entry,) = entries(tmp_path / "out")
    if damage == "payload":
        forged = Sealed(memo.sha256_hex(pickle.dumps("x")), pickle.dumps({"value": "forged"}))
        entry.write_bytes(pickle.dumps(forged))
    else:
        entry.write_bytes(entry.read_bytes()[:20])
    assert cache.get("thing", {"sha256": "a"}, counter(1)) == {"value": 1}
    assert counter.calls == 2
    assert cache.get("thing", {"sha256": "a"}, counter(1)) == {"value": 1}
    assert counter.calls == 2  # the entry written again is good


def test_no_location_caches_nothing(tmp_path):
    counter = Counter()
    uncached = ContentCache(None)
    uncached.get("thing", {"sha256": "a"}, counter(1))
    uncached.get("thing", {"sha256": "a"}, counter(1))
    assert counter.calls == 2


def test_the_cache_lives_in_the_parameters_output_folder(project):
    settings = load_settings(project / "params.yaml", overrides=["output_dir=elsewhere"])
    cache = report_cache(Project.at(project), settings)
    assert cache.location == project / "elsewhere" / ".cache"


# --- data loading --------------------------------------------------------------------------


@pytest.fixture
def parses(monkeypatch):
    calls = []
    real = dataset_module.parse_table

    def spy(content, name, url):
        calls.append(name)
        return real(content, name, url)

    monkeypatch.setattr(dataset_module, "parse_table", spy)
    return calls


def data_settings(folder):
    return load_settings(REPO_ROOT / "params.yaml", overrides=[f"data.source={folder}"]).data


def test_validated_tables_are_parsed_once_per_content(cache, data_copy, parses):
    first = load_dataset(data_settings(data_copy), cache=cache)
    second = load_dataset(data_settings(data_copy), cache=cache)
    assert parses == ["train.csv", "test.csv"]
    pd.testing.assert_frame_equal(first.train, second.train, check_exact=True)
    pd.testing.assert_frame_equal(first.test, second.test, check_exact=True)
    assert first.provenance() == second.provenance()
    uncached = load_dataset(data_settings(data_copy))
    pd.testing.assert_frame_equal(uncached.train, second.train, check_exact=True)


def test_changed_data_bytes_are_parsed_again(cache, data_copy, parses):
    load_dataset(data_settings(data_copy), cache=cache)
    train = data_copy / "train.csv"
    train.write_bytes(train.read_bytes().replace(b"Braund, Mr. Owen Harris", b"Braund, Mr. Owen"))
    changed = load_dataset(data_settings(data_copy), cache=cache)
    assert parses == ["train.csv", "test.csv", "train.csv"]
    assert changed.train.loc[0, "Name"] == "Braund, Mr. Owen"


def test_a_file_that_fails_validation_fails_every_time(cache, data_copy):
    train = data_copy / "train.csv"
    train.write_bytes(train.read_bytes().replace(b",male,", b",robot,", 1))
    for _ in range(2):
        with pytest.raises(dataset_module.DataError, match="robot"):
            load_dataset(data_settings(data_copy), cache=cache)


# --- the report's descriptive tables and figures -------------------------------------------


@pytest.fixture
def draws(monkeypatch):
    calls = []
    real = overview_module.data_overview

    def spy(dataset):
        calls.append(dataset.source)
        return real(dataset)

    monkeypatch.setattr(overview_module, "data_overview", spy)
    return calls


def test_the_overview_is_drawn_once_and_served_identical(cache, data_copy, draws):
    dataset = load_dataset(data_settings(data_copy), cache=cache)
    first = shared_overview(dataset, cache)
    second = shared_overview(load_dataset(data_settings(data_copy), cache=cache), cache)
    assert len(draws) == 1
    assert second == first
    assert second.correlation.png == data_overview(dataset).correlation.png


def test_the_overview_of_other_data_is_drawn_again(cache, data_copy, draws):
    before = shared_overview(load_dataset(data_settings(data_copy), cache=cache), cache)
    train = data_copy / "train.csv"
    train.write_bytes(train.read_bytes().replace(b",female,", b",male,", 50))
    after = shared_overview(load_dataset(data_settings(data_copy), cache=cache), cache)
    assert len(draws) == 2
    assert after.sex.png != before.sex.png
    assert after.files != before.files  # the new sha256


# --- a whole render from the cache ---------------------------------------------------------


@pytest.mark.slow
def test_a_render_from_the_shared_cache_equals_a_cold_render(tmp_path, monkeypatch):
    root = tmp_path / "project"
    project = tiny_report_project(root, monkeypatch)
    cold, warm = tmp_path / "cold", tmp_path / "warm"
    request = RenderRequest.resolve(project, formats=("html",), progress=False)
    render_report(request, output_dir=cold)
    stored = {path: path.stat().st_mtime_ns for path in entries(root / "_output")}
    assert len(stored) == 4  # train.csv, test.csv, the overview, baselines and nested search
    render_report(request, output_dir=warm)
    assert {path: path.stat().st_mtime_ns for path in entries(root / "_output")} == stored
    for name in ("model.joblib", "params.resolved.yaml", "figures/roc_curve.png"):
        assert (warm / name).read_bytes() == (cold / name).read_bytes(), name
    for name in ("report.html", "metrics.json"):
        served = normalised((warm / name).read_text(encoding="utf-8"))
        assert served == normalised((cold / name).read_text(encoding="utf-8")), name
