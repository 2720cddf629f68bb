"""The sweep's variants: a grid of dotted keys and named sets, expanded and validated."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from titanic.errors import ConfigError, some_of
from titanic.layers import get_dotted, set_dotted, validate_settings
from titanic.settings import NOT_SWEPT, Settings

MAX_NAME_LENGTH = 120


@dataclass(frozen=True)
class Variant:
    """One parameter set: its name, the dotted values it sets and its settings, validated once.

    The settings travel to the variant's render as they are, and its report reads them from
    the resolved parameters file without validating them again.
    """

    name: str
    values: dict[str, Any]
    settings: Settings

    def parameters(self) -> dict[str, Any]:
        """Return the resolved parameters that determine the result (no sweep, no output)."""
        resolved = self.settings.to_dict()
        for key in NOT_SWEPT:
            resolved.pop(key, None)
        return resolved


def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "+".join(_value_text(item) for item in value) or "none"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    safe = re.sub(r"[^A-Za-z0-9.+=]+", "+", text).strip("+") or "value"
    if safe != text:
        # Characters were dropped: a short hash keeps distinct values apart.
        safe += "." + hashlib.sha256(text.encode()).hexdigest()[:6]
    return safe


def _labels(keys: Sequence[str]) -> dict[str, str]:
    """Name each key by its last part (``max_depth``), unless two keys share that part."""
    leaves = [key.rsplit(".", 1)[-1] for key in keys]
    return {
        key: leaf if leaves.count(leaf) == 1 else key
        for key, leaf in zip(keys, leaves, strict=True)
    }


def variant_name(values: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> str:
    """Name a grid point after its values, e.g. ``n_estimators-100_max_depth-4``.

    The name is filesystem-safe and depends only on the keys and values, in their order.
    """
    labels = labels or _labels(list(values))
    name = "_".join(f"{labels[key]}-{_value_text(value)}" for key, value in values.items())
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME_LENGTH - 9]}.{digest}"
    return name


def apply_values(base: Settings, values: Mapping[str, Any]) -> Settings:
    """Return ``base`` with dotted ``values`` set, validated again as a whole.

    The result keeps ``base``'s sweep (``variants``), as the variant's parameters always did:
    its report records them in metrics.json and params.resolved.yaml.

    Raises
    ------
    ConfigError
        When the result is not valid settings.
    """
    raw = base.to_dict()
    # The sweep was validated with base, once: not again for each of its variants.
    raw["variants"] = {}
    for dotted, value in values.items():
        set_dotted(raw, dotted, value)
    return validate_settings(raw).model_copy(update={"variants": base.variants})


def expand_variants(settings: Settings) -> list[Variant]:
    """Expand ``settings.variants``: every grid point, then every named set.

    Raises
    ------
    ConfigError
        Naming the first invalid variants, and their keys, or a name used twice, and how
        many more there are.
    """
    spec = settings.variants
    points: list[tuple[str, dict[str, Any]]] = []
    if spec.grid:
        keys = list(spec.grid)
        labels = _labels(keys)
        for combination in itertools.product(*spec.grid.values()):
            values = dict(zip(keys, combination, strict=True))
            points.append((variant_name(values, labels), values))
    points.extend((name, dict(values)) for name, values in spec.sets.items())
    variants, problems, seen = [], [], set()
    for name, values in points:
        if name in seen:
            problems.append(f"{name}: two variants have this name; rename the set")
            continue
        seen.add(name)
        try:
            variants.append(Variant(name, values, apply_values(settings, values)))
        except ConfigError as err:
            detail = str(err).removeprefix(f"{err.source}: ")
            problems.append(f"{name}: {detail}")
    if problems:
        raise ConfigError(some_of(problems, separator="; "), source="variants")
    return variants


def swept_keys(settings: Settings) -> list[str]:
    """Return the dotted keys the variants set: the grid's, then the sets' others."""
    keys = list(settings.variants.grid)
    for values in settings.variants.sets.values():
        keys.extend(key for key in values if key not in keys)
    return keys


def resolved_value(settings: Settings, dotted: str) -> Any:
    """Return the value of a dotted key in resolved settings, as JSON-ready data."""
    return get_dotted(settings.to_dict(), dotted)
