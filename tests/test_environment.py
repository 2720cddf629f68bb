"""The pins agree: uv.lock, environment.yml, the Makefile's and the Dockerfile's uv version."""

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .conftest import REPO_ROOT


def locked_packages() -> list[dict]:
    return tomllib.loads((REPO_ROOT / "uv.lock").read_text())["package"]


def runtime_closure() -> set[tuple[str, str]]:
    """(name, version) of every package the project needs at run time, read from uv.lock."""
    by_name: dict[str, list[dict]] = {}
    for package in locked_packages():
        by_name.setdefault(canonicalize_name(package["name"]), []).append(package)
    pinned: set[tuple[str, str]] = set()
    pending = [(canonicalize_name("titanic"), ())]
    seen: set[tuple[str, tuple]] = set()
    while pending:
        name, extras = pending.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for package in by_name[name]:
            if name != "titanic":
                pinned.add((name, package["version"]))
            edges = list(package.get("dependencies", []))
            for extra in extras:
                edges += package.get("optional-dependencies", {}).get(extra, [])
            pending += [
                (canonicalize_name(edge["name"]), tuple(edge.get("extra", []))) for edge in edges
            ]
    return pinned


def environment_pins() -> tuple[set[tuple[str, str]], list[str]]:
    document = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in document["dependencies"] if isinstance(item, dict))
    pins = set()
    for line in pip_section:
        if line.startswith("-e"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        pins.add((canonicalize_name(requirement.name), specifier.version))
    return pins, document["dependencies"]


def test_environment_yml_pins_exactly_the_locked_runtime_packages():
    pins, dependencies = environment_pins()
    closure = runtime_closure()
    assert pins == closure, {
        "only in environment.yml": pins - closure,
        "only in uv.lock": closure - pins,
    }
    assert "python=3.11" in dependencies


def test_dev_tools_stay_out_of_the_conda_environment():
    names = {name for name, _ in environment_pins()[0]}
    assert not names & {"pytest", "ruff", "pylint", "moto"}


def test_lock_is_in_sync_with_pyproject():
    locked = {canonicalize_name(p["name"]): p for p in locked_packages()}
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    for dependency in project["project"]["dependencies"]:
        requirement = Requirement(dependency)
        version = locked[canonicalize_name(requirement.name)]["version"]
        assert requirement.specifier.contains(version), (dependency, version)


def test_one_uv_version_everywhere():
    uv = next(p["version"] for p in locked_packages() if p["name"] == "uv")
    makefile = re.search(r"^UV_VERSION := (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.M)
    assert makefile and makefile.group(1) == uv
    dockerfile = REPO_ROOT / "Dockerfile"
    if dockerfile.exists():
        match = re.search(r"^ARG UV_VERSION=(\S+)$", dockerfile.read_text(), re.M)
        assert match and match.group(1) == uv
