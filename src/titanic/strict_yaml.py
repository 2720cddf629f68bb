"""A strict YAML loader for parameter files: no anchors or aliases, no key given twice."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from titanic.errors import ConfigError

# A parameter file is a few kB; anything past this is not one (and may be endless).
MAX_PARAMS_BYTES = 1_000_000


class RefusedYaml(yaml.YAMLError):
    """A YAML construct that parameters may not use; ``line`` is 1-based."""

    def __init__(self, problem: str, line: int):
        super().__init__(problem)
        self.problem = problem
        self.line = line


class StrictLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """The safe loader without anchors or aliases (no alias bombs) and without duplicate keys.

    A duplicate key would silently replace the first one, dropping a whole section; an alias
    can expand a few lines into gigabytes.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Refuse an alias or an anchor before the composer resolves it."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise RefusedYaml(
                "anchors and aliases are not allowed (&name, *name); write the values out",
                event.start_mark.line + 1,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Refuse a key given twice in one mapping, naming both lines."""
        self.flatten_mapping(node)
        first_lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                continue  # the base class reports an unhashable key
            if key in first_lines:
                lines = f"lines {first_lines[key]} and {line}"
                if first_lines[key] == line:
                    lines = f"line {line}, twice"
                raise RefusedYaml(f"duplicate key {key!r} at {lines}; keep one of them", line)
            first_lines[key] = line
        return super().construct_mapping(node, deep)


def load_yaml(text: str) -> Any:
    """Parse YAML text with :class:`StrictLoader`.

    Raises
    ------
    yaml.YAMLError
        When the text is malformed, uses anchors or aliases, or repeats a key.
    """
    return yaml.load(text, Loader=StrictLoader)


def _yaml_problem(err: yaml.YAMLError) -> str:
    """Describe a YAML error in a few words with its line, for a one-line message."""
    if isinstance(err, RefusedYaml):
        return err.problem if "duplicate key" in err.problem else f"line {err.line}: {err.problem}"
    where = getattr(err, "problem_mark", None)
    line = f" at line {where.line + 1}" if where is not None else ""
    problem = getattr(err, "problem", None) or "invalid syntax"
    return f"malformed YAML{line}: {problem}"


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping, with :class:`StrictLoader`.

    Raises
    ------
    ConfigError
        When the file is missing, unreadable, malformed, empty or not a mapping, or
        uses anchors, aliases or a key twice.
    """
    try:
        # Read one byte past the cap: a pipe or a device may never end (e.g. --params /dev/zero).
        with path.open("rb") as handle:
            content_bytes = handle.read(MAX_PARAMS_BYTES + 1)
        text = content_bytes.decode("utf-8")
    except FileNotFoundError as err:
        raise ConfigError("file not found", source=str(path)) from err
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read the file ({err})", source=str(path)) from err
    if len(content_bytes) > MAX_PARAMS_BYTES:
        raise ConfigError(
            f"more than {MAX_PARAMS_BYTES:,} bytes: not a parameter file", source=str(path)
        )
    try:
        content = load_yaml(text)
    except yaml.YAMLError as err:
        raise ConfigError(_yaml_problem(err), source=str(path)) from err
    if content is None:
        raise ConfigError("the file is empty; it must hold the parameter sections", str(path))
    if not isinstance(content, dict):
        raise ConfigError(
            f"expected a mapping of sections, got a {type(content).__name__}", str(path)
        )
    return content
