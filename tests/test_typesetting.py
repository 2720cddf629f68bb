"""Choosing the typesetting backend: Quarto when on PATH, else nbconvert and Chromium."""

import shutil

import pytest

from titanic.errors import ReportError
from titanic.report import typesetting
from titanic.report.typesetting import NbconvertTypesetter, QuartoTypesetter, choose_typesetter

from .conftest import REPO_ROOT

CONFIG = REPO_ROOT / "_quarto.yml"


def on_path(monkeypatch, *names):
    monkeypatch.setattr(
        shutil, "which", lambda name, *a, **k: f"/bin/{name}" if name in names else None
    )
    monkeypatch.setattr(
        typesetting, "find_chromium", lambda: "/bin/chromium" if "chromium" in names else None
    )


def test_quarto_on_path_typesets_with_the_project_s_quarto_config(monkeypatch):
    on_path(monkeypatch, "quarto")
    chosen = choose_typesetter(("html", "pdf"), CONFIG)
    assert isinstance(chosen, QuartoTypesetter) and chosen.name == "quarto"
    assert chosen.project_config == CONFIG


@pytest.mark.parametrize(("found", "formats"), [(("chromium",), ("html", "pdf")), ((), ("html",))])
def test_without_quarto_ours_typesets_when_it_can_print_what_is_asked(monkeypatch, found, formats):
    on_path(monkeypatch, *found)
    chosen = choose_typesetter(formats, CONFIG)
    assert isinstance(chosen, NbconvertTypesetter) and chosen.name == "nbconvert"


def test_a_pdf_without_quarto_or_chromium_is_refused_saying_what_to_do(monkeypatch):
    on_path(monkeypatch)
    with pytest.raises(ReportError) as caught:
        choose_typesetter(("html", "pdf"), CONFIG)
    assert str(caught.value) == (
        "a PDF needs quarto or Chromium, and neither is on PATH: run `make setup`"
        " (installs Chromium), or render HTML only with `--to html`"
    )
