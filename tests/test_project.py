"""The project: its root found from a folder, output paths resolved against it."""

from titanic.layers import load_settings
from titanic.project import Project

from .conftest import REPO_ROOT


def test_project_root_and_output_dir(tmp_path):
    (tmp_path / "params.yaml").write_text("x: 1\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    project = Project.discover(nested)
    assert project.root == tmp_path.resolve()
    assert project.params_file == tmp_path.resolve() / "params.yaml"
    settings = load_settings(REPO_ROOT / "params.yaml")
    assert project.resolve(settings.output_dir) == tmp_path.resolve() / "_output"
    absolute = load_settings(REPO_ROOT / "params.yaml", overrides=[f"output_dir={tmp_path}/out"])
    assert Project.at("/elsewhere").resolve(absolute.output_dir) == tmp_path / "out"
