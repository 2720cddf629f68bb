"""Helpers for the parameter tests: params.yaml with overrides, accepted or refused."""

import pytest

from titanic.errors import ConfigError
from titanic.layers import load_settings
from titanic.settings import Settings

from .conftest import REPO_ROOT


def refusal(*overrides: str) -> str:
    """The message of the ConfigError raised by params.yaml with ``overrides``."""
    with pytest.raises(ConfigError) as caught:
        load_settings(REPO_ROOT / "params.yaml", overrides=list(overrides))
    return str(caught.value)


def accepted(*overrides: str) -> Settings:
    return load_settings(REPO_ROOT / "params.yaml", overrides=list(overrides))
