"""Parameters: the public names of the settings, their loading and the report's parameters.

Each job has its module: :mod:`titanic.settings` (the models), :mod:`titanic.strict_yaml`
(reading parameter files), :mod:`titanic.layers` (params.yaml, ``--params`` files and ``-P``
overrides, merged and validated), :mod:`titanic.report_parameters` (the report's named
parameters) and :mod:`titanic.schema.feature_groups` (the registry of feature groups).
"""

from titanic.layers import load_settings
from titanic.report_parameters import (
    REPORT_PARAMETERS,
    RESOLVED_PARAMS_FILENAME,
    read_resolved_settings,
    report_settings,
    report_values,
    resolved_files,
)
from titanic.schema.feature_groups import FEATURE_GROUPS, FEATURE_REGISTRY, FeatureGroupInfo
from titanic.settings import (
    DataSettings,
    EvaluationSettings,
    FeatureSettings,
    ModelSettings,
    SelectionSettings,
    Settings,
    SplitSettings,
    VariantSettings,
    dump_settings,
)

__all__ = [
    "FEATURE_GROUPS",
    "FEATURE_REGISTRY",
    "REPORT_PARAMETERS",
    "RESOLVED_PARAMS_FILENAME",
    "DataSettings",
    "EvaluationSettings",
    "FeatureGroupInfo",
    "FeatureSettings",
    "ModelSettings",
    "SelectionSettings",
    "Settings",
    "SplitSettings",
    "VariantSettings",
    "dump_settings",
    "load_settings",
    "read_resolved_settings",
    "report_settings",
    "report_values",
    "resolved_files",
]
