"""How many rows the expensive diagnostics read: every row up to a budget, a sample beyond.

The main model is always fitted on every training row and scored on every held-out row. The
diagnostics around it (cross-validation, the baselines, nested cross-validation and permutation
importance) refit hundreds of forests or predict the held-out rows a hundred times, so their
cost grows with the data far faster than the model's own. Beyond a budget of rows they run on
a stratified random sample of that size, drawn with the run's seed; up to it, on every row,
exactly as before (the shipped 891 passengers are far below it). Beyond a larger budget, the
report predicts the test passengers with the evaluated model instead of a refit on every
labelled row (:data:`REFIT_ROWS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.model_selection import train_test_split

from titanic.metrics import DiagnosticRowsSummary

# Training rows that cross-validation, the baselines and nested cross-validation read at most:
# about 6,000 forest fits of 1,000 to 4,000 rows, under a minute on one core.
DIAGNOSTIC_TRAIN_ROWS = 5_000
# Held-out rows that permutation importance shuffles at most: 100 shuffled copies of them
# (10 columns x 10 repeats) are predicted by every tree of the forest.
IMPORTANCE_ROWS = 2_000
# Labelled rows up to which the report refits the pipeline on every one of them before it
# predicts the test passengers. The refit grows a second forest of the model's size on more
# rows than the model's own fit: at 89,100 rows it took 12 s, at 733,000 about 165 s on one
# core, which alone would put the report of that file past 5 minutes. Beyond this, the report
# predicts with the model it evaluated (fitted on the training part) and says so; `titanic
# predict`, whose only job is the submission, always refits.
REFIT_ROWS = 100_000


@dataclass(frozen=True)
class DiagnosticRows:
    """The rows each diagnostic reads, out of the rows there are.

    Attributes
    ----------
    train_rows, validation_rows : int
        Training and held-out rows of the split (what the main model reads).
    cv_rows : int
        Training rows read by cross-validation, the baselines and nested cross-validation.
    importance_rows : int
        Held-out rows shuffled by permutation importance.
    """

    train_rows: int
    validation_rows: int
    cv_rows: int
    importance_rows: int

    @property
    def adapted(self) -> bool:
        """Whether any diagnostic reads a sample rather than every row."""
        return self.cv_rows < self.train_rows or self.importance_rows < self.validation_rows

    def reason(self) -> str:
        """Say, in one sentence for the report, which diagnostics read a sample and why."""
        if not self.adapted:
            return (
                "Every diagnostic read every row: the data are within the budget of"
                f" {DIAGNOSTIC_TRAIN_ROWS:,} training and {IMPORTANCE_ROWS:,} held-out rows."
            )
        parts = []
        if self.cv_rows < self.train_rows:
            parts.append(
                "cross-validation, the baselines and nested cross-validation read a stratified"
                f" sample of {self.cv_rows:,} of the {self.train_rows:,} training rows"
            )
        if self.importance_rows < self.validation_rows:
            parts.append(
                f"permutation importance shuffled a stratified sample of {self.importance_rows:,}"
                f" of the {self.validation_rows:,} held-out rows"
            )
        return (
            f"The data exceed the diagnostics' budget, so {' and '.join(parts)} (drawn with the"
            " run's seed); the model itself was fitted on every training row and scored on"
            " every held-out row."
        )

    def summary(self) -> DiagnosticRowsSummary:
        """Return the counts and the reason as JSON-ready values (for metrics.json)."""
        return {
            "train_rows": self.train_rows,
            "cv_rows": self.cv_rows,
            "validation_rows": self.validation_rows,
            "importance_rows": self.importance_rows,
            "reason": self.reason(),
        }


def plan_diagnostics(train_rows: int, validation_rows: int) -> DiagnosticRows:
    """Return how many rows each diagnostic reads (:data:`DIAGNOSTIC_TRAIN_ROWS`, ...)."""
    return DiagnosticRows(
        train_rows=train_rows,
        validation_rows=validation_rows,
        cv_rows=min(train_rows, DIAGNOSTIC_TRAIN_ROWS),
        importance_rows=min(validation_rows, IMPORTANCE_ROWS),
    )


def refits_for_predictions(labelled_rows: int) -> bool:
    """Whether the report refits on every labelled row to predict the test passengers."""
    return labelled_rows <= REFIT_ROWS


def sample_rows(
    features: pd.DataFrame, target: pd.Series, rows: int, random_state: int
) -> tuple[pd.DataFrame, pd.Series]:
    """Return a stratified random sample of ``rows`` rows, or every row when there are no more.

    Parameters
    ----------
    features, target : DataFrame, Series
        The rows and their labels.
    rows : int
        How many to keep.
    random_state : int
        The run's seed.
    """
    if rows >= len(features):
        return features, target
    kept, _, kept_target, _ = train_test_split(
        features, target, train_size=rows, stratify=target, random_state=random_state
    )
    return kept, kept_target
