"""Parameter layers: params.yaml, then ``--params`` files, then ``-P key=value``; validated once.

Later layers win. Every problem is reported in one message that names the key and the layer
(file or option) that set it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from titanic.errors import ConfigError, some_of
from titanic.settings import Settings
from titanic.strict_yaml import RefusedYaml, load_yaml, read_yaml_mapping

# A later layer's grid or sets replace the earlier ones instead of merging key by key: a
# --params file with its own grid sweeps that grid, not its union with params.yaml's.
REPLACED_WHOLE = ("variants.grid", "variants.sets")
# A bad value is quoted in its error message up to this many characters.
MAX_SHOWN_VALUE = 80


def get_dotted(mapping: Mapping[str, Any], dotted: str) -> Any:
    """Return the value of the dotted key ``section.key`` in nested mappings.

    Raises
    ------
    KeyError
        When a part of the key is absent.
    """
    node: Any = mapping
    for part in dotted.split("."):
        node = node[part]
    return node


def set_dotted(mapping: dict[str, Any], dotted: str, value: Any) -> None:
    """Set the dotted key ``section.key`` in nested dicts, creating missing sections.

    Raises
    ------
    ConfigError
        When a part of the key holds a value, not a section.
    """
    *parents, leaf = dotted.split(".")
    node = mapping
    for depth, parent in enumerate(parents):
        child = node.setdefault(parent, {})
        if not isinstance(child, dict):
            where = ".".join(parents[: depth + 1])
            raise ConfigError(f"{where} is a value, not a section: cannot set {dotted}", "-P")
        node = child
    node[leaf] = value


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``key=value`` (or Quarto's ``key:value``) into a dotted key and a YAML value.

    Examples
    --------
    >>> parse_override("model.max_depth=null")
    ('model.max_depth', None)
    """
    separator = "=" if "=" in text else ":"
    key, found, raw_value = text.partition(separator)
    key = key.strip()
    if not found or not key or any(not part for part in key.split(".")):
        raise ConfigError(
            f"expected KEY=VALUE with a dotted key such as model.n_estimators=50, got {text!r}",
            source="-P",
        )
    try:
        value = load_yaml(raw_value)  # None when empty
    except RefusedYaml as err:
        raise ConfigError(f"{key}: {err.problem}", "-P") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"cannot parse the value of {key}: {raw_value!r}", "-P") from err
    return key, value


class ParameterLayers:
    """Merge parameter layers, remembering which layer set each key (for error messages)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.origins: dict[str, str] = {}

    def merge(self, update: Mapping[str, Any], origin: str, prefix: str = "") -> None:
        """Merge a layer's mapping section by section; ``origin`` names the layer."""
        self._merge_into(self.values, update, origin, prefix)

    def _merge_into(
        self, target: dict[str, Any], update: Mapping[str, Any], origin: str, prefix: str
    ) -> None:
        for key, value in update.items():
            dotted = f"{prefix}{key}"
            mergeable = isinstance(value, Mapping) and isinstance(target.get(key), dict)
            if mergeable and dotted not in REPLACED_WHOLE:
                self._merge_into(target[key], value, origin, f"{dotted}.")
            else:
                target[key] = copy.deepcopy(value)
                self.origins[dotted] = origin

    def set_dotted(self, dotted: str, value: Any, origin: str) -> None:
        """Set one dotted key, as a ``-P`` override does (a mapping merges into its section).

        Raises
        ------
        ConfigError
            When a part of the key holds a value, not a section.
        """
        # The path is tried on a copy first (any value does), to refuse a value where a section
        # is needed; then merged, so that a mapping merges into its section as in a --params file.
        set_dotted(copy.deepcopy(self.values), dotted, None)
        update: dict[str, Any] = {}
        set_dotted(update, dotted, value)
        self.merge(update, origin)

    def origin_of(self, location: tuple[str | int, ...]) -> str:
        """Return the layer(s) that set the key at ``location``, or its nearest section."""
        parts = [str(part) for part in location]
        dotted = ".".join(parts)
        # The key itself and, for a whole section at fault, every layer that set part of it.
        inside = {
            origin: None
            for key, origin in self.origins.items()
            if key == dotted or key.startswith(f"{dotted}.")
        }
        if inside:
            return ", ".join(inside)
        for length in range(len(parts) - 1, 0, -1):
            origin = self.origins.get(".".join(parts[:length]))
            if origin:
                return origin
        return "params"


def _describe(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "missing key"
    message = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(error["input"], Mapping):
        return message  # a whole section: the message names what is wrong in it
    got = repr(error["input"])
    if len(got) > MAX_SHOWN_VALUE:
        got = got[: MAX_SHOWN_VALUE - 3] + "..."
    return f"{message} (got {got})"


def validate_settings(raw: Mapping[str, Any], origins: ParameterLayers | None = None) -> Settings:
    """Validate a parameter mapping, reporting every problem in one message.

    Raises
    ------
    ConfigError
        Naming each bad key, what is wrong and which file or option set it.
    """
    try:
        return Settings.model_validate(raw)
    except ValidationError as err:
        problems = []
        keys = []
        for error in err.errors():
            # Union members add their type name to the location; the user only knows the key.
            location = tuple(part for part in error["loc"] if not _is_type_tag(part))
            dotted = _dotted(location)
            if dotted in keys:
                continue
            keys.append(dotted)
            origin = origins.origin_of(location) if origins else "params"
            problems.append(f"{dotted}: {_describe(error)} [{origin}]")
        raise ConfigError(
            some_of(problems, separator="; "), source="invalid parameters", keys=tuple(keys)
        ) from err


def _dotted(location: tuple[str | int, ...]) -> str:
    """Render a location as ``model.n_estimators`` or ``features.include[1]``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(top level)"


def _is_type_tag(part: str | int) -> bool:
    return isinstance(part, str) and (
        part in {"int", "float", "str", "bool", "none", "constrained-int"}
        or part.startswith(("literal[", "function-", "tuple[", "dict["))
    )


def load_settings(
    params_file: Path,
    extra_files: Iterable[Path] = (),
    overrides: Iterable[str] = (),
) -> Settings:
    """Load params.yaml, merge ``--params`` files then ``-P`` overrides, and validate.

    Parameters
    ----------
    params_file : Path
        The base file, usually the project's params.yaml.
    extra_files : iterable of Path
        Partial parameter files merged in order on top of the base.
    overrides : iterable of str
        ``section.key=value`` strings applied last, in order.

    Returns
    -------
    Settings
        The validated, immutable settings.
    """
    return validate_settings(*merge_layers(params_file, extra_files, overrides))


def merge_layers(
    params_file: Path,
    extra_files: Iterable[Path] = (),
    overrides: Iterable[str] = (),
) -> tuple[dict[str, Any], ParameterLayers]:
    """Merge the parameter layers without validating them (see :func:`load_settings`)."""
    layers = ParameterLayers()
    layers.merge(read_yaml_mapping(params_file), origin=params_file.name)
    for extra in extra_files:
        layers.merge(read_yaml_mapping(extra), origin=extra.name)
    for text in overrides:
        key, value = parse_override(text)
        layers.set_dotted(key, value, origin=f"-P {text}")
    return layers.values, layers
