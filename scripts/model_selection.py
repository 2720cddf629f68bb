"""Compare a few forest settings by repeated stratified cross-validation on all labelled rows.

This is how params.yaml's model defaults were chosen (see docs/model_selection.md): by honest
cross-validation, not by one lucky validation split.
Run: ``.venv/bin/python scripts/model_selection.py``.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score

from titanic.config import load_settings
from titanic.dataset import load_dataset
from titanic.modeling.train import build_model
from titanic.schema import split_features_target

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
GRID = {"max_depth": [4, 6, 7, 8, None], "min_samples_leaf": [1, 2, 4]}


def main() -> int:
    """Print mean and spread of the cross-validated accuracy for every grid point."""
    base = load_settings(PARAMS)
    features, target = split_features_target(load_dataset(base.data).train)
    splitter = RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=base.random_state)
    rows = []
    for max_depth, min_samples_leaf in itertools.product(*GRID.values()):
        settings = load_settings(
            PARAMS,
            overrides=[f"model.max_depth={'null' if max_depth is None else max_depth}",
                       f"model.min_samples_leaf={min_samples_leaf}"]
        )  # fmt: skip
        model = build_model(settings.features, settings.model, settings.random_state)
        scores = cross_val_score(model, features, target, cv=splitter, scoring="accuracy")
        rows.append(
            {"max_depth": max_depth, "min_samples_leaf": min_samples_leaf,
             "accuracy_mean": scores.mean(), "accuracy_std": scores.std(ddof=1)}
        )  # fmt: skip
    table = pd.DataFrame(rows).sort_values("accuracy_mean", ascending=False)
    sys.stdout.write(table.to_string(index=False, float_format="{:.4f}".format) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
