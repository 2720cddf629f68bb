"""The report's parameters: a resolved parameters file, or params.yaml and the named parameters.

``titanic render`` and the sweep validate the parameters once, write them into the render's
staging folder as params.resolved.yaml with its sha256 in a hidden file beside it (never
published), and give the report only that file's path (``resolved_params_file``): the kernel
reads it back without validating it again. A bare ``quarto render report.qmd -P
n_estimators:50`` gives no file: the report then resolves params.yaml and its named parameters
itself, once, as ``-P`` overrides would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from titanic.errors import ConfigError
from titanic.fingerprint import sha256_hex
from titanic.layers import merge_layers, validate_settings
from titanic.project import RESOLVED_PARAMS_FILENAME
from titanic.settings import Settings, construct_settings, dump_settings

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


def digest_path(resolved: Path) -> Path:
    """Return where the sha256 of a resolved parameters file is kept: a hidden file beside it."""
    return resolved.with_name(f".{resolved.name}.sha256")


def resolved_files(settings: Settings) -> dict[str, str]:
    """Return the resolved parameters file and its digest file, by name, as text to write.

    Only a process that validated ``settings`` writes them: the digest vouches that the file
    is the one it wrote.
    """
    text = dump_settings(settings)
    resolved = Path(RESOLVED_PARAMS_FILENAME)
    return {resolved.name: text, digest_path(resolved).name: sha256_hex(text.encode()) + "\n"}


def read_resolved_settings(path: str | Path) -> Settings:
    """Read settings validated by another process from their resolved file, without validating.

    Raises
    ------
    ConfigError
        When the file or its digest is missing, or the file is not the one its digest vouches
        for: resolve and validate the parameters (``titanic render``) instead.
    """
    path = Path(path)
    try:
        # Bytes: the digest is of the file's bytes, and YAML reads UTF-8 bytes itself.
        content = path.read_bytes()
        digest = digest_path(path).read_bytes().strip()
    except OSError as err:
        raise ConfigError(
            f"cannot read the resolved parameters or their digest ({err.strerror}):"
            " give resolved_params_file only as titanic render writes it",
            source=str(path),
        ) from err
    if sha256_hex(content).encode() != digest:
        raise ConfigError(
            "the resolved parameters differ from those validated (sha256 mismatch): render"
            " with titanic render, or give the named parameters instead",
            source=str(path),
        )
    return construct_settings(yaml.safe_load(content))


def report_values(**named: Any) -> dict[str, Any]:
    """Return the report's named parameters (:data:`REPORT_PARAMETERS`) by their dotted keys.

    A value of ``None`` means "keep params.yaml's value" and is left out.

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
    return {REPORT_PARAMETERS[name]: value for name, value in named.items() if value is not None}


def report_settings(
    params_file: str | Path = "params.yaml",
    resolved_params_file: str | Path | None = None,
    **named: Any,
) -> Settings:
    """Return the report's settings: read from the resolved file, or resolved here once.

    Parameters
    ----------
    params_file : str or Path
        The project's params.yaml, resolved with the named parameters when no resolved file
        is given; a relative path starts from the current folder.
    resolved_params_file : str or Path, optional
        Settings validated by ``titanic render`` or the sweep (:func:`resolved_files`).
    **named
        The report's named parameters (:data:`REPORT_PARAMETERS`), ``None`` ignored; applied
        over params.yaml, as ``-P`` overrides would be.

    Returns
    -------
    Settings
        The settings of the resolved file, else params.yaml with the named values, validated.

    Raises
    ------
    ConfigError
        Naming every unknown key or bad value; or for named values given with a resolved file.
    """
    values = report_values(**named)
    if resolved_params_file is not None:
        if values:
            raise ConfigError(
                f"named parameters ({', '.join(values)}) and a resolved parameters file"
                " exclude each other: with titanic render, give them as -P section.key=value",
                source="report parameters",
                keys=tuple(values),
            )
        return read_resolved_settings(resolved_params_file)
    return _resolve_with(Path(params_file), values)


def _resolve_with(params_file: Path, values: Mapping[str, Any]) -> Settings:
    """Validate ``params_file`` with the dotted ``values`` set over it."""
    raw, layers = merge_layers(params_file)
    for dotted, value in values.items():
        layers.set_dotted(dotted, value, origin=f"report parameter {dotted}")
    return validate_settings(raw, layers)
