"""Check a rendered report against its own run: every number and every directional claim.

Independent of the package's wording code: the rates, tests and intervals are computed here
again from the data files, metrics.json and the report's own tables, with plain pandas and
the textbook formulas, and the report's sentences are read back with regular expressions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pandas as pd
from scipy import stats

from titanic.modeling.scale import DIAGNOSTIC_TRAIN_ROWS, IMPORTANCE_ROWS

Z95 = 1.959963984540054
# Literals that are not about the data: the date of the sinking.
ALLOWED_LITERALS = ("15 April 1912",)
SKIPPED_TAGS = {"table", "pre", "code", "header", "nav", "script", "style", "details", "footer"}
NUMBER = re.compile(r"(?<![\w.])([+\-\u2212]?\d[\d,]*(?:\.\d+)?)(\s?%| points)?")


class _Text(HTMLParser):
    """Visible prose of a page (tables, code, headers and navigation left out) and alt texts."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []
        self.tables: list[str] = []
        self.alts: list[str] = []
        self.in_table = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self.depth += 1
        if tag == "table":
            self.in_table += 1
        alt = dict(attrs).get("alt")
        if tag == "img" and alt:
            self.alts.append(alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS and self.depth:
            self.depth -= 1
        if tag == "table" and self.in_table:
            self.in_table -= 1
        if tag in {"p", "li", "figcaption", "div", "h1", "h2", "h3"}:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_table:
            self.tables.append(data)
        elif not self.depth:
            self.parts.append(data)


@dataclass
class Page:
    """What a reader reads: prose (with captions), alt texts, and the numbers of the tables."""

    prose: str
    alts: list[str]
    table_text: str

    @property
    def text(self) -> str:
        return self.prose + "\n" + "\n".join(self.alts)


def read_page(html: str) -> Page:
    parser = _Text()
    parser.feed(html)
    prose = "".join(parser.parts).replace("\xa0", " ").replace("\u2212", "-")
    return Page(prose, sorted(set(parser.alts)), " ".join(parser.tables))


FAMILY_AND_FARE_GROUPS = (
    "passengers travelling alone",
    "families of two to four",
    "families of five or more",
    "passengers who paid more than the median fare",
    "the others",
)


def hanley_mcneil(auc: float, positives: int, negatives: int) -> float:
    """The standard error of a ROC AUC (Hanley and McNeil, 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    return math.sqrt(variance)


def rate(frame: pd.DataFrame) -> float:
    return float(frame["Survived"].mean())


def group_rows(train: pd.DataFrame, name: str) -> pd.DataFrame | None:
    """The passengers a group name of the report stands for (None: not a data group)."""
    family = train["SibSp"] + train["Parch"] + 1
    median_fare = train["Fare"].median()
    groups = {
        "women": train["Sex"] == "female",
        "men": train["Sex"] == "male",
        "first-class passengers": train["Pclass"] == 1,
        "second-class passengers": train["Pclass"] == 2,
        "third-class passengers": train["Pclass"] == 3,
        "passengers travelling alone": family == 1,
        "families of two to four": family.between(2, 4),
        "families of five or more": family >= 5,
        "passengers who paid more than the median fare": train["Fare"] > median_fare,
        "the others": ~(train["Fare"] > median_fare),
        "passengers who embarked at cherbourg": train["Embarked"] == "C",
        "passengers who embarked at queenstown": train["Embarked"] == "Q",
        "passengers who embarked at southampton": train["Embarked"] == "S",
    }
    if match := re.fullmatch(r"children under ([\d.]+)", name):
        return train[train["Age"] < float(match.group(1))]
    if name == "older passengers":
        return train[train["Age"].notna()]  # narrowed by the caller with the child age
    mask = groups.get(name.lower())
    return None if mask is None else train[mask]


def adjusted_variance(rows: pd.DataFrame) -> float:
    n, k = len(rows), int(rows["Survived"].sum())
    p = (k + 1) / (n + 2)
    return p * (1 - p) / (n + 2)


@dataclass
class Audit:
    """What was checked, and every disagreement found."""

    claims: int = 0
    numbers: int = 0
    problems: list[str] = field(default_factory=list)

    def check(self, ok: bool, message: str) -> None:
        self.claims += 1
        if not ok:
            self.problems.append(message)


COMPARISON = re.compile(
    r"(?P<first>[A-Z][\w -]*?) survived (?P<word>more|less) often than (?P<second>[\w -]+?)"
    r" \((?P<a>[\d.]+)% against (?P<b>[\d.]+)%\)"
)
NO_DIFFERENCE = re.compile(
    r"no clear difference in survival between (?P<first>[\w -]+?) and (?P<second>[\w -]+?)"
    r" \((?P<a>[\d.]+)% against (?P<b>[\d.]+)%\)"
)


def _pair(train: pd.DataFrame, first: str, second: str, child_age: float):
    rows_a, rows_b = group_rows(train, first), group_rows(train, second)
    if rows_a is None or rows_b is None:
        return None
    if second == "older passengers":
        rows_b = rows_b[rows_b["Age"] >= child_age]
    return rows_a, rows_b


def audit_comparisons(text: str, train: pd.DataFrame, child_age: float, audit: Audit) -> None:
    """Each 'A survived more/less often than B (a% against b%)' and each 'no clear difference'."""
    for pattern, clear in ((COMPARISON, True), (NO_DIFFERENCE, False)):
        for match in pattern.finditer(text):
            first, second = match["first"].lower(), match["second"].lower()
            pair = _pair(train, first, second, child_age)
            if pair is None:
                audit.problems.append(f"unknown groups in: {match[0]}")
                continue
            rows_a, rows_b = pair
            shown = (float(match["a"]), float(match["b"]))
            actual = (round(100 * rate(rows_a), 1), round(100 * rate(rows_b), 1))
            audit.check(shown == actual, f"{match[0]}: the data say {actual}")
            difference = rate(rows_a) - rate(rows_b)
            noise = Z95 * math.sqrt(adjusted_variance(rows_a) + adjusted_variance(rows_b))
            if clear:
                direction = "more" if difference > 0 else "less"
                audit.check(
                    abs(difference) > noise and match["word"] == direction,
                    f"{match[0]}: difference {difference:+.3f}, noise {noise:.3f}",
                )
            else:
                audit.check(abs(difference) <= noise, f"{match[0]}: clear difference")


def audit_model_claims(text: str, metrics: dict, train: pd.DataFrame, audit: Audit) -> None:
    """The claims about the model: the rule, chance, errors, importance, majority outcome."""
    summary = metrics["metrics"]
    gain = summary["gain_over_best_rule"]
    folds = len(summary["cross_validation_folds"]["accuracy"])
    critical = stats.t.ppf(0.975, folds - 1) * gain["std"] / math.sqrt(folds)
    for match in re.finditer(r"The model is clearly (more|less) accurate than", text):
        expected = "more" if gain["mean"] > 0 else "less"
        audit.check(
            abs(gain["mean"]) > critical and match.group(1) == expected, f"{match[0]}: {gain}"
        )
    for _ in re.finditer(r"no clear difference in accuracy between the model", text):
        audit.check(abs(gain["mean"]) <= critical, f"no clear gain claimed: {gain}")
    matrix = summary["confusion_matrix"]["rows_actual_columns_predicted"]
    (tn, fp), (fn, tp) = matrix
    balanced = abs(fn - fp) <= Z95 * math.sqrt(fn + fp)
    if "no clear imbalance between the two kinds of error" in text:
        audit.check(balanced, f"errors {fn} missed, {fp} false alarms: imbalanced")
    if "misses survivors clearly more often" in text:
        audit.check(not balanced and fn > fp, f"errors {fn} missed, {fp} false alarms")
    if "wrongly predicts survival clearly more often" in text:
        audit.check(not balanced and fp > fn, f"errors {fn} missed, {fp} false alarms")
    auc = summary["validation"]["roc_auc"]
    beats_chance = auc - Z95 * hanley_mcneil(auc, fn + tp, tn + fp) > 0.5
    if "clearly better than the 0.5 of chance" in text:
        audit.check(beats_chance, f"AUC {auc} not clearly above chance")
    if "not clearly better than the 0.5 of chance" in text:
        audit.check(not beats_chance, f"AUC {auc} clearly above chance")
    for match in re.finditer(r"majority outcome of the training rows \(here (\w+)\)", text):
        majority = "survival" if train["Survived"].mean() > 0.5 else "death"
        audit.check(match.group(1) == majority, f"{match[0]}: the data say {majority}")
    ranked = [entry["feature"] for entry in summary["permutation_importance"]]
    for match in re.finditer(
        r"Here the \d+ most important columns are ([^(]*?\(.*?\)[^.]*)\.", text
    ):
        named = re.findall(r"(\w+) \([+-]", match.group(1))
        audit.check(named == ranked[: len(named)], f"{match[0]}: ranking {ranked}")


def audit_correlation(text: str, train: pd.DataFrame, audit: Audit) -> None:
    """'survival correlates most with X (positively|negatively, r = ...)'."""
    names = {"the ticket class": "Pclass", "the age": "Age", "the fare": "Fare",
             "the family size": "family_size"}  # fmt: skip
    frame = train.assign(family_size=train["SibSp"] + train["Parch"] + 1)
    columns = ["Pclass", "Age", "SibSp", "Parch", "Fare", "family_size"]
    correlation = frame[[*columns, "Survived"]].astype(float).corr()["Survived"].drop("Survived")
    strongest = correlation.abs().idxmax()
    for match in re.finditer(
        r"survival correlates most with ([\w ]+?) \((\w+), r = ([+-][\d.]+)\)", text
    ):
        column = names.get(match.group(1), match.group(1))
        sign = "positively" if correlation[strongest] > 0 else "negatively"
        audit.check(
            column == strongest and match.group(2) == sign
            and float(match.group(3)) == round(correlation[strongest], 2),
            f"{match[0]}: the data say {strongest} {correlation[strongest]:+.2f}",
        )  # fmt: skip


def audit_class_trend(text: str, train: pd.DataFrame, audit: Audit) -> None:
    """'The better the ticket class, the higher/lower the survival rate'."""
    for match in re.finditer(
        r"The better the ticket class, the (higher|lower) the survival", text
    ):
        rates = [rate(train[train["Pclass"] == pclass]) for pclass in (1, 2, 3)]
        falling = rates[0] > rates[1] > rates[2]
        audit.check(falling == (match.group(1) == "higher"), f"{match[0]}: rates {rates}")


def _leaves(value: object) -> Iterable[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)


def known_values(
    metrics: dict, train: pd.DataFrame, page: Page, test_rows: int, child_age: float
) -> list[float]:
    """Every value a number of the text may show, computed again from the run's own files."""
    values = list(_leaves(metrics["metrics"])) + list(_leaves(metrics["parameters"]))
    tables = [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*\.?\d*", page.table_text)]
    values += tables + [number / 100 for number in tables]  # percentages shown in the tables
    summary = metrics["metrics"]
    (tn, fp), (fn, tp) = summary["confusion_matrix"]["rows_actual_columns_predicted"]
    values += [
        tn + tp,
        fn + tp,
        tp + fp,
        fn + fp,
        tn + fp + fn + tp,
        (tn + tp) / (tn + fp + fn + tp),
    ]
    values += [tp / (fn + tp), tp / (tp + fp), len(train), test_rows, rate(train), Z95, 0.95, 0.5]
    frame = train.assign(family_size=train["SibSp"] + train["Parch"] + 1)
    for column in ("Sex", "Pclass", "Embarked"):
        values += list(frame.groupby(column)["Survived"].mean())
        values += list(frame.groupby("Embarked")["Pclass"].apply(lambda c: (c == 1).mean()))
    known_age = train[train["Age"].notna()]
    values += [
        rate(known_age[known_age["Age"] < child_age]),
        rate(known_age[known_age["Age"] >= child_age]),
    ]
    values += [*train.isna().mean(), train["Fare"].median(), int(train["Age"].isna().sum())]
    columns = ["Pclass", "Age", "SibSp", "Parch", "Fare", "family_size", "Survived"]
    values += list(frame[columns].astype(float).corr().to_numpy().ravel())
    for name in FAMILY_AND_FARE_GROUPS:
        rows = group_rows(train, name)
        values += [rate(rows), len(rows)]
    nested = summary.get("nested_cross_validation")
    estimate = nested["accuracy"] if nested else summary["cross_validation"]["accuracy"]
    k = len(nested["folds"]) if nested else len(summary["cross_validation_folds"]["accuracy"])
    error, noise = (
        estimate["std"] / math.sqrt(k),
        math.sqrt(estimate["mean"] * (1 - estimate["mean"]) / test_rows),
    )
    half = Z95 * math.hypot(error, noise)
    values += [error, noise, half, 2 * half, estimate["mean"] - half, estimate["mean"] + half]
    values += [summary["cross_validation"]["accuracy"]["mean"] - estimate["mean"]]
    auc = summary["validation"]["roc_auc"]
    values.append(hanley_mcneil(auc, fn + tp, tn + fp))
    # the diagnostics' row budgets, which the report states (titanic.modeling.scale)
    values += [DIAGNOSTIC_TRAIN_ROWS, IMPORTANCE_ROWS]
    return values


def _shown(token: str) -> tuple[float, int]:
    digits = token.split(".")[1] if "." in token else ""
    return float(token.replace(",", "").replace("\u2212", "-")), len(digits)


def audit_numbers(page: Page, values: list[float], audit: Audit) -> None:
    """Every number in the prose, captions and alt texts matches a value of the run."""
    text = page.text
    for literal in ALLOWED_LITERALS:
        text = text.replace(literal, "")
    for match in NUMBER.finditer(text):
        token, unit = match.group(1), (match.group(2) or "").strip()
        shown, decimals = _shown(token)
        if unit == "" and decimals == 0 and 0 <= shown <= 10:
            continue  # small counts (folds, columns, rows shown): structural, not findings
        audit.numbers += 1
        scales = (100,) if unit in {"%", "points"} else (1, 100)
        tolerance = 0.5 * 10**-decimals + 1e-9
        if not any(
            abs(abs(scale * value) - abs(shown)) <= tolerance
            for value in values
            for scale in scales
        ):
            start = max(0, match.start() - 60)
            audit.problems.append(
                f"number {token}{unit} matches nothing: ...{text[start : match.end() + 20]}..."
            )


def audit_report(
    html: str, metrics: dict, train: pd.DataFrame, test_rows: int, child_age: float = 13
) -> Audit:
    """Check every number and every directional claim of a rendered report."""
    page = read_page(html)
    audit = Audit()
    text = re.sub(r"[ \t]+", " ", page.text)
    audit_comparisons(text, train, child_age, audit)
    audit_model_claims(text, metrics, train, audit)
    audit_correlation(text, train, audit)
    audit_class_trend(text, train, audit)
    audit_numbers(page, known_values(metrics, train, page, test_rows, child_age), audit)
    return audit
