import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from titanic import fingerprint
from titanic.cli import app
from titanic.config import DataSettings, load_settings
from titanic.errors import ConfigError, ReportError, SweepError
from titanic.fingerprint import json_sha256
from titanic.io.locations import data_fingerprint
from titanic.io.output_sets import OutputSet
from titanic.project import Project
from titanic.report.request import RenderRequest
from titanic.sweep import cache, worker
from titanic.sweep import run as sweep_run
from titanic.sweep.cache import (
    cache_components,
    source_fingerprint,
    stale_reason,
)
from titanic.sweep.executors import InlineExecutor, LocalProcessExecutor
from titanic.sweep.run import SweepOptions, SweepResult, run_sweep
from titanic.sweep.variants import MAX_NAME_LENGTH, expand_variants, variant_name
from titanic.sweep.worker import is_kernel_start_error

from .conftest import (
    REPO_ROOT,
    TINY_MODEL,
    count_validations,
    counting_report_project,
    metrics_json,
    write_params,
)

PARAMS = Path("params.yaml")  # the test project's, in the current folder
runner = CliRunner()
GRID = {"model.n_estimators": [10, 20], "model.max_depth": [2, 3, None]}


def settings_with(project: Path, variants: dict) -> object:
    write_params(project, **TINY_MODEL, variants=variants)
    return load_settings(PARAMS)


# --- expansion -----------------------------------------------------------------------------


def test_grid_is_a_cartesian_product_named_after_its_values(project):
    variants = expand_variants(settings_with(project, {"grid": GRID}))
    assert [variant.name for variant in variants] == [
        "n_estimators-10_max_depth-2",
        "n_estimators-10_max_depth-3",
        "n_estimators-10_max_depth-null",
        "n_estimators-20_max_depth-2",
        "n_estimators-20_max_depth-3",
        "n_estimators-20_max_depth-null",
    ]
    last = variants[-1]
    assert last.values == {"model.n_estimators": 20, "model.max_depth": None}
    assert last.settings.model.n_estimators == 20 and last.settings.model.max_depth is None
    # Everything not swept keeps params.yaml's value.
    assert last.settings.split.cv_folds == TINY_MODEL["split"]["cv_folds"]


def test_named_sets_follow_the_grid(project):
    variants = expand_variants(
        settings_with(
            project,
            {
                "grid": {"model.max_depth": [2, 3]},
                "sets": {"shallow_wide": {"model.max_depth": 1, "model.n_estimators": 50}},
            },
        )
    )
    assert [variant.name for variant in variants] == ["max_depth-2", "max_depth-3", "shallow_wide"]
    assert variants[-1].settings.model.n_estimators == 50


def test_names_are_filesystem_safe_stable_and_distinct():
    first = variant_name({"data.source": "s3://bucket/a b", "features.include": ["sex", "age"]})
    assert first == variant_name(
        {"data.source": "s3://bucket/a b", "features.include": ["sex", "age"]}
    )
    assert "/" not in first and " " not in first and ":" not in first
    assert first.startswith("source-s3+bucket+a+b.")
    assert first.endswith("_include-sex+age")
    assert variant_name({"data.source": "s3://bucket/a:b"}) != variant_name(
        {"data.source": "s3://bucket/a/b"}
    )
    # Two keys with the same last part keep their section, so the name stays unambiguous.
    assert variant_name({"split.cv_folds": 2, "model.cv_folds": 3}) == (
        "split.cv_folds-2_model.cv_folds-3"
    )
    assert len(variant_name({"data.source": "x" * 400})) <= MAX_NAME_LENGTH


@pytest.mark.parametrize(
    ("variants", "fragments"),
    [
        ({"grid": {"model.depth": [1, 2]}}, ["variants.grid", "model.depth"]),
        ({"grid": {"model.max_depth": []}}, ["model.max_depth", "at least one value"]),
        ({"grid": {"output_dir": ["a", "b"]}}, ["unknown parameter", "output_dir"]),
        ({"sets": {"bad name": {"model.max_depth": 2}}}, ["bad name"]),
        ({"sets": {"typo": {"modle.max_depth": 2}}}, ["typo", "modle.max_depth"]),
    ],
)
def test_unknown_keys_are_refused_when_the_parameters_load(project, variants, fragments):
    write_params(project, **TINY_MODEL, variants=variants)
    with pytest.raises(ConfigError) as caught:
        load_settings(PARAMS)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_every_invalid_variant_is_named_with_its_key(project):
    settings = settings_with(
        project,
        {
            "grid": {"model.n_estimators": [0, 10], "model.max_depth": [2]},
            "sets": {"deep": {"model.max_depth": -1}, "ok": {"model.max_depth": 5}},
        },
    )
    with pytest.raises(ConfigError) as caught:
        expand_variants(settings)
    message = str(caught.value)
    assert "n_estimators-0_max_depth-2: model.n_estimators" in message
    assert "deep: model.max_depth" in message
    assert "n_estimators-10" not in message and "ok:" not in message


def test_a_set_cannot_reuse_a_grid_name(project):
    settings = settings_with(
        project,
        {"grid": {"model.max_depth": [2]}, "sets": {"max_depth-2": {"model.max_depth": 4}}},
    )
    with pytest.raises(ConfigError, match="max_depth-2: two variants have this name"):
        expand_variants(settings)


# --- cache keys ----------------------------------------------------------------------------


@pytest.fixture
def key_inputs(project, data_copy, monkeypatch):
    """A project with its own report, lock file, package copy and data folder."""
    (project / "report.qmd").write_text("# report\n", encoding="utf-8")
    (project / "uv.lock").write_text("version = 1\n", encoding="utf-8")
    package = project / "package"
    shutil.copytree(REPO_ROOT / "src" / "titanic", package, ignore=shutil.ignore_patterns("data"))
    monkeypatch.setattr(fingerprint, "PACKAGE_DIR", package)
    return SimpleNamespace(project=project, data=data_copy, package=package)


def keys_of(inputs, grid) -> dict[str, str]:
    write_params(
        inputs.project, **TINY_MODEL, data={"source": str(inputs.data)}, variants={"grid": grid}
    )
    settings = load_settings(PARAMS)
    sources = source_fingerprint(inputs.project / "report.qmd", inputs.project / "uv.lock")
    data = data_fingerprint(settings.data)
    return {
        variant.name: json_sha256(cache_components(variant, sources, data))
        for variant in expand_variants(settings)
    }


def test_cache_keys_are_stable(key_inputs):
    first = keys_of(key_inputs, GRID)
    assert first == keys_of(key_inputs, GRID)
    assert len(set(first.values())) == len(first) == 6


def test_changing_one_grid_value_changes_only_its_variants(key_inputs):
    before = keys_of(key_inputs, GRID)
    after = keys_of(key_inputs, {**GRID, "model.max_depth": [2, 3, 5]})
    kept = {name for name in before if name.endswith(("max_depth-2", "max_depth-3"))}
    assert {name: after[name] for name in kept} == {name: before[name] for name in kept}
    assert set(after) - set(before) == {
        "n_estimators-10_max_depth-5",
        "n_estimators-20_max_depth-5",
    }


@pytest.mark.parametrize(
    "change",
    [
        lambda inputs: (inputs.project / "report.qmd").write_text("# edited\n", encoding="utf-8"),
        lambda inputs: (inputs.project / "_quarto.yml").write_text(
            "project: {}\n", encoding="utf-8"
        ),
        lambda inputs: (inputs.project / "report.scss").write_text(
            "/*-- scss:defaults --*/\n", encoding="utf-8"
        ),
        lambda inputs: (inputs.package / "features.py").write_text("# edited\n", encoding="utf-8"),
        lambda inputs: (inputs.package / "templates" / "new.tpl").write_text(
            "x", encoding="utf-8"
        ),
        lambda inputs: (inputs.project / "uv.lock").write_text("version = 2\n", encoding="utf-8"),
        lambda inputs: (inputs.data / "test.csv").write_bytes(
            (inputs.data / "test.csv").read_bytes() + b"\n"
        ),
    ],
    ids=["report", "quarto-config", "theme", "package-module", "package-template", "lock", "data"],
)
def test_changing_report_package_lock_or_data_changes_every_key(key_inputs, change):
    before = keys_of(key_inputs, GRID)
    (key_inputs.package / "templates").mkdir(exist_ok=True)
    change(key_inputs)
    after = keys_of(key_inputs, GRID)
    assert all(after[name] != before[name] for name in before)


def published_variant(folder: Path, components: dict) -> dict:
    """Publish a one-file variant set into ``folder`` with its cache record; return the record."""
    record = {"key": json_sha256(components), "components": components}
    with OutputSet(folder, "sweep", {}, extra={"cache": record}) as output:
        (output.path / "report.html").write_text("<html>", encoding="utf-8")
    return record


def test_stale_reason_names_what_changed(tmp_path):
    components = {"format": 1, "report": "a", "parameters": {"x": 1}}
    assert stale_reason(None, components, tmp_path) == "new"
    record = published_variant(tmp_path, components)
    assert stale_reason(record, components, tmp_path) is None
    changed = {**components, "report": "b", "parameters": {"x": 2}}
    assert stale_reason(record, changed, tmp_path) == "report, parameters changed"


def test_the_cache_serves_only_outputs_that_match_their_manifest(tmp_path):
    components = {"format": 1, "report": "a", "parameters": {"x": 1}}
    record = published_variant(tmp_path, components)
    (tmp_path / "report.html").write_text("<html>edited</html>", encoding="utf-8")
    assert stale_reason(record, components, tmp_path) == "outputs changed: report.html"
    (tmp_path / "report.html").unlink()
    assert stale_reason(record, components, tmp_path) == "outputs missing: report.html"


# --- orchestration, with a fake renderer ---------------------------------------------------


class FakeRender:
    """Writes what render_report writes; fails for max_depth=3; records its calls."""

    def __init__(self, failures: dict[str, list[BaseException]] | None = None):
        self.calls: list[str] = []
        self.failures = failures or {}

    def __call__(self, request: RenderRequest, output_dir: Path):
        assert request.formats == ("html",) and request.progress is False
        assert request.report_path.name == "report.qmd"
        depth = request.settings.model.max_depth
        name = output_dir.parent.name  # output_dir is the variant's staging folder
        self.calls.append(name)
        if self.failures.get(name):
            raise self.failures[name].pop(0)
        if depth == 3:
            raise ReportError("report.qmd: cell 14 failed: ValueError: depth three")
        score = 0.7 + depth / 100
        output_dir.mkdir(parents=True, exist_ok=True)
        metrics = metrics_json(score, cv_mean=score, cv_std=0.01)
        (output_dir / "metrics.json").write_text(metrics, encoding="utf-8")
        (output_dir / "report.html").write_text(f"<html>{name}</html>", encoding="utf-8")
        (output_dir / "report.ipynb").write_text("{}", encoding="utf-8")
        return SimpleNamespace(
            html=output_dir / "report.html",
            notebook=output_dir / "report.ipynb",
            metrics=output_dir / "metrics.json",
        )


@pytest.fixture
def fake_project(project):
    (project / "report.qmd").write_text("# report\n", encoding="utf-8")
    write_params(project, **TINY_MODEL, variants={"grid": {"model.max_depth": [2, 3, 4]}})
    return project


def sweep_once(render, **options) -> SweepResult:
    return run_sweep(
        Project.at(Path.cwd()), SweepOptions(**options), InlineExecutor(), render=render
    )


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_mtime_ns, path.stat().st_size)
        for path in sorted(folder.rglob("*"))
    }


def test_a_failing_variant_is_isolated_and_reported(fake_project):
    render = FakeRender()
    result = sweep_once(render)
    statuses = {outcome.variant.name: outcome.status for outcome in result.outcomes}
    assert statuses == {"max_depth-2": "done", "max_depth-3": "failed", "max_depth-4": "done"}
    folder = fake_project / "_output" / "variants"
    for name in ("max_depth-2", "max_depth-4"):
        assert (folder / name / "report.html").read_text() == f"<html>{name}</html>"
        assert (folder / name / "manifest.json").is_file()
        assert not list((folder / name).glob(".staging-*"))
    assert not (folder / "max_depth-3" / "manifest.json").exists()
    log = (folder / "max_depth-3" / "sweep-failed.log").read_text()
    assert "Traceback" in log and "depth three" in log
    summary = pd.read_csv(folder / "summary.csv")
    failed = summary.set_index("variant").loc["max_depth-3"]
    assert failed["status"] == "failed" and "depth three" in failed["error"]
    assert "\n" not in failed["error"]
    assert summary.set_index("variant").loc["max_depth-4", "best"]


def test_an_unchanged_variant_is_not_run_again_and_its_folder_untouched(fake_project):
    render = FakeRender()
    sweep_once(render)
    folder = fake_project / "_output" / "variants"
    before = {name: snapshot(folder / name) for name in ("max_depth-2", "max_depth-4")}
    render.calls.clear()
    result = sweep_once(render)
    # Only the failed variant runs again.
    assert render.calls == ["max_depth-3"]
    assert [outcome.variant.name for outcome in result.with_status("cached")] == [
        "max_depth-2",
        "max_depth-4",
    ]
    assert {name: snapshot(folder / name) for name in before} == before
    summary = pd.read_csv(folder / "summary.csv").set_index("variant")
    assert summary.loc["max_depth-2", "cached"] and not summary.loc["max_depth-3", "cached"]


def test_changing_one_grid_value_reruns_only_that_variant(fake_project):
    render = FakeRender()
    sweep_once(render)
    write_params(fake_project, **TINY_MODEL, variants={"grid": {"model.max_depth": [2, 3, 5]}})
    render.calls.clear()
    result = sweep_once(render)
    assert sorted(render.calls) == ["max_depth-3", "max_depth-5"]
    assert [outcome.variant.name for outcome in result.outcomes] == [
        "max_depth-2",
        "max_depth-3",
        "max_depth-5",
    ]


def test_force_and_shared_changes_rerun_everything(fake_project):
    render = FakeRender()
    sweep_once(render)
    render.calls.clear()
    sweep_once(render, force=True)
    assert sorted(render.calls) == ["max_depth-2", "max_depth-3", "max_depth-4"]
    render.calls.clear()
    sweep_once(render, overrides=("split.cv_folds=3",))
    assert sorted(render.calls) == ["max_depth-2", "max_depth-3", "max_depth-4"]


def test_an_edited_output_is_not_served_from_the_cache(fake_project):
    render = FakeRender()
    sweep_once(render)
    metrics = fake_project / "_output" / "variants" / "max_depth-4" / "metrics.json"
    metrics.write_text(metrics.read_text().replace("0.74", "0.99"), encoding="utf-8")
    render.calls.clear()
    result = sweep_once(render)
    assert render.calls == ["max_depth-3", "max_depth-4"]  # 3 failed before; 4 was edited
    outcome = next(o for o in result.outcomes if o.variant.name == "max_depth-4")
    assert (outcome.status, outcome.reason) == ("done", "outputs changed: metrics.json")
    assert "0.99" not in metrics.read_text()


def test_only_runs_the_named_variants(fake_project):
    render = FakeRender()
    result = sweep_once(render, only=("max_depth-4",))
    assert render.calls == ["max_depth-4"]
    assert {outcome.status for outcome in result.outcomes} == {"done", "skipped"}
    with pytest.raises(SweepError, match="no variant named max_depth-9"):
        sweep_once(render, only=("max_depth-9",))


def test_a_kernel_that_fails_to_start_is_retried(fake_project, monkeypatch):
    monkeypatch.setattr(worker, "RETRY_DELAY_SECONDS", 0)
    port_clash = ReportError("papermill failed")
    port_clash.__cause__ = RuntimeError("Kernel didn't respond in 60 seconds")
    render = FakeRender(
        {"max_depth-2": [port_clash], "max_depth-4": [OSError("Address already in use")] * 3}
    )
    result = sweep_once(render, retries=2)
    outcomes = {outcome.variant.name: outcome for outcome in result.outcomes}
    assert render.calls.count("max_depth-2") == 2
    assert outcomes["max_depth-2"].status == "done" and outcomes["max_depth-2"].attempts == 2
    # Bounded: three kernel failures with two retries allowed is a failure.
    assert render.calls.count("max_depth-4") == 3
    assert outcomes["max_depth-4"].status == "failed"
    assert "Address already in use" in outcomes["max_depth-4"].error
    # A cell error is not retried.
    assert render.calls.count("max_depth-3") == 1


def test_kernel_start_errors_are_told_from_cell_errors():
    assert is_kernel_start_error(RuntimeError("Kernel died before replying to kernel_info"))
    wrapped = ReportError("execution failed")
    wrapped.__cause__ = TimeoutError("Kernel didn't respond in 60 seconds")
    assert is_kernel_start_error(wrapped)

    class PapermillExecutionError(Exception):
        pass

    cell = PapermillExecutionError("OSError: Address already in use")
    assert not is_kernel_start_error(cell)
    assert not is_kernel_start_error(ValueError("n_splits=10 greater than n_samples=8"))


def test_a_missing_report_or_no_variants_stops_before_running(fake_project):
    render = FakeRender()
    with pytest.raises(SweepError, match="report not found"):
        sweep_once(render, report=fake_project / "missing.qmd")
    write_params(fake_project, **TINY_MODEL, variants={"grid": {}, "sets": {}})
    with pytest.raises(SweepError, match="no variants"):
        sweep_once(render)
    assert render.calls == []


def test_cli_sweep_errors_are_one_line(fake_project):
    write_params(fake_project, **TINY_MODEL, variants={"grid": {"model.n_estimators": [0]}})
    result = runner.invoke(app, ["sweep", "--jobs", "1"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: variants: n_estimators-0: model.n_estimators")
    assert "Traceback" not in result.output


def test_local_process_executor_runs_jobs_in_other_processes():
    with LocalProcessExecutor(2) as executor:
        futures = [executor.submit(abs, value) for value in (-1, -2, -3)]
        assert [future.result(timeout=60) for future in futures] == [1, 2, 3]
    with pytest.raises(ValueError, match="spawn or forkserver"):
        LocalProcessExecutor(1, start_method="fork")


def compiled_exporters(_task: object) -> int:
    """In a pool worker: how many HTML exporters it holds, templates compiled (0 or 1)."""
    from titanic.report import html  # pylint: disable=import-outside-toplevel

    return html._exporter.cache_info().currsize  # pylint: disable=protected-access


def test_render_pool_workers_start_with_the_page_templates_compiled():
    # In a new interpreter: a process has one forkserver, preloaded by the first pool it starts.
    script = (
        "from titanic.sweep.pool import render_pool\n"
        "from tests.test_sweep import compiled_exporters\n"
        "with render_pool(1) as pool:\n"
        "    print(pool.submit(compiled_exporters, None).result(timeout=120))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    assert done.stdout.split() == ["1"]


# --- end to end ----------------------------------------------------------------------------


@pytest.mark.slow
def test_sweep_end_to_end_twice_then_with_a_failing_variant(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    output = tmp_path / "out"
    params = tmp_path / "tiny.yaml"
    tiny = {
        **TINY_MODEL,
        "output_dir": str(output),
        "variants": {"grid": {"model.max_depth": [2, 3]}},
    }
    params.write_text(yaml.safe_dump(tiny), encoding="utf-8")
    folder = output / "variants"

    first = runner.invoke(app, ["sweep", "--params", str(params), "--jobs", "2"])
    assert first.exit_code == 0, first.output
    names = ["max_depth-2", "max_depth-3"]
    for name in names:
        for produced in (
            "report.html",
            "report.ipynb",
            "metrics.json",
            "sweep.log",
            "manifest.json",
        ):
            assert (folder / name / produced).is_file()
        metrics = json.loads((folder / name / "metrics.json").read_text())
        assert metrics["parameters"]["model"]["max_depth"] == int(name[-1])
    page = (folder / "index.html").read_text()
    assert all(f'href="{name}/report.html"' in page for name in names)
    executed = {name: snapshot(folder / name) for name in names}

    second = runner.invoke(app, ["sweep", "--params", str(params), "--jobs", "2"])
    assert second.exit_code == 0, second.output
    assert second.stderr.count("cached") >= 2 and "done " not in second.stderr
    # No notebook ran: every file of both variants is as the first run left it.
    assert {name: snapshot(folder / name) for name in names} == executed

    tiny["variants"]["sets"] = {"broken": {"split.test_size": 0.99, "split.cv_folds": 10}}
    params.write_text(yaml.safe_dump(tiny), encoding="utf-8")
    third = runner.invoke(app, ["sweep", "--params", str(params), "--jobs", "2"])
    assert third.exit_code == 1
    assert "1 of 3 variants failed: broken" in third.stderr
    assert {name: snapshot(folder / name) for name in names} == executed
    summary = pd.read_csv(folder / "summary.csv").set_index("variant")
    assert summary.loc["broken", "status"] == "failed"
    assert "split.cv_folds = 10" in summary.loc["broken", "error"]
    assert list(summary.loc[names, "status"]) == ["cached", "cached"]


def test_a_params_file_grid_replaces_params_yaml_grid(project):
    write_params(
        project, **TINY_MODEL, variants={"grid": GRID, "sets": {"a": {"random_state": 1}}}
    )
    extra = project / "extra.yaml"
    extra.write_text(yaml.safe_dump({"variants": {"grid": {"model.max_depth": [5]}}}))
    variants = expand_variants(load_settings(PARAMS, extra_files=[extra]))
    assert [variant.name for variant in variants] == ["max_depth-5", "a"]


# --- bounded: the grid is counted before it is expanded; long lists are cut short ----------


def test_a_huge_grid_is_refused_from_its_lengths_before_anything_is_expanded(project):
    grid = {key: list(range(1, 101)) for key in ("model.n_estimators", "random_state")}
    grid["model.min_samples_split"] = list(range(2, 102))
    write_params(project, **TINY_MODEL, variants={"grid": grid, "sets": {"a": {}, "b": {}}})
    with pytest.raises(ConfigError) as caught:
        load_settings(PARAMS)
    message = str(caught.value)
    assert "1000002 variants (100 x 100 x 100 + 2 sets)" in message
    assert "more than variants.max_variants = 1000" in message
    assert "-P variants.max_variants=" in message


def test_max_variants_is_settable_and_counts_the_sets(project):
    variants = {"grid": GRID, "sets": {"balanced": {"model.class_weight": "balanced"}}}
    write_params(project, **TINY_MODEL, variants={**variants, "max_variants": 6})
    with pytest.raises(ConfigError, match=r"7 variants \(2 x 3 \+ 1 set\)"):
        load_settings(PARAMS)
    write_params(project, **TINY_MODEL, variants={**variants, "max_variants": 7})
    assert len(expand_variants(load_settings(PARAMS))) == 7


def test_many_invalid_variants_are_shown_as_a_few_and_a_count(project):
    settings = settings_with(project, {"grid": {"model.n_estimators": list(range(-40, 0))}})
    with pytest.raises(ConfigError) as caught:
        expand_variants(settings)
    message = str(caught.value)
    assert "n_estimators-40.246f6c: model.n_estimators: Input should be greater than 0" in message
    assert "and 35 more" in message
    assert "(got -1)" not in message


def test_many_unknown_keys_are_shown_as_a_few_and_a_count(project):
    grid = {f"model.typo{number}": [1] for number in range(30)}
    write_params(project, **TINY_MODEL, variants={"grid": grid})
    with pytest.raises(ConfigError) as caught:
        load_settings(PARAMS)
    message = str(caught.value)
    assert "model.typo0" in message and "and 25 more" in message
    assert "model.typo29" not in message


def test_only_with_many_unknown_names_shows_a_few_and_a_count(fake_project):
    wanted = tuple(f"nope-{number}" for number in range(50))
    with pytest.raises(SweepError) as caught:
        sweep_once(FakeRender(), only=wanted)
    message = str(caught.value)
    assert "no variant named nope-0" in message and "and 45 more" in message
    assert "nope-49" not in message
    assert "the 3 variants are: max_depth-2, max_depth-3, max_depth-4" in message


def test_cli_sweep_exits_1_naming_the_failed_variant(fake_project, monkeypatch):
    render = FakeRender()

    def inline_sweep(project, options, executor, observer=None):
        del executor  # the CLI's process pool: the fake renderer runs in this process instead
        return run_sweep(project, options, InlineExecutor(), observer, render=render)

    monkeypatch.setattr(sweep_run, "run_sweep", inline_sweep)
    result = runner.invoke(app, ["sweep", "--jobs", "1"])
    assert result.exit_code == 1
    assert sorted(render.calls) == ["max_depth-2", "max_depth-3", "max_depth-4"]
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("error: 1 of 3 variants failed: max_depth-3;")
    )


def test_data_fingerprint_reads_a_relative_source_from_the_project_root(tmp_path, monkeypatch):
    (tmp_path / "project" / "data").mkdir(parents=True)
    (tmp_path / "project" / "data" / "train.csv").write_bytes(b"train bytes")
    (tmp_path / "project" / "data" / "test.csv").write_bytes(b"test bytes")
    monkeypatch.chdir(tmp_path)
    data = DataSettings(source="data", train_file="train.csv", test_file="test.csv")
    assert data_fingerprint(data, tmp_path / "project") == {
        "train.csv": hashlib.sha256(b"train bytes").hexdigest(),
        "test.csv": hashlib.sha256(b"test bytes").hexdigest(),
    }


def test_the_source_fingerprint_format(tmp_path, monkeypatch):
    """Contract: the cache key's shared components and how each is hashed (a change invalidates
    every cache made before it)."""
    (tmp_path / "report.qmd").write_bytes(b"report")
    (tmp_path / "report.scss").write_bytes(b"theme")
    (tmp_path / "uv.lock").write_bytes(b"lock")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_bytes(b"m")
    monkeypatch.setattr(fingerprint, "PACKAGE_DIR", tmp_path / "pkg")

    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    package = sha(b"m.py\0" + sha(b"m").encode() + b"\n")
    # The report, then _quarto.yml (absent here) and report.scss, as one string of digests.
    report = sha((sha(b"report") + "absent" + sha(b"theme")).encode())
    sources = source_fingerprint(tmp_path / "report.qmd", tmp_path / "uv.lock")
    assert sources == {"report": report, "package": package, "lock": sha(b"lock")}


def test_the_cache_components_format(project):
    """Contract: the document whose canonical JSON is a variant's cache key."""
    settings = settings_with(project, {"grid": {"random_state": [1]}})
    variant = expand_variants(settings)[0]
    components = cache_components(variant, {"report": "r", "lock": "l"}, {"train.csv": "t"})
    assert components == {
        "format": 1,
        "report": "r",
        "lock": "l",
        "parameters": variant.parameters(),
        "data": {"train.csv": "t"},
    }
    assert "variants" not in components["parameters"]


def test_stale_reason_without_stored_components_or_with_only_the_key_changed(tmp_path):
    components = {"format": 1, "report": "a"}
    assert stale_reason({"key": "old"}, components, tmp_path) == "format, report changed"
    same = {"key": "old", "components": components}
    assert stale_reason(same, components, tmp_path) == "key changed"


def test_the_cache_record_is_read_from_the_manifest(tmp_path):
    record = published_variant(tmp_path / "a", {"format": 1})
    assert cache.read_cache_record(tmp_path / "a") == record
    assert cache.read_cache_record(tmp_path / "nothing") is None
    with OutputSet(tmp_path / "b", "sweep", {}, extra={"cache": "not a record"}) as output:
        (output.path / "report.html").write_text("<html>", encoding="utf-8")
    assert cache.read_cache_record(tmp_path / "b") is None
    with OutputSet(tmp_path / "c", "sweep", {}) as output:
        (output.path / "report.html").write_text("<html>", encoding="utf-8")
    assert cache.read_cache_record(tmp_path / "c") is None


@pytest.mark.slow
def test_each_variant_is_validated_once_and_its_kernel_never(tmp_path, monkeypatch):
    root = counting_report_project(tmp_path / "project", monkeypatch)
    write_params(root, **TINY_MODEL, variants={"grid": {"model.max_depth": [2, 3]}})
    calls = count_validations(monkeypatch)
    result = run_sweep(
        Project.at(root), SweepOptions(overrides=("model.n_estimators=7",)), InlineExecutor()
    )
    assert [outcome.status for outcome in result.outcomes] == ["done", "done"]
    assert len(calls) == 1 + 2  # the sweep's parameters, then each variant
    assert (root / "kernel-validations.txt").read_text(encoding="utf-8") == "0\n0\n"
    for depth in (2, 3):
        metrics = result.folder / f"max_depth-{depth}" / "metrics.json"
        model = json.loads(metrics.read_text(encoding="utf-8"))["parameters"]["model"]
        assert (model["n_estimators"], model["max_depth"]) == (7, depth)


def test_a_variant_s_settings_are_the_parameters_with_its_values_given_as_p(project):
    sweep = {
        "grid": {"model.max_depth": [2, None]},
        "sets": {"wide": {"features.include": ["sex"]}},
    }
    settings = settings_with(project, sweep)
    for variant in expand_variants(settings):
        # What the variant's report ran with when it merged params.yaml and -P overrides itself.
        overrides = [f"{key}={json.dumps(value)}" for key, value in variant.values.items()]
        assert variant.settings == load_settings(PARAMS, overrides=overrides), variant.name
        assert variant.settings.variants == settings.variants
