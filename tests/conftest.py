"""Shared fixtures: a small hand-written passenger frame, the shipped data, tiny parameters."""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml

from titanic.metrics import METRIC_NAMES, MetricsDocument, parse_document

REPO_ROOT = Path(__file__).resolve().parents[1]
TITANIC = Path(sys.executable).parent / "titanic"
# A signalled command that has not exited after this long hangs. How fast it stops is measured
# by benchmarks/bench_signals.py, not asserted in tests: on a shared machine a tight deadline
# fails for reasons that have nothing to do with the code.
HANG_SECONDS = 120
SHARED_DATA = REPO_ROOT.parent / "shared" / "data" / "titanic"
# The nested search is a third of a tiny run's CPU: off here, on (with 5-tree forests) in
# test_render's full render and in the tests of the search itself.
TINY_MODEL = {
    "model": {"n_estimators": 10, "max_depth": 4},
    "split": {"cv_folds": 2},
    "evaluation": {"permutation_repeats": 1},
    "selection": {"enabled": False, "n_estimators": 5},
}

# 20 passengers covering the awkward cases: missing Age, missing Embarked, rare and French
# titles (Rev, Countess, Mlle, Mme), a zero Fare, a missing Fare, cabins and ticket prefixes.
PASSENGERS = [
    (1, 0, 3, "Braund, Mr. Owen Harris", "male", 22.0, 1, 0, "A/5 21171", 7.25, None, "S"),
    (2, 1, 1, "Cumings, Mrs. John Bradley", "female", 38.0, 1, 0, "PC 17599", 71.28, "C85", "C"),
    (3, 1, 3, "Heikkinen, Miss. Laina", "female", 26.0, 0, 0, "STON/O2. 3101282", 7.92, None, "S"),
    (4, 1, 1, "Futrelle, Mrs. Jacques Heath", "female", 35.0, 1, 0, "113803", 53.1, "C123", "S"),
    (5, 0, 3, "Allen, Mr. William Henry", "male", 35.0, 0, 0, "373450", 8.05, None, "S"),
    (6, 0, 3, "Moran, Mr. James", "male", None, 0, 0, "330877", 8.46, None, "Q"),
    (7, 0, 1, "McCarthy, Mr. Timothy J", "male", 54.0, 0, 0, "17463", 51.86, "E46", "S"),
    (8, 0, 3, "Palsson, Master. Gosta Leonard", "male", 2.0, 3, 1, "349909", 21.08, None, "S"),
    (9, 1, 3, "Johnson, Mrs. Oscar W", "female", 27.0, 0, 2, "347742", 11.13, None, "S"),
    (10, 1, 2, "Nasser, Mrs. Nicholas", "female", 14.0, 1, 0, "237736", 30.07, None, "C"),
    (11, 1, 3, "Sandstrom, Miss. Marguerite Rut", "female", 4.0, 1, 1, "PP 9549", 16.7, "G6", "S"),
    (12, 1, 1, "Bonnell, Miss. Elizabeth", "female", 58.0, 0, 0, "113783", 26.55, "C103", "S"),
    (13, 0, 3, "Saundercock, Mr. William Henry", "male", None, 0, 0, "A/5. 2151", 8.05, None, "S"),
    (14, 0, 2, "Byles, Rev. Thomas Roussel Davids", "male", 42.0, 0, 0, "244310", 13.0, None, "S"),
    (
        15,
        1,
        1,
        "Rothes, the Countess. of (Lucy Noel)",
        "female",
        33.0,
        0,
        0,
        "110152",
        86.5,
        "B77",
        "S",
    ),
    (16, 1, 1, "Icard, Miss. Amelie", "female", 38.0, 0, 0, "113572", 80.0, "B28", None),
    (17, 0, 3, "Leonard, Mr. Lionel", "male", 36.0, 0, 0, "LINE", 0.0, None, "S"),
    (
        18,
        1,
        1,
        "Aubart, Mme. Leontine Pauline",
        "female",
        24.0,
        0,
        0,
        "PC 17477",
        69.3,
        "B35",
        "C",
    ),
    (19, 1, 1, "Sagesser, Mlle. Emma", "female", 24.0, 0, 0, "PC 17477", 69.3, "B35", "C"),
    (20, 0, 3, "Storey, Mr. Thomas", "male", 60.5, 0, 0, "3701", None, None, "S"),
]
COLUMNS = ["PassengerId", "Survived", "Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Ticket",
           "Fare", "Cabin", "Embarked"]  # fmt: skip


@pytest.fixture
def passengers() -> pd.DataFrame:
    """The 20 hand-written passengers, with the label."""
    return pd.DataFrame(PASSENGERS, columns=COLUMNS)


@pytest.fixture(scope="session")
def kaggle_dir() -> Path:
    """The Kaggle files beside the checkout (../shared), else the copy shipped in the package."""
    return SHARED_DATA if SHARED_DATA.is_dir() else REPO_ROOT / "src" / "titanic" / "data"


def write_params(folder: Path, **sections: dict) -> Path:
    """Write params.yaml into ``folder``: the repository's, updated section by section."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    for name, values in sections.items():
        if isinstance(values, dict) and isinstance(params.get(name), dict):
            params[name] = {**params[name], **values}
        else:
            params[name] = values
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with a tiny-model params.yaml, made the current directory."""
    write_params(tmp_path, **TINY_MODEL)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def data_copy(tmp_path: Path, kaggle_dir: Path) -> Path:
    """A writable copy of train.csv and test.csv in its own folder."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("train.csv", "test.csv"):
        shutil.copyfile(kaggle_dir / name, folder / name)
    return folder


def metrics_json(validation: float | dict[str, float], cv_mean: float, cv_std: float) -> str:
    """Return a metrics.json text that follows the contract of titanic.metrics, with set scores.

    ``validation`` gives one score for every metric, or a score per metric name.
    """
    scores = (
        validation if isinstance(validation, dict) else dict.fromkeys(METRIC_NAMES, validation)
    )
    document: MetricsDocument = {
        "metrics": {
            "validation": scores,
            "cross_validation": {name: {"mean": cv_mean, "std": cv_std} for name in METRIC_NAMES},
            "cross_validation_folds": {name: [cv_mean, cv_mean] for name in METRIC_NAMES},
            "confusion_matrix": {
                "labels": ["died", "survived"],
                "rows_actual_columns_predicted": [[10, 2], [3, 5]],
            },
            "permutation_importance": [
                {"feature": "Sex", "importance_mean": 0.1, "importance_std": 0.01}
            ],
            "rows": {"train": 80, "validation": 20},
        },
        "parameters": {},
        "data": {},
        "provenance": {},
    }
    text = json.dumps(document)
    parse_document(text)  # a fake that drifts from the contract fails here
    return text


@contextlib.contextmanager
def loopback_server(handler: Callable[..., http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` over HTTP on 127.0.0.1 from a thread; yield the server's base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        assert not thread.is_alive()


def top_level_modules_after(code: str) -> set[str]:
    """Run ``code`` in a new interpreter; return the top-level packages it then holds."""
    listing = "\nimport sys\nprint(' '.join({name.split('.')[0] for name in sys.modules}))\n"
    completed = subprocess.run(
        [sys.executable, "-c", code + listing],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(completed.stdout.split())


# --- a real `titanic` process, signalled (tests/test_faults.py, tests/test_dask.py) -------


def wait_for(predicate, timeout: float, what: str) -> None:
    """Poll ``predicate`` every 0.1 s; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# Starts a program as a terminal would, SIGINT at its default. Where the tests themselves run
# with SIGINT ignored (a background job of a shell without job control: `(cmd &)`), every
# child inherits that, Python never turns SIGINT into KeyboardInterrupt, and a test of Ctrl-C
# would test nothing. Exec keeps the process id, so the caller's process is the command.
AS_IN_A_TERMINAL = (
    "import os, signal, sys;"
    " signal.signal(signal.SIGINT, signal.SIG_DFL);"
    " os.execv(sys.argv[1], sys.argv[1:])"
)


def start(project: Path, *arguments: str) -> tuple[subprocess.Popen, psutil.Process]:
    """Start ``titanic *arguments`` in ``project`` as from a terminal, its output piped."""
    process = subprocess.Popen(
        [sys.executable, "-c", AS_IN_A_TERMINAL, str(TITANIC), *arguments],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, psutil.Process(process.pid)


def stop(process: subprocess.Popen, tree: psutil.Process, signum: int) -> list[psutil.Process]:
    """Send ``signum``; return the processes the command had started, snapshotted just before."""
    started = tree.children(recursive=True)
    process.send_signal(signum)
    return started


def assert_all_gone(processes: list[psutil.Process]) -> None:
    """Fail naming the processes still running after 3 s (killed, so none outlives the test)."""
    _, alive = psutil.wait_procs(processes, timeout=3)
    survivors = [f"{p.pid} {p.name()}" for p in alive]
    for p in alive:
        p.kill()
    assert not survivors, f"still running: {survivors}"


# Put before report.qmd's setup cell: counts, in the kernel, each validation of the parameters
# (Settings.model_validate, which titanic.layers.validate_settings alone calls). The last cell
# adds the count, one line per execution, to kernel-validations.txt in the project folder.
COUNTING_CELL = """```{python}
from titanic.settings import Settings as _Settings

_validations = []
_validate = _Settings.model_validate


def _counted(*args, **kwargs):
    _validations.append(args)
    return _validate(*args, **kwargs)


_Settings.model_validate = _counted
```

"""
COUNT_WRITING_CELL = """
```{python}
with open("kernel-validations.txt", "a", encoding="utf-8") as _log:
    _ = _log.write(f"{len(_validations)}\\n")
```
"""


def counting_report_project(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make ``root`` a tiny-model project whose report.qmd counts validations in its kernel.

    It becomes the current folder, and quarto is hidden (the nbconvert backend renders).
    """
    root.mkdir(parents=True, exist_ok=True)
    write_params(root, **TINY_MODEL)
    for name in ("_quarto.yml", "report.scss"):
        shutil.copyfile(REPO_ROOT / name, root / name)
    text = (REPO_ROOT / "report.qmd").read_text(encoding="utf-8")
    setup = text.index("```{python}\n#| label: setup")
    text = text[:setup] + COUNTING_CELL + text[setup:] + COUNT_WRITING_CELL
    (root / "report.qmd").write_text(text, encoding="utf-8")
    monkeypatch.chdir(root)
    which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name, *a, **k: None if name == "quarto" else which(name, *a, **k)
    )
    return root


def count_validations(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Count, in this process, each validation of the parameters; return the growing list."""
    from titanic.settings import Settings  # pylint: disable=import-outside-toplevel

    calls: list[object] = []
    validate = Settings.model_validate

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return validate(*args, **kwargs)

    monkeypatch.setattr(Settings, "model_validate", counted)
    return calls
