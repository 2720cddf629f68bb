"""What the rendering process imports: only what it uses, and nbconvert while the kernel works."""

import json
import subprocess
import sys

HEAVY = ("pandas", "sklearn", "matplotlib", "pyarrow", "boto3", "nbconvert")


def imported_after(code: str) -> dict[str, bool]:
    """Run ``code`` in a fresh interpreter; say which heavy packages it left imported."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps({{n: n in sys.modules for n in {HEAVY}}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=300
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_the_render_module_imports_no_analysis_stack_and_no_exporter():
    assert not any(imported_after("import titanic.report.render").values())


def test_papermill_loads_without_its_remote_storage_backends_which_stay_importable():
    loaded = imported_after("from titanic.report.execute import load_papermill\nload_papermill()")
    assert not loaded["pyarrow"] and not loaded["boto3"]
    after = imported_after(
        "from titanic.report.execute import load_papermill\nload_papermill()\nimport pyarrow.fs"
    )
    assert after["pyarrow"]
