"""The report says what its data say: no hand-typed fact, and every claim checked after a render.

Two passenger lists with opposite patterns are made from the shipped data (sexes swapped,
classes reversed, Cherbourg and Southampton swapped); the report rendered from each must be
true of its own data, number by number and claim by claim (:mod:`tests.report_audit`), and
its sentences must differ where the data differ.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from titanic.project import Project
from titanic.report.render import RenderRequest, render_report

from .conftest import REPO_ROOT, TINY_MODEL, write_params
from .report_audit import audit_report, read_page

REPORT = REPO_ROOT / "report.qmd"
# Digits the report's prose may hold as typed: the date of the sinking, the outcome's coding.
ALLOWED_DIGITS = ("15 April 1912", "1 = survived")
PARAMS = {
    **TINY_MODEL,
    "model": {"n_estimators": 12, "max_depth": 4},
    "selection": {"enabled": True, "n_estimators": 5},
}


def prose_of(qmd: str) -> str:
    """The prose, captions and alt texts of a .qmd, without code or inline expressions."""
    body = re.sub(r"\A---\n.*?\n---\n", "", qmd, flags=re.DOTALL)
    options = re.findall(r"^#\| (?:fig-cap|tbl-cap|fig-alt): (.*)$", body, re.MULTILINE)
    body = re.sub(r"^```\{python\}\n.*?^```$", "", body, flags=re.DOTALL | re.MULTILINE)
    text = "\n".join([body, *options])
    return re.sub(r"`[^`\n]*`", "", text)


def hand_typed_digits(qmd: str) -> list[str]:
    text = prose_of(qmd)
    for literal in ALLOWED_DIGITS:
        text = text.replace(literal, "")
    return [
        text[max(0, match.start() - 30) : match.end() + 30].replace("\n", " ")
        for match in re.finditer(r"\b\d", text)
    ]


def test_report_qmd_holds_no_hand_typed_number():
    assert hand_typed_digits(REPORT.read_text(encoding="utf-8")) == []


def test_the_digit_check_finds_numbers_in_prose_captions_and_alt_texts():
    qmd = (
        "---\ntitle: x\n---\nAbout 62 percent `{python} x` died.\n\n```{python}\n"
        '#| fig-cap: "Most of 3 classes"\n#| fig-alt: "near 40 percent"\ny = 12\n```\n'
    )
    found = hand_typed_digits(qmd)
    assert len(found) == 3  # 62, 3 and 40; never 12 (code), x (an expression) nor sha256
    assert not any("y = 12" in excerpt for excerpt in found)


def opposite(frame: pd.DataFrame) -> pd.DataFrame:
    """The same passengers with the sexes swapped, classes 1 and 3 swapped, C and S swapped."""
    return frame.assign(
        Sex=frame["Sex"].map({"male": "female", "female": "male"}),
        Pclass=frame["Pclass"].map({1: 3, 2: 2, 3: 1}),
        Embarked=frame["Embarked"].map({"C": "S", "S": "C", "Q": "Q"}),
    )


@dataclass(frozen=True)
class Rendered:
    """A rendered report, its run's metrics.json, training rows and output folder."""

    html: str
    metrics: dict
    train: pd.DataFrame
    folder: Path


def render_project(root: Path, data: Path | None, **sections) -> Rendered:
    """Render the report with our backend (HTML only) in a project at ``root``."""
    params = {**PARAMS, **sections}
    if data is not None:
        params["data"] = {"source": str(data)}
    write_params(root, **params)
    for name in ("report.qmd", "_quarto.yml", "report.scss"):
        shutil.copyfile(REPO_ROOT / name, root / name)
    which = shutil.which
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setattr(shutil, "which", lambda name: None if name == "quarto" else which(name))
        result = render_report(
            RenderRequest.resolve(Project.at(root), formats=("html",), progress=False)
        )
    return Rendered(
        result.html.read_text(encoding="utf-8"),
        json.loads(result.metrics.read_text(encoding="utf-8")),
        pd.read_csv((data or REPO_ROOT / "src" / "titanic" / "data") / "train.csv"),
        result.metrics.parent,
    )


@pytest.fixture(scope="module")
def kaggle(tmp_path_factory):
    return render_project(tmp_path_factory.mktemp("kaggle"), None)


@pytest.fixture(scope="module")
def opposite_data(tmp_path_factory, kaggle_dir):
    folder = tmp_path_factory.mktemp("opposite-data")
    for name in ("train.csv", "test.csv"):
        opposite(pd.read_csv(kaggle_dir / name)).to_csv(folder / name, index=False)
    return folder


@pytest.fixture(scope="module")
def reversed_report(tmp_path_factory, opposite_data):
    return render_project(tmp_path_factory.mktemp("opposite"), opposite_data)


def assert_true_to_its_data(report: Rendered) -> None:
    audit = audit_report(report.html, report.metrics, report.train, test_rows=418)
    assert audit.problems == []
    assert audit.claims >= 20 and audit.numbers >= 100  # the checks found what they check


@pytest.mark.slow
def test_the_kaggle_report_is_true_to_its_data(kaggle):
    assert_true_to_its_data(kaggle)


@pytest.mark.slow
def test_the_opposite_report_is_true_to_its_data(reversed_report):
    assert_true_to_its_data(reversed_report)


@pytest.mark.slow
def test_sentences_differ_where_the_data_differ(kaggle, reversed_report):
    kaggle_text = read_page(kaggle.html).text
    opposite_text = read_page(reversed_report.html).text
    assert "Women survived more often than men" in kaggle_text
    assert "Women survived less often than men" in opposite_text
    assert "The better the ticket class, the higher the survival rate" in kaggle_text
    assert "The better the ticket class, the lower the survival rate" in opposite_text
    assert "Passengers who embarked at Cherbourg survived more often" in kaggle_text
    assert "Passengers who embarked at Southampton survived more often" in opposite_text
    # the data do not change what the family size says, nor does the report
    family = "Families of two to four survived more often than families of five or more"
    assert family in kaggle_text and family in opposite_text


@pytest.mark.slow
def test_the_summary_json_holds_the_report_s_summary(reversed_report):
    text = " ".join(read_page(reversed_report.html).text.split())
    document = json.loads((reversed_report.folder / "summary.json").read_text(encoding="utf-8"))
    assert document["findings"] and len(document["headline"]) == 3
    for sentence in [*document["headline"], *document["findings"]]:
        plain = re.sub(r"\*\*|`", "", sentence)
        assert plain in text, plain


@pytest.mark.slow
def test_the_report_stays_true_under_model_and_split_changes(tmp_path):
    report = render_project(
        tmp_path,
        None,
        model={"n_estimators": 8, "max_depth": 2, "min_samples_leaf": 5},
        split={"test_size": 0.35, "cv_folds": 3},
        selection={"enabled": False},
    )
    assert_true_to_its_data(report)
    text = read_page(report.html).text
    assert "are not the tuned defaults" in text
    assert "Nested cross-validation was switched off" in text


needs_quarto = pytest.mark.skipif(shutil.which("quarto") is None, reason="no quarto binary")


@pytest.mark.slow
@pytest.mark.quarto
@needs_quarto
def test_quarto_renders_the_opposite_report_truthfully(tmp_path, opposite_data):
    root = tmp_path / "project"
    root.mkdir()
    write_params(root, **PARAMS, data={"source": str(opposite_data)})
    for name in ("report.qmd", "_quarto.yml", "report.scss"):
        shutil.copyfile(REPO_ROOT / name, root / name)
    subprocess.run(
        ["quarto", "render", "report.qmd", "--to", "html"],
        cwd=root, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    output = root / "_output"
    report = Rendered(
        (output / "report.html").read_text(encoding="utf-8"),
        json.loads((output / "metrics.json").read_text(encoding="utf-8")),
        pd.read_csv(opposite_data / "train.csv"),
        output,
    )
    assert_true_to_its_data(report)
    assert "Women survived less often than men" in read_page(report.html).text


@pytest.mark.slow
def test_the_audit_catches_a_report_that_describes_other_data(kaggle, reversed_report):
    audit = audit_report(kaggle.html, kaggle.metrics, reversed_report.train, test_rows=418)
    wrong = "\n".join(audit.problems)
    assert "Women survived more often than men" in wrong
    assert "The better the ticket class, the higher" in wrong
    assert "matches nothing" in wrong  # Kaggle's rates are not the opposite list's
