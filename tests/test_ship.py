"""Shipping checks: the Dockerfile, compose.yaml, the GitHub workflows and the pre-commit hooks.

The helper programs (hadolint, check-jsonschema, pre-commit) come from the environment that runs
the tests, the `.venv/bin` next to `sys.executable`, so they are the versions pinned in uv.lock.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# Not resolved: .venv/bin/python is a symlink to the base interpreter, and we want the venv's bin.
VENV_BIN = Path(sys.executable).parent
DOCKERFILE = ROOT / "Dockerfile"
WORKFLOWS = ROOT / ".github" / "workflows"
PRE_COMMIT_CONFIG = ROOT / ".pre-commit-config.yaml"
COMPOSE_FILE = ROOT / "compose.yaml"
MAIN_COMMAND = "make report"


def tool(name: str) -> str:
    path = VENV_BIN / name
    assert path.exists(), f"{name} is missing from {VENV_BIN}: run `make setup` (uv sync --frozen)"
    return str(path)


def schema_errors(builtin_schema: str, path: Path) -> str:
    """Validate ``path`` against a schema vendored by check-jsonschema (offline); "" when valid."""
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", builtin_schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    pairs = []
    for entry in logical:
        keyword, _, arguments = entry.partition(" ")
        pairs.append((keyword.upper(), arguments.strip()))
    return pairs


def instruction_arguments(wanted: str) -> list[str]:
    return [arguments for keyword, arguments in dockerfile_instructions() if keyword == wanted]


def dockerfile_args() -> dict[str, str]:
    found = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "ARG" and "=" in arguments:
            name, _, value = arguments.partition("=")
            found[name] = value
    return found


def load_yaml(path: Path) -> dict:
    # PyYAML reads the bare key `on` as the boolean True.
    data = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def run_commands(workflow: dict) -> list[str]:
    return [
        step["run"].strip()
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "run" in step
    ]


def steps_of(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def action_refs(workflow: dict) -> list[str]:
    return [
        step["uses"]
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "uses" in step
    ]


# Dockerfile


def test_hadolint_finds_nothing_at_warning_level():
    result = subprocess.run(
        [tool("hadolint"), "--no-color", "--failure-threshold", "warning", str(DOCKERFILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_image_is_pinned_to_a_full_version():
    images = [
        arguments.split()[0]
        for keyword, arguments in dockerfile_instructions()
        if keyword == "FROM"
    ]
    assert images, "the Dockerfile has no FROM line"
    for image in images:
        name, _, tag = image.partition(":")
        assert "@sha256:" in image or re.search(r"\d+\.\d+\.\d+", tag), (
            f"{image} is not pinned to a full version (python:3.11.x-...)"
        )
        assert tag and not tag.startswith("latest"), f"{image} floats with `latest`"
        assert name == "python" and tag.startswith("3.11."), f"{image} is not Python 3.11"


def test_default_command_is_the_readme_main_command():
    commands = instruction_arguments("CMD")
    assert commands, "the Dockerfile has no CMD"
    # Exec form (a JSON list) so that make gets the signals `docker stop` sends.
    command = yaml.safe_load(commands[-1])
    assert isinstance(command, list), f"CMD {commands[-1]} is not in exec form"
    assert shlex.join(command) == MAIN_COMMAND
    # The README states the main command; until it has text, the Makefile's header says it.
    readme = (ROOT / "README.md").read_text()
    documented = readme if readme.strip() else (ROOT / "Makefile").read_text()
    assert f"`{MAIN_COMMAND}`" in documented or f"\n{MAIN_COMMAND}\n" in documented


def test_pinned_versions_agree_with_the_rest_of_the_project():
    args = dockerfile_args()
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert makefile_uv, "the Makefile no longer sets UV_VERSION"
    assert args.get("UV_VERSION") == makefile_uv.group(1)

    quarto = args.get("QUARTO_VERSION", "")
    assert re.fullmatch(r"\d+\.\d+\.\d+", quarto), f"QUARTO_VERSION={quarto!r} is not pinned"
    # CI installs the same Quarto, so that the tests needing it run there instead of skipping.
    for name in ("report.yml", "ci.yml"):
        setup_quarto = [
            step
            for step in steps_of(load_yaml(WORKFLOWS / name))
            if step.get("uses", "").startswith("quarto-dev/quarto-actions/setup@")
        ]
        assert [step["with"]["version"] for step in setup_quarto] == [quarto], name


def test_every_download_in_the_image_is_checked_against_its_sha256():
    runs = instruction_arguments("RUN")
    downloads = [run for run in runs if re.search(r"urlretrieve|curl |wget |ADD ", run)]
    assert downloads, "the Dockerfile downloads Quarto: where?"
    for run in downloads:
        assert "sha256sum --check --strict" in run, run
    for run in runs:
        if "pip install" in run:
            assert "--require-hashes" in run, run
    args = dockerfile_args()
    archive_sums = [args.get("QUARTO_SHA256_AMD64", ""), args.get("QUARTO_SHA256_ARM64", "")]
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in archive_sums), archive_sums
    assert not [keyword for keyword, _ in dockerfile_instructions() if keyword == "ADD"]


def test_the_image_checks_uv_against_the_hashes_of_uv_lock():
    args = dockerfile_args()
    lock = (ROOT / "uv.lock").read_text()
    version = re.escape(args["UV_VERSION"])
    entry = re.search(
        rf'^name = "uv"\nversion = "{version}"\n.*?(?=^\[\[package\]\]|\Z)', lock, re.S | re.M
    )
    assert entry, f"uv {args['UV_VERSION']} is not in uv.lock"
    linux_wheels = set(
        re.findall(
            r'manylinux[^"]*(?:x86_64|aarch64)\.whl", hash = "sha256:([0-9a-f]{64})"',
            entry.group(0),
        )
    )
    assert linux_wheels == {value for name, value in args.items() if name.startswith("UV_SHA256_")}


def test_the_environment_is_installed_before_the_source_is_copied():
    steps = dockerfile_instructions()
    syncs = [
        i for i, (kw, arguments) in enumerate(steps) if kw == "RUN" and "uv sync" in arguments
    ]
    copy_src = [
        i for i, (kw, arguments) in enumerate(steps) if kw == "COPY" and " src/" in arguments
    ]
    assert len(syncs) == 2 and len(copy_src) == 1
    assert syncs[0] < copy_src[0] < syncs[1]
    assert "--no-install-project" in steps[syncs[0]][1]
    for index in syncs:
        assert "--frozen" in steps[index][1] and "--no-dev" in steps[index][1]


def test_the_container_runs_as_a_non_root_user():
    users = instruction_arguments("USER")
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_the_image_serves_the_output_on_port_5000():
    exposed = [
        arguments for keyword, arguments in dockerfile_instructions() if keyword == "EXPOSE"
    ]
    assert "5000" in " ".join(exposed).split()
    assert "http.server 5000 --directory _output" in DOCKERFILE.read_text()


def dockerignore_regex(pattern: str) -> re.Pattern:
    """Docker's .dockerignore glob: `*` and `?` stay within a folder, `**/` spans any number."""
    regex, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        elif pattern[i] == "[" and "]" in pattern[i:]:
            end = pattern.index("]", i)
            regex, i = regex + pattern[i : end + 1], end + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(regex + r"\Z")


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Whether Docker's build context leaves `path` out: the last pattern matching it wins.

    A pattern that matches a folder applies to everything inside it.
    """
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = dockerignore_regex(pattern.lstrip("!").strip("/"))
        if any(regex.match(prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


def test_dockerignore_keeps_what_the_build_copies_and_drops_the_rest():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = []
    for keyword, arguments in dockerfile_instructions():
        if keyword == "COPY" and "--from" not in arguments:
            sources = [word for word in arguments.split() if not word.startswith("--")][:-1]
            copied += [source.rstrip("/") for source in sources]
    assert copied
    for source in copied:
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
        assert not dockerignore_excludes(source, patterns), f".dockerignore drops {source}"
    for needed in ["src/titanic/data/train.csv", "scripts/install-system-deps.sh"]:
        assert not dockerignore_excludes(needed, patterns), f".dockerignore drops {needed}"
    for unwanted in [".venv", ".git", "_output", "tests", ".env", "src/titanic/__pycache__"]:
        assert dockerignore_excludes(unwanted, patterns), f".dockerignore lets {unwanted} in"


# GitHub workflows


def test_the_three_workflows_exist():
    assert {path.name for path in workflow_files()} >= {"ci.yml", "report.yml", "docker.yml"}


@pytest.mark.parametrize("workflow", workflow_files(), ids=lambda path: path.name)
def test_workflow_matches_the_github_schema(workflow):
    assert not schema_errors("vendor.github-workflows", workflow)


@pytest.mark.parametrize("workflow", workflow_files(), ids=lambda path: path.name)
def test_actions_are_pinned_to_a_major_version(workflow):
    for ref in action_refs(load_yaml(workflow)):
        assert re.search(r"@v\d+(\.\d+)*$", ref), f"{workflow.name}: {ref} is not pinned"


def test_ci_lints_and_tests_on_push_and_pull_request():
    ci = load_yaml(WORKFLOWS / "ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    assert {"make lint", "make test"} <= set(run_commands(ci))
    setup_uv = [ref for ref in action_refs(ci) if ref.startswith("astral-sh/setup-uv@")]
    assert setup_uv


# The first major of each action that runs on Node 24 (GitHub retires Node 20 from its runners).
NODE_24_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/cache": 5,
    "actions/configure-pages": 6,
    "actions/upload-pages-artifact": 5,
    "actions/deploy-pages": 5,
    "astral-sh/setup-uv": 7,
    "docker/setup-buildx-action": 4,
    "docker/metadata-action": 6,
    "docker/build-push-action": 7,
    "docker/login-action": 4,
}
# Composite actions run no Node of their own.
COMPOSITE_ACTIONS = {"quarto-dev/quarto-actions/setup"}


@pytest.mark.parametrize("workflow", workflow_files(), ids=lambda path: path.name)
def test_actions_run_on_node_24(workflow):
    for ref in action_refs(load_yaml(workflow)):
        name, _, version = ref.partition("@")
        if name in COMPOSITE_ACTIONS:
            continue
        assert name in NODE_24_MAJORS, f"{workflow.name}: {name}: which major runs on Node 24?"
        major = int(version.lstrip("v").split(".")[0])
        assert major >= NODE_24_MAJORS[name], f"{workflow.name}: {ref} runs on Node 20"


def test_ci_installs_quarto_before_the_tests():
    names = [
        step.get("uses", step.get("run", "")) for step in steps_of(load_yaml(WORKFLOWS / "ci.yml"))
    ]
    quarto = [index for index, name in enumerate(names) if "quarto-actions/setup@" in name]
    assert quarto and quarto[0] < names.index("make test")


def test_report_workflow_runs_only_after_ci_passed_on_the_same_commit():
    report = load_yaml(WORKFLOWS / "report.yml")
    ci_name = load_yaml(WORKFLOWS / "ci.yml")["name"]
    assert report["on"] == {
        "workflow_run": {"workflows": [ci_name], "types": ["completed"], "branches": ["main"]}
    }
    (render,) = [job for job in report["jobs"].values() if "needs" not in job]
    condition = " ".join(render["if"].split())
    assert "github.event.workflow_run.conclusion == 'success'" in condition
    assert "github.event.workflow_run.event == 'push'" in condition
    checkout = [
        step for step in render["steps"] if step.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkout[0]["with"]["ref"] == "${{ github.event.workflow_run.head_sha }}"


def test_report_workflow_restores_the_outputs_before_the_sweep():
    report = load_yaml(WORKFLOWS / "report.yml")
    steps = steps_of(report)
    caches = [
        index
        for index, step in enumerate(steps)
        if step.get("uses", "").startswith("actions/cache@")
    ]
    sweep = [
        index for index, step in enumerate(steps) if step.get("run", "").strip() == "make sweep"
    ]
    assert caches and sweep and caches[0] < sweep[0]
    cache = steps[caches[0]]["with"]
    assert cache["path"] == "_output"
    # A key per commit (each run saves its outputs), restored from the latest by prefix.
    assert "workflow_run.head_sha" in cache["key"]
    assert cache["restore-keys"].strip() and cache["key"].startswith(cache["restore-keys"].strip())


def test_report_workflow_publishes_the_declared_site_to_pages():
    report = load_yaml(WORKFLOWS / "report.yml")
    commands = run_commands(report)
    assert "make sweep" in commands
    assert ".venv/bin/titanic publish --to _site" in commands
    uploads = [
        step for step in steps_of(report)
        if step.get("uses", "").startswith("actions/upload-pages-artifact@")
    ]  # fmt: skip
    assert [step["with"]["path"] for step in uploads] == ["_site"]
    deploy = [
        job
        for job in report["jobs"].values()
        if any(step.get("uses", "").startswith("actions/deploy-pages@") for step in job["steps"])
    ]
    assert len(deploy) == 1
    assert deploy[0]["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy[0]["environment"]["name"] == "github-pages"


def test_docker_workflow_builds_pull_requests_and_pushes_only_tags():
    docker = load_yaml(WORKFLOWS / "docker.yml")
    assert "pull_request" in docker["on"]
    assert docker["on"]["push"]["tags"] == ["v*"]
    assert docker["permissions"] == {"contents": "read"}
    writers = {name: job for name, job in docker["jobs"].items()
               if job.get("permissions", {}).get("packages") == "write"}  # fmt: skip
    assert len(writers) == 1, "one job, and only one, may write packages"
    (pusher,) = writers.values()
    # Least privilege: the job that may write packages runs for a pushed v* tag only.
    assert pusher["if"] == "github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')"
    for name, job in docker["jobs"].items():
        pushes = [step for step in job["steps"] if step.get("with", {}).get("push")]
        if name not in writers:
            assert not pushes, f"{name} pushes without being the tag-only job"
            assert "packages" not in job.get("permissions", {}), name
    pushes = [step for step in pusher["steps"] if step.get("with", {}).get("push")]
    assert [step["with"]["tags"] for step in pushes] == ["${{ steps.meta.outputs.tags }}"]
    meta = [
        step
        for step in pusher["steps"]
        if step.get("uses", "").startswith("docker/metadata-action@")
    ]
    assert [step["with"]["images"] for step in meta] == ["${{ env.IMAGE }}"]
    assert docker["env"]["IMAGE"].startswith("ghcr.io/")


# Docker Compose


def test_compose_file_matches_the_compose_specification():
    # check-jsonschema vendors the compose-spec schema: no download at test time.
    assert not schema_errors("vendor.compose-spec", COMPOSE_FILE)


# pre-commit


def pre_commit_hooks() -> list[dict]:
    config = yaml.safe_load(PRE_COMMIT_CONFIG.read_text())
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def test_pre_commit_hooks_are_local_tools_from_the_locked_environment():
    config = yaml.safe_load(PRE_COMMIT_CONFIG.read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    for hook in pre_commit_hooks():
        assert hook["language"] == "system", f"{hook['id']} would install an environment"
        program = shlex.split(hook["entry"])[0]
        assert program.startswith(".venv/bin/"), f"{hook['id']} runs {program}"
        assert (VENV_BIN / program.removeprefix(".venv/bin/")).exists(), (
            f"{hook['id']}: {program} is not in the environment; add it to the dev group"
        )


def test_whitespace_fixers_leave_the_checksummed_csvs_alone():
    fixers = {"trailing-whitespace", "end-of-file-fixer"}
    hooks = {hook["id"]: hook for hook in pre_commit_hooks() if hook["id"] in fixers}
    assert set(hooks) == fixers
    for csv in sorted((ROOT / "src" / "titanic" / "data").glob("*.csv")):
        relative = csv.relative_to(ROOT).as_posix()
        for hook in hooks.values():
            assert re.search(hook.get("exclude", "^$"), relative), f"{hook['id']} edits {relative}"


def in_git_checkout() -> bool:
    if shutil.which("git") is None:
        return False
    result = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=ROOT, capture_output=True, text=True
    )
    return result.returncode == 0 and Path(result.stdout.strip()).resolve() == ROOT


@pytest.mark.slow
@pytest.mark.skipif(not in_git_checkout(), reason="needs the git checkout of the project")
def test_pre_commit_passes_on_a_fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    # What `make setup` would create in the clone: the same locked environment.
    (clone / ".venv").symlink_to(VENV_BIN.parent, target_is_directory=True)
    with (clone / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write(".venv\n")
    environment = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    environment.pop("PRE_COMMIT_ALLOW_NO_CONFIG", None)
    result = subprocess.run(
        [tool("pre-commit"), "run", "--all-files", "--show-diff-on-failure", "--color=never"],
        cwd=clone,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
