"""metrics.json stays byte-identical to files recorded before the analysis was made faster.

Each golden file is the metrics.json that ``titanic run`` wrote at commit 4ffae78 (before the
speed work of issue #24) for one parameter set: the defaults and a few sweep variants. Only what
differs from run to run is blanked, in both files: the git commit and dirty flag, the
timestamp and the output folder. Every number must be the same float, to the last bit.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from titanic.analysis import metrics_document, run_analysis
from titanic.config import load_settings
from titanic.dataset import load_dataset
from titanic.io.atomic import write_json

from .conftest import REPO_ROOT

GOLDEN = Path(__file__).parent / "golden"
# Parameter sets: the defaults, then variants a sweep runs (params.yaml's variants grid).
VARIANTS = {
    "default": (),
    "n_estimators_30": ("model.n_estimators=30",),
    "max_depth_4": ("model.max_depth=4",),
    "n_estimators_100_max_depth_10": ("model.n_estimators=100", "model.max_depth=10"),
    "n_jobs_all": ("model.n_jobs=-1",),
}
VOLATILE = re.compile(r'^(\s*"(?:commit|dirty|timestamp|output_dir)": ).*?(,?)$', re.MULTILINE)


def without_run_details(text: str) -> str:
    """Blank the values that differ between two runs of the same analysis."""
    return VOLATILE.sub(r"\1null\2", text)


def test_volatile_values_are_blanked_and_nothing_else():
    text = '{\n  "output_dir": "/tmp/x",\n  "commit": "abc",\n  "accuracy": 0.81\n}\n'
    assert without_run_details(text) == (
        '{\n  "output_dir": null,\n  "commit": null,\n  "accuracy": 0.81\n}\n'
    )


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_metrics_json_is_byte_identical_to_the_recorded_one(variant, tmp_path):
    overrides = (*VARIANTS[variant], f"output_dir={tmp_path}")
    settings = load_settings(REPO_ROOT / "params.yaml", overrides=overrides)
    dataset = load_dataset(settings.data)
    analysis = run_analysis(settings, dataset)
    written = write_json(
        tmp_path / "metrics.json", metrics_document(settings, dataset, analysis, REPO_ROOT)
    )
    recorded = (GOLDEN / f"metrics_{variant}.json").read_text(encoding="utf-8")
    assert without_run_details(written.read_text(encoding="utf-8")) == recorded
