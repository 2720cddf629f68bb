"""Choose the model's defaults by nested cross-validation on all labelled rows.

For each feature set (with and without ``group_survival``): the inner folds of every outer
training part choose ``max_depth`` and ``min_samples_leaf`` from :data:`GRID`, the outer fold
scores that choice (the nested estimate), and the same search on all rows gives the defaults.
Results are recorded in docs/model_selection.md.
Run: ``.venv/bin/python scripts/model_selection.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sklearn.model_selection import GridSearchCV

from titanic.config import FEATURE_GROUPS, load_settings
from titanic.dataset import load_dataset
from titanic.modeling.evaluate import fold_splitter
from titanic.modeling.selection import grid_for_pipeline, nested_cross_validation
from titanic.modeling.train import build_model
from titanic.schema.columns import split_features_target

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
GRID = {"max_depth": [4, 6, 8, None], "min_samples_leaf": [1, 4]}
OUTER_FOLDS, INNER_FOLDS = 5, 3
WITHOUT_GROUP = [name for name in FEATURE_GROUPS if name != "group_survival"]
FEATURE_SETS = {"without group_survival": WITHOUT_GROUP, "with group_survival": FEATURE_GROUPS}


def main() -> int:
    """Print the nested estimate and the setting chosen on all rows, per feature set."""
    base = load_settings(PARAMS)
    features, target = split_features_target(load_dataset(base.data).train)
    seed = base.random_state
    for label, groups in FEATURE_SETS.items():
        settings = load_settings(PARAMS, overrides=[f"features.include=[{', '.join(groups)}]"])
        model = build_model(settings.features, settings.model, seed)
        grid = grid_for_pipeline(GRID)
        nested = nested_cross_validation(
            model, grid, features, target, OUTER_FOLDS, INNER_FOLDS, seed
        )
        search = GridSearchCV(model, grid, cv=fold_splitter(INNER_FOLDS, seed), scoring="accuracy")
        search.fit(features, target)
        chosen = [{key.split("__")[1]: value for key, value in c.items()} for c in nested.chosen]
        sys.stdout.write(
            f"{label}: nested accuracy {nested.mean:.4f} +/- {nested.std:.4f}"
            f" (folds {', '.join(f'{score:.4f}' for score in nested.scores)})\n"
            f"  chosen per outer fold: {chosen}\n"
            f"  chosen on all rows: {search.best_params_}"
            f" (inner mean {search.best_score_:.4f})\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
