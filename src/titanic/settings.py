"""The settings models: every section of params.yaml, typed, bounded and immutable (pydantic).

Every stage takes only its own section of :class:`Settings`. The models have no defaults for
the values that params.yaml holds, so that params.yaml stays the single source of truth: a key
missing from it is an error, not a silent fallback.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeVar, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from titanic.errors import some_of
from titanic.schema.feature_groups import FeatureGroup

# train.csv is 61 kB: 100 MB and two minutes leave a wide margin for a bigger or slower copy,
# and still stop a server that streams without end or trickles.
DEFAULT_MAX_BYTES = 100_000_000
DEFAULT_TIMEOUT_SECONDS = 120.0
Model = TypeVar("Model", bound=BaseModel)


class _Section(BaseModel):
    """Base of every section: immutable, strict types, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class DataSettings(_Section):
    """Where the data comes from."""

    source: str = Field(min_length=1)
    train_file: str = Field(min_length=1)
    test_file: str = Field(min_length=1)
    endpoint_url: str | None = None
    anonymous: bool = False
    sha256: dict[str, str] | None = None
    # Remote reads (https, S3) only, per file: a size cap and a deadline for the whole download.
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0)
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0)

    @field_validator("sha256")
    @classmethod
    def _hex_digests(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name, digest in (value or {}).items():
            if len(digest) != 64 or any(char not in "0123456789abcdef" for char in digest):
                raise ValueError(f"{name}: expected 64 lowercase hex digits, got {digest!r}")
        return value


class SplitSettings(_Section):
    """Validation split and cross-validation."""

    test_size: float = Field(gt=0, lt=1)
    stratify: bool
    cv_folds: int = Field(ge=2, le=20)


class FeatureSettings(_Section):
    """Which feature groups enter the model, and how rare titles are grouped."""

    include: tuple[FeatureGroup, ...] = Field(min_length=1)
    rare_title_min_count: int = Field(ge=1)

    @field_validator("include", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("include")
    @classmethod
    def _no_repeats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValueError(f"listed more than once: {', '.join(repeated)}")
        return value


class ModelSettings(_Section):
    """Hyper-parameters of the RandomForestClassifier, under scikit-learn's own names."""

    n_estimators: int = Field(gt=0, le=5000)
    max_depth: int | None = Field(ge=1)
    min_samples_split: int = Field(ge=2)
    min_samples_leaf: int = Field(ge=1)
    max_features: Literal["sqrt", "log2"] | float | None
    criterion: Literal["gini", "entropy", "log_loss"]
    class_weight: Literal["balanced", "balanced_subsample"] | None
    n_jobs: int = Field(ge=-1)

    @field_validator("max_features")
    @classmethod
    def _fraction(cls, value: str | float | None) -> str | float | None:
        if isinstance(value, float) and not 0 < value <= 1:
            raise ValueError("a fraction must lie in (0, 1]")
        return value

    @field_validator("n_jobs")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("n_jobs = 0 means no worker; use 1, a positive count or -1")
        return value


class EvaluationSettings(_Section):
    """Permutation importance and the baselines."""

    permutation_repeats: int = Field(ge=1, le=100)
    # "Women and children first": a passenger younger than this counts as a child.
    child_age: float = Field(gt=0, le=100)


# The forest's hyper-parameters that selection.grid may search.
SEARCHABLE = ("max_depth", "min_samples_split", "min_samples_leaf", "max_features", "criterion")
# A valid forest into which each grid value is put, so that it is checked as model.<key> is.
_SEARCH_TEMPLATE: dict[str, Any] = {
    "n_estimators": 1, "max_depth": None, "min_samples_split": 2, "min_samples_leaf": 1,
    "max_features": "sqrt", "criterion": "gini", "class_weight": None, "n_jobs": 1,
}  # fmt: skip


class SelectionSettings(_Section):
    """Nested cross-validation: inner folds choose from ``grid``, the outer folds score it.

    The outer folds are the plain cross-validation's (``split.cv_folds``); every setting of
    ``model`` that the grid does not name is kept, except the number of trees (``n_estimators``
    here), fewer to keep the search affordable.
    """

    enabled: bool
    inner_folds: int = Field(ge=2, le=10)
    n_estimators: int = Field(gt=0, le=5000)
    grid: dict[str, list[Any]] = Field(min_length=1)

    @field_validator("grid")
    @classmethod
    def _grid_values(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        problems = [
            f"{key}: not searchable (searchable: {', '.join(SEARCHABLE)})"
            for key in value
            if key not in SEARCHABLE
        ]
        problems += [
            f"{key}: give at least one value" for key, values in value.items() if not values
        ]
        for key, values in value.items():
            for item in values if key in SEARCHABLE else ():
                try:
                    ModelSettings.model_validate(_SEARCH_TEMPLATE | {key: item})
                except ValidationError as error:
                    problems.append(f"{key}: {item!r}: {error.errors()[0]['msg']}")
        if problems:
            raise ValueError(some_of(problems, separator="; "))
        return value


VARIANT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.+=-]*$"
# Keys a variant may not set: the sweep itself and where it writes.
NOT_SWEPT = ("variants", "output_dir")
# Far above any sweep worth rendering (each variant is a whole report), far below a grid
# that would take minutes to expand and validate.
DEFAULT_MAX_VARIANTS = 1000


def parameter_keys() -> tuple[str, ...]:
    """Return every dotted key a variant may set, e.g. ``model.max_depth``, ``random_state``."""
    keys: list[str] = []
    for name, field in Settings.model_fields.items():
        if name in NOT_SWEPT:
            continue
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            keys.extend(f"{name}.{key}" for key in section.model_fields)
        else:
            keys.append(name)
    return tuple(keys)


def _unknown_keys(keys: Iterable[str]) -> list[str]:
    known = set(parameter_keys())
    return [key for key in keys if key not in known]


class VariantSettings(_Section):
    """The sweep's variants: a grid of dotted keys (cartesian product) and named sets.

    Every grid point is one variant, named after its values; every named set is one more
    variant, named after the set. Each variant is params.yaml with its values applied. There
    may be at most ``max_variants`` of them, counted from the lists' lengths before anything
    is expanded.
    """

    grid: dict[str, list[Any]] = Field(default_factory=dict)
    sets: dict[str, dict[str, Any]] = Field(default_factory=dict)
    max_variants: int = Field(default=DEFAULT_MAX_VARIANTS, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, raw: Any) -> Any:
        """Refuse too many variants from the raw lists' lengths, before any value is checked."""
        if not isinstance(raw, Mapping):
            return raw
        grid, sets = raw.get("grid") or {}, raw.get("sets") or {}
        limit = raw.get("max_variants", DEFAULT_MAX_VARIANTS)
        if not isinstance(grid, Mapping) or not isinstance(sets, Mapping):
            return raw
        if not isinstance(limit, int) or isinstance(limit, bool):
            return raw
        lengths = [len(values) if isinstance(values, list) else 1 for values in grid.values()]
        count = (math.prod(lengths) if lengths else 0) + len(sets)
        if count > limit:
            shape = " x ".join(map(str, lengths)) or "no grid"
            plural = "" if len(sets) == 1 else "s"
            raise ValueError(
                f"{count} variants ({shape} + {len(sets)} set{plural}) is more than"
                f" variants.max_variants = {limit}; shorten the lists, or raise the limit"
                f" with -P variants.max_variants={count}"
            )
        return raw

    @field_validator("grid")
    @classmethod
    def _grid_keys(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        unknown = _unknown_keys(value)
        if unknown:
            raise ValueError(f"unknown parameter(s) {some_of(unknown)}")
        empty = [key for key, values in value.items() if not values]
        if empty:
            raise ValueError(f"{some_of(empty)}: give at least one value")
        repeated = [
            key for key, values in value.items() if len(set(map(repr, values))) < len(values)
        ]
        if repeated:
            raise ValueError(f"{some_of(repeated)}: a value is listed more than once")
        return value

    @field_validator("sets")
    @classmethod
    def _set_keys(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        problems = []
        for name, values in value.items():
            if not re.match(VARIANT_NAME_PATTERN, name):
                problems.append(f"{name!r}: a set name may hold only letters, digits and _.+=-")
            unknown = _unknown_keys(values)
            if unknown:
                problems.append(f"{name}: unknown parameter(s) {some_of(unknown)}")
        if problems:
            raise ValueError(some_of(problems, separator="; "))
        return value


class Settings(_Section):
    """Everything that determines a run."""

    data: DataSettings
    split: SplitSettings
    features: FeatureSettings
    model: ModelSettings
    evaluation: EvaluationSettings
    selection: SelectionSettings
    random_state: int = Field(ge=0, le=2**32 - 1)
    output_dir: str = Field(min_length=1)
    variants: VariantSettings = Field(default_factory=VariantSettings)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as plain YAML/JSON-ready values."""
        return self.model_dump(mode="json")


def dump_settings(settings: Settings) -> str:
    """Return the resolved settings as YAML, in params.yaml's key order."""
    return yaml.safe_dump(settings.to_dict(), sort_keys=False)


def construct_settings(values: Mapping[str, Any]) -> Settings:
    """Build :class:`Settings` from values validated before, without validating them again.

    For the values of :meth:`Settings.to_dict` read back from the resolved parameters file:
    each section becomes its model and a list its field's tuple, so that the result equals the
    settings that were validated. Values that were never validated must go through
    :func:`titanic.layers.validate_settings` instead.

    Raises
    ------
    KeyError
        For a key that is no field (the values were not made by :meth:`Settings.to_dict`).
    """
    return _construct(Settings, values)


def _construct(model: type[Model], values: Mapping[str, Any]) -> Model:
    fields: dict[str, Any] = {}
    for name, value in values.items():
        annotation = model.model_fields[name].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields[name] = _construct(annotation, value)
        elif get_origin(annotation) is tuple:
            fields[name] = tuple(value)
        else:
            fields[name] = value
    return model.model_construct(**fields)
