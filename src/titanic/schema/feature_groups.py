"""The feature groups, in pipeline order: what each reads from the Kaggle columns, makes and why.

The single registry: the settings' validation (``features.include``), the pipeline's columns
(:mod:`titanic.features`), the report's feature table and README's table all derive from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple


class FeatureGroupInfo(NamedTuple):
    """One feature group: its name in ``features.include``, what it reads, makes and why."""

    name: str
    columns: tuple[str, ...]
    features: str
    why: str


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
