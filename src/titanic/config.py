"""Parameters: params.yaml, then ``--params FILE`` files, then ``-P key=value``; validated once.

Every stage takes only its own section of :class:`Settings`. The models have no defaults for
the values that params.yaml holds, so that params.yaml stays the single source of truth: a key
missing from it is an error, not a silent fallback.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from titanic.errors import ConfigError, some_of


class FeatureGroupInfo(NamedTuple):
    """One feature group: its name in ``features.include``, what it reads, makes and why."""

    name: str
    columns: tuple[str, ...]
    features: str
    why: str


# The single registry of feature groups, in pipeline order: config's validation, the pipeline's
# columns (titanic.features), the report's feature table and README's table all derive from it.
FEATURE_REGISTRY: tuple[FeatureGroupInfo, ...] = (
    FeatureGroupInfo(
        "title",
        ("Name",),
        "title (Mr, Mrs, Miss, Master; titles seen fewer than `rare_title_min_count` times"
        " become Rare)",
        'may carry sex, age and status at once: "Master" marks boys',
    ),
    FeatureGroupInfo(
        "sex", ("Sex",), "male", '"women and children first" was the rule of the evacuation'
    ),
    FeatureGroupInfo(
        "pclass", ("Pclass",), "class 1-3", "may stand for wealth, and cabins nearer the boats"
    ),
    FeatureGroupInfo(
        "age",
        ("Age",),
        "age, median-imputed, plus a was-missing indicator",
        "children first; a missing age may itself carry information",
    ),
    FeatureGroupInfo("fare", ("Fare",), "fare, median-imputed", "may add wealth beyond the class"),
    FeatureGroupInfo(
        "family",
        ("SibSp", "Parch"),
        "both counts, family size, travels alone",
        "families may have stayed together in the evacuation",
    ),
    FeatureGroupInfo(
        "port",
        ("Embarked",),
        "port (most frequent when missing), one-hot",
        "ports may differ in their mix of classes",
    ),
    FeatureGroupInfo(
        "cabin",
        ("Cabin",),
        "deck letter (U when unknown), rare decks grouped",
        "a known cabin may go with first class",
    ),
    FeatureGroupInfo(
        "ticket",
        ("Ticket",),
        "passengers sharing the ticket (among training rows), letter prefix",
        "groups travelling together",
    ),
    FeatureGroupInfo(
        "group_survival",
        ("Name", "Ticket", "Fare"),
        "survival rate of the other labelled passengers on the same ticket (else the same"
        " surname and fare), learned from training labels, never the passenger's own;"
        " whether there is one",
        "companions may have shared a fate",
    ),
)
FEATURE_GROUPS = tuple(group.name for group in FEATURE_REGISTRY)
if TYPE_CHECKING:
    FeatureGroup = str
else:  # pydantic checks every name against the registry, one error per bad item
    FeatureGroup = Literal[FEATURE_GROUPS]


# train.csv is 61 kB: 100 MB and two minutes leave a wide margin for a bigger or slower copy,
# and still stop a server that streams without end or trickles.
DEFAULT_MAX_BYTES = 100_000_000
DEFAULT_TIMEOUT_SECONDS = 120.0


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
# A later layer's grid or sets replace the earlier ones instead of merging key by key: a
# --params file with its own grid sweeps that grid, not its union with params.yaml's.
REPLACED_WHOLE = ("variants.grid", "variants.sets")
# Far above any sweep worth rendering (each variant is a whole report), far below a grid
# that would take minutes to expand and validate.
DEFAULT_MAX_VARIANTS = 1000
# A parameter file is a few kB; anything past this is not one (and may be endless).
MAX_PARAMS_BYTES = 1_000_000
# A bad value is quoted in its error message up to this many characters.
MAX_SHOWN_VALUE = 80


# Named parameters of the report's parameters cell and the dotted key each one sets.
REPORT_PARAMETERS: dict[str, str] = {
    "n_estimators": "model.n_estimators",
    "max_depth": "model.max_depth",
    "min_samples_split": "model.min_samples_split",
    "min_samples_leaf": "model.min_samples_leaf",
    "max_features": "model.max_features",
    "test_size": "split.test_size",
    "cv_folds": "split.cv_folds",
    "random_state": "random_state",
    "data_source": "data.source",
}


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


def encode_override(dotted: str, value: Any) -> str:
    """Return ``dotted=value`` for ``-P``: JSON, which :func:`parse_override` reads back typed."""
    return f"{dotted}={json.dumps(value)}"


def report_overrides(**named: Any) -> list[str]:
    """Turn the report's named parameters (:data:`REPORT_PARAMETERS`) into ``-P`` overrides.

    A value of ``None`` means "keep params.yaml's value" and gives no override.

    Raises
    ------
    ConfigError
        For a name that is not in :data:`REPORT_PARAMETERS`.
    """
    unknown = sorted(set(named) - set(REPORT_PARAMETERS))
    if unknown:
        raise ConfigError(
            f"unknown report parameter(s): {', '.join(unknown)};"
            f" known: {', '.join(REPORT_PARAMETERS)}",
            source="report parameters",
            keys=tuple(unknown),
        )
    return [
        encode_override(REPORT_PARAMETERS[name], value)
        for name, value in named.items()
        if value is not None
    ]


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


class _RefusedYaml(yaml.YAMLError):
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
            raise _RefusedYaml(
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
                raise _RefusedYaml(f"duplicate key {key!r} at {lines}; keep one of them", line)
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
    if isinstance(err, _RefusedYaml):
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
    except _RefusedYaml as err:
        raise ConfigError(f"{key}: {err.problem}", "-P") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"cannot parse the value of {key}: {raw_value!r}", "-P") from err
    return key, value


class _Layers:
    """Merge parameter layers, remembering which layer set each key (for error messages)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.origins: dict[str, str] = {}

    def merge(self, update: Mapping[str, Any], origin: str, prefix: str = "") -> None:
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


def validate_settings(raw: Mapping[str, Any], origins: _Layers | None = None) -> Settings:
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
) -> tuple[dict[str, Any], _Layers]:
    """Merge the parameter layers without validating them (see :func:`load_settings`)."""
    layers = _Layers()
    layers.merge(read_yaml_mapping(params_file), origin=params_file.name)
    for extra in extra_files:
        layers.merge(read_yaml_mapping(extra), origin=extra.name)
    for text in overrides:
        key, value = parse_override(text)
        layers.set_dotted(key, value, origin=f"-P {text}")
    return layers.values, layers


def dump_settings(settings: Settings) -> str:
    """Return the resolved settings as YAML, in params.yaml's key order."""
    return yaml.safe_dump(settings.to_dict(), sort_keys=False)


def report_settings(
    params_file: str | Path = "params.yaml",
    overrides: Iterable[str] = (),
    extra_files: Iterable[str | Path] = (),
    **shortcuts: Any,
) -> Settings:
    """Resolve the parameters of the report exactly as the CLI does.

    Parameters
    ----------
    params_file : str or Path
        The base parameter file; a relative path starts from the current folder
        (the project root, where Quarto and ``titanic render`` run the report).
    overrides : iterable of str
        ``section.key=value`` strings, as given to ``-P``.
    extra_files : iterable of str or Path
        Partial parameter files merged over the base (``--params``).
    **shortcuts
        The report's named parameters (:data:`titanic.config.REPORT_PARAMETERS`); ``None``
        is ignored.

    Returns
    -------
    Settings
        Validated settings: params_file, then extra_files, then overrides, then shortcuts.

    Raises
    ------
    ConfigError
        Naming every unknown key or bad value.
    """
    return load_settings(
        Path(params_file),
        extra_files=[Path(extra) for extra in extra_files],
        overrides=[*overrides, *report_overrides(**shortcuts)],
    )
