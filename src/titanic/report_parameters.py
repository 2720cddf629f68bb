"""The report's named parameters (its parameters cell), resolved as the CLI resolves ``-P``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from titanic.errors import ConfigError
from titanic.layers import encode_override, load_settings
from titanic.settings import Settings

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
        The report's named parameters (:data:`REPORT_PARAMETERS`); ``None``
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
