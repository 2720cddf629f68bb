import json
import logging
import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from titanic.cli import app, commands
from titanic.errors import ConfigError

from .conftest import REPO_ROOT

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def assert_one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 1, result.output
    message = result.stderr.strip()
    assert message.startswith("error: ")
    assert "\n" not in message and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in message
    return message


@pytest.fixture
def finished_run(project):
    result = invoke("run")
    assert result.exit_code == 0, result.output
    return project / "_output"


def test_run_writes_model_metrics_figures_and_prints_them(finished_run):
    for name in (
        "model.joblib",
        "metrics.json",
        "params.resolved.yaml",
        "figures/confusion_matrix.png",
        "figures/roc_curve.png",
        "figures/permutation_importance.png",
    ):
        assert (finished_run / name).stat().st_size > 0, name
    document = json.loads((finished_run / "metrics.json").read_text())
    assert set(document) == {"metrics", "parameters", "data", "provenance"}
    assert document["parameters"]["model"]["n_estimators"] == 10
    assert document["data"]["files"]["train"]["sha256"].startswith("7d118fef")
    assert set(document["provenance"]) == {"git", "versions", "timestamp"}
    resolved = yaml.safe_load((finished_run / "params.resolved.yaml").read_text())
    assert resolved == document["parameters"]


def test_run_prints_accuracy_and_confusion_matrix(project):
    result = invoke("run")
    document = json.loads((project / "_output" / "metrics.json").read_text())
    accuracy = document["metrics"]["validation"]["accuracy"]
    assert f"Accuracy on the 179 held-out rows: {accuracy:.1%}" in result.stdout
    matrix = document["metrics"]["confusion_matrix"]["rows_actual_columns_predicted"]
    assert re.search(rf"died\s+{matrix[0][0]}\s+{matrix[0][1]}\n", result.stdout)
    assert re.search(rf"survived\s+{matrix[1][0]}\s+{matrix[1][1]}\n", result.stdout)
    assert f"Wrote {project / '_output' / 'metrics.json'}" in result.stdout


def test_two_runs_give_identical_metrics_apart_from_the_timestamp(finished_run):
    first = json.loads((finished_run / "metrics.json").read_text())
    assert invoke("run").exit_code == 0
    second = json.loads((finished_run / "metrics.json").read_text())
    for document in (first, second):
        del document["provenance"]["timestamp"]
    assert first == second


def test_overrides_change_the_run(project):
    assert invoke("run", "-P", "model.max_depth=2", "-P", "random_state=3").exit_code == 0
    document = json.loads((project / "_output" / "metrics.json").read_text())
    assert document["parameters"]["model"]["max_depth"] == 2
    assert document["parameters"]["random_state"] == 3


def test_predict_writes_a_kaggle_submission(project, kaggle_dir):
    result = invoke("predict")
    assert result.exit_code == 0, result.output
    submission = pd.read_csv(project / "_output" / "submission.csv")
    assert list(submission.columns) == ["PassengerId", "Survived"]
    assert len(submission) == 418
    expected_ids = pd.read_csv(kaggle_dir / "test.csv")["PassengerId"]
    assert submission["PassengerId"].tolist() == expected_ids.tolist()
    assert set(submission["Survived"]) <= {0, 1}
    assert "418 passengers" in result.stdout


def test_params_prints_the_resolved_values(project):
    result = invoke("params", "-P", "model.n_estimators=7")
    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)["model"]["n_estimators"] == 7


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["-P", "model.n_estimators=0"],
            ["model.n_estimators", "greater than 0", "[-P model.n_estimators=0]"],
        ),
        (["-P", "split.test_size=1"], ["split.test_size", "less than 1"]),
        (["-P", "model.max_depth=-2"], ["model.max_depth"]),
        (["-P", "model.n_estimator=5"], ["model.n_estimator: unknown key"]),
        (["-P", "model.n_estimators=lots"], ["model.n_estimators", "valid integer"]),
        (["-P", "justakey"], ["KEY=VALUE"]),
        (["--params", "missing.yaml"], ["missing.yaml: file not found"]),
    ],
)
def test_bad_parameters_are_one_line_and_exit_1(project, args, fragments):
    assert_one_line_error(invoke("run", *args), *fragments)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("", "the file is empty"), ("model: [1,\n", "malformed YAML"), ("3\n", "expected a mapping")],
)
def test_bad_params_yaml(project, content, fragment):
    (project / "params.yaml").write_text(content)
    assert_one_line_error(invoke("predict"), "params.yaml", fragment)


def test_bad_data_keeps_the_previous_outputs(finished_run, data_copy):
    before = (finished_run / "metrics.json").read_bytes()
    model_before = (finished_run / "model.joblib").read_bytes()
    train = data_copy / "train.csv"
    train.write_text(train.read_text().replace(",male,", ",robot,", 1))
    result = invoke("run", "-P", f"data.source={data_copy}")
    assert_one_line_error(result, f"{train}", "column 'Sex' fails isin", "row 1 ('robot')")
    assert (finished_run / "metrics.json").read_bytes() == before
    assert (finished_run / "model.joblib").read_bytes() == model_before
    assert not list(finished_run.glob(".*.tmp"))


def test_missing_data_file(project, tmp_path):
    assert_one_line_error(invoke("run", "-P", f"data.source={tmp_path}/nowhere"), "file not found")


def test_debug_shows_the_traceback(project):
    result = invoke("--debug", "run", "-P", "model.n_estimators=0")
    assert result.exit_code == 1
    assert isinstance(result.exception, ConfigError)


def test_help_lists_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("run", "predict", "params"):
        assert command in result.stdout
    run_help = invoke("run", "--help").stdout
    assert "KEY=VALUE" in run_help and "--params" in run_help


def test_main_py_prints_accuracy_and_confusion_matrix(project):
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py")],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Accuracy on the 179 held-out rows:" in completed.stdout
    assert "Confusion matrix" in completed.stdout
    assert "predicted  died  survived" in completed.stdout


def test_console_script_reports_errors_without_traceback(project):
    titanic = REPO_ROOT / ".venv" / "bin" / "titanic"
    if not titanic.exists():
        titanic = sys.executable.replace("python", "titanic")
    completed = subprocess.run(
        [str(titanic), "run", "-P", "split.test_size=2"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr.count("\n") == 1 and "split.test_size" in completed.stderr


INTERRUPTED_WHILE_IMPORTING = """
import sys
from titanic.errors import Interrupted

class Interrupting:
    def find_spec(self, name, path=None, target=None):
        if name == "titanic.cli.commands":
            raise {error}

sys.meta_path.insert(0, Interrupting())
from titanic.cli import main
main(["run"])
"""


@pytest.mark.parametrize(
    ("error", "code", "name"),
    [("KeyboardInterrupt", 130, "SIGINT"), ("Interrupted(15)", 143, "SIGTERM")],
)
def test_a_signal_while_the_cli_starts_ends_it_quietly(project, error, code, name):
    completed = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_WHILE_IMPORTING.format(error=error)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == code
    assert completed.stderr == f"interrupted ({name}) while starting\n"
    assert not (project / "_output").exists()


# --- faults at the edges: one line, exit code 1 ---------------------------------------------


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (
            "model: &m {n_estimators: 5}\nsplit: *m\n",
            "line 1: anchors and aliases are not allowed",
        ),
        ("model: {n_estimators: 5}\nmodel: {max_depth: 2}\n", "duplicate key 'model' at lines 1"),
        (
            "variants:\n  grid:\n    random_state: [" + ", ".join(map(str, range(40))) + "]\n"
            "    model.n_estimators: [" + ", ".join(map(str, range(1, 41))) + "]\n",
            "1600 variants (40 x 40 + 0 sets) is more than variants.max_variants = 1000",
        ),
    ],
    ids=["alias", "duplicate", "grid"],
)
def test_bad_yaml_and_huge_grids_are_one_line(project, content, fragment):
    (project / "bad.yaml").write_text(content)
    assert_one_line_error(invoke("sweep", "--params", "bad.yaml"), fragment)


@pytest.mark.parametrize(
    ("train", "fragment"),
    [
        (b"<!doctype html><html><body>Log in</body></html>\n", "this is an HTML page, not a CSV"),
        (None, "line 2 has 11 fields, the header has 12"),
        (1, "1 labelled row is too few for split.test_size = 0.2 and split.cv_folds = 2"),
    ],
    ids=["html", "short-row", "one-row"],
)
def test_data_that_lies_is_one_line(project, data_copy, train, fragment):
    path = data_copy / "train.csv"
    lines = path.read_text().splitlines(keepends=True)
    if train is None:
        lines[1] = lines[1].replace(",male,", ",", 1)
        path.write_text("".join(lines))
    elif isinstance(train, int):
        path.write_text("".join(lines[: train + 1]))
    else:
        path.write_bytes(train)
    result = invoke("run", "-P", f"data.source={data_copy}")
    assert_one_line_error(result, f"{path}: {fragment}")
    assert not (project / "_output").exists()


def test_quiet_leaves_only_errors_on_stderr(project):
    loud = invoke("-v", "data", "push", "--to", str(project / "loud"))
    assert loud.exit_code == 0, loud.output
    assert loud.stderr.startswith("INFO") and "uploading" in loud.stderr
    quiet = invoke("-v", "-q", "data", "push", "--to", str(project / "quiet"))
    assert quiet.exit_code == 0, quiet.output
    assert (project / "quiet" / "train.csv").is_file()
    assert quiet.stderr == ""
    failed = invoke("-q", "run", "-P", "model.n_estimators=0")
    assert failed.exit_code == 1
    assert failed.stderr.startswith("error: invalid parameters: model.n_estimators")


def test_a_logged_library_error_shows_its_traceback_only_with_debug(project, monkeypatch):
    real = commands.settings_from
    # A handler added later (a sweep variant's log file) still gets the traceback.
    file_log: list[object] = []
    keeper = logging.Handler(level=logging.ERROR)
    keeper.emit = lambda record: file_log.append(record.exc_info)  # type: ignore[method-assign]

    def settings_after_a_logged_error(*args):
        logging.getLogger().addHandler(keeper)
        try:
            raise RuntimeError("the kernel is gone")
        except RuntimeError:
            logging.getLogger("papermill").exception("Kernel died")
        finally:
            logging.getLogger().removeHandler(keeper)
        return real(*args)

    monkeypatch.setattr(commands, "settings_from", settings_after_a_logged_error)
    quiet, loud = invoke("params"), invoke("--debug", "params")
    assert quiet.exit_code == loud.exit_code == 0
    assert "Kernel died" in quiet.stderr and "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr and "the kernel is gone" in loud.stderr
    assert len(file_log) == 2 and None not in file_log


def test_render_forks_a_kernel_importing_the_reports_stack_and_ends_it_unused(monkeypatch):
    from titanic.report import kernels, render  # pylint: disable=import-outside-toplevel

    calls = []
    monkeypatch.setattr(kernels, "fork_standby", lambda preload=(): calls.append(tuple(preload)))
    monkeypatch.setattr(kernels, "discard_standby", lambda: calls.append("discarded"))

    def fail(*args, **kwargs):
        calls.append("rendering")
        raise render.ReportError("stopped before the kernel")

    monkeypatch.setattr(render, "render_report", fail)
    result = runner.invoke(app, ["render", "--to", "html"])
    assert result.exit_code == 1 and "stopped before the kernel" in result.stderr
    assert calls == [kernels.REPORT_KERNEL_MODULES, "rendering", "discarded"]
    assert {"ipykernel.kernelapp", "titanic.analysis"} <= set(kernels.REPORT_KERNEL_MODULES)
