"""The schema package: the feature groups read only columns that the Kaggle schema declares."""

from titanic.schema.columns import FEATURE_COLUMNS, SCHEMAS, TARGET
from titanic.schema.feature_groups import FEATURE_REGISTRY


def test_every_feature_group_reads_declared_feature_columns_never_the_label():
    read = {column for group in FEATURE_REGISTRY for column in group.columns}
    assert read <= set(FEATURE_COLUMNS) - {TARGET}
    assert read <= set(SCHEMAS["test"].columns)
