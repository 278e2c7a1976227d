"""Turn raw questionnaire answers into 0-100 item, dimension and index scores.

The scoring spec is a plain data structure defined here, so `analysis` does not depend on how a
questionnaire is loaded; `surveyapp.questionnaires.Questionnaire.to_scoring_spec()` builds one.

Rules (see docs/domain.md):

* item score = (x - low) / (high - low) * 100; reverse-coded items use (high - x) instead;
* a "don't know / not applicable" code (``missing_values``) and an unanswered item are missing
  (NaN), never 0;
* a dimension score is the mean of the respondent's answered items of that dimension, or NaN when
  fewer than ``min_answered`` were answered;
* the index is the weighted mean of the dimension scores the respondent has; the weights are
  renormalised over those dimensions (a respondent with no score on one dimension is scored on the
  others, not pulled towards 0), and the index is NaN when no dimension has a score.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DimensionRule", "ItemRule", "ScoringSpec", "score"]


@dataclass(frozen=True)
class ItemRule:
    """How one rated item is scored: its scale ends, dimension, direction and don't-know codes."""

    id: str
    low: int
    high: int
    dimension: str | None = None
    reverse: bool = False
    missing_values: tuple[int, ...] = ()


@dataclass(frozen=True)
class DimensionRule:
    """A dimension's weight in the index and how many answered items it needs for a score."""

    id: str
    weight: float = 1.0
    min_answered: int = 1


@dataclass(frozen=True)
class ScoringSpec:
    """Items, dimensions and the overall-satisfaction item (an item with ``dimension=None``)."""

    items: tuple[ItemRule, ...]
    dimensions: tuple[DimensionRule, ...]
    overall_item: str | None = None

    def __post_init__(self) -> None:
        problems = _spec_problems(self)
        if problems:
            raise ValueError("invalid scoring spec: " + "; ".join(problems))

    def items_of(self, dimension: str) -> tuple[ItemRule, ...]:
        """The items that make up ``dimension``, in spec order."""
        return tuple(item for item in self.items if item.dimension == dimension)


def _spec_problems(spec: ScoringSpec) -> list[str]:
    """Every inconsistency in a spec, so one error can list them all."""
    problems = []
    for name, ids in (("item", [i.id for i in spec.items]), ("dimension", [d.id for d in spec.dimensions])):
        problems += [f"{name} id {key!r} is used {n} times" for key, n in Counter(ids).items() if n > 1]
    dimension_ids = {d.id for d in spec.dimensions}
    for item in spec.items:
        if not item.low < item.high:
            problems.append(f"item {item.id!r}: low ({item.low}) must be below high ({item.high})")
        if item.dimension is not None and item.dimension not in dimension_ids:
            problems.append(f"item {item.id!r}: unknown dimension {item.dimension!r}")
        inside = [v for v in item.missing_values if item.low <= v <= item.high]
        if inside:
            problems.append(f"item {item.id!r}: don't-know codes {inside} lie inside the scale "
                            f"{item.low}..{item.high}")
    for dim in spec.dimensions:
        n_items = len(spec.items_of(dim.id))
        if not (np.isfinite(dim.weight) and dim.weight > 0):
            problems.append(f"dimension {dim.id!r}: weight must be a positive number, got {dim.weight}")
        if not 1 <= dim.min_answered <= max(n_items, 1):
            problems.append(f"dimension {dim.id!r}: min_answered must be from 1 to its {n_items} "
                            f"items, got {dim.min_answered}")
        if n_items == 0:
            problems.append(f"dimension {dim.id!r} has no items")
    if spec.overall_item is not None:
        overall = [i for i in spec.items if i.id == spec.overall_item]
        if not overall:
            problems.append(f"overall item {spec.overall_item!r} is not among the items")
        elif overall[0].dimension is not None:
            problems.append(f"overall item {spec.overall_item!r} must not belong to a dimension")
    return problems


def item_scores(values: np.ndarray, item: ItemRule) -> np.ndarray:
    """Score one item's raw answers on 0-100; NaN for unanswered and don't-know.

    Raises ValueError naming the item when an answer is neither on the scale nor a don't-know code,
    because a silently clipped or zeroed value would bias every estimate built on it.
    """
    x = np.array(values, dtype=float)  # a copy: don't-know codes are blanked below
    if item.missing_values:
        x[np.isin(x, item.missing_values)] = np.nan
    answered = ~np.isnan(x)
    bad = answered & ((x < item.low) | (x > item.high) | (x != np.round(x)))
    if bad.any():
        examples = sorted(set(x[bad].tolist()))[:5]
        codes = f" or one of the don't-know codes {list(item.missing_values)}" if item.missing_values else ""
        raise ValueError(f"item {item.id!r}: values {examples} are not answers; expected a whole "
                         f"number from {item.low} to {item.high}{codes}")
    span = item.high - item.low
    return ((item.high - x) if item.reverse else (x - item.low)) * (100.0 / span)


def _raw_column(answers: pd.DataFrame, item: ItemRule) -> np.ndarray:
    try:
        return answers[item.id].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"item {item.id!r}: answers must be numeric ({exc})") from None


def _mean_of_answered(
    columns: list[np.ndarray], weights: np.ndarray, minimum: float, n: int
) -> np.ndarray:
    """Weighted mean over the non-missing columns of each row; NaN where their weight < minimum.

    Column by column on 1-D arrays: much faster than row reductions of a stacked matrix.
    """
    total, weight_sum = np.zeros(n), np.zeros(n)
    for values, weight in zip(columns, weights):
        present = ~np.isnan(values)
        total += np.where(present, values * weight, 0.0)
        weight_sum += present * weight
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight_sum >= minimum, total / weight_sum, np.nan)


def score(answers: pd.DataFrame, spec: ScoringSpec) -> pd.DataFrame:
    """Score every respondent: item, dimension, index and overall scores on 0-100.

    ``answers`` has one row per respondent and one column per item id with the raw numeric answer
    (NaN when unanswered). The result has the same index and the columns ``item_<id>`` for every
    item, ``dim_<id>`` for every dimension, ``index`` and, when the spec names an overall item,
    ``overall`` (that item's 0-100 score). Missing answers stay missing at every level; see the
    module docstring for how dimension and index scores treat them.
    """
    absent = [item.id for item in spec.items if item.id not in answers.columns]
    if absent:
        raise ValueError(f"answers lack the item columns {absent}; add them (NaN = unanswered)")
    scored = {item.id: item_scores(_raw_column(answers, item), item) for item in spec.items}
    n = len(answers)
    dims = {}
    for dim in spec.dimensions:
        members = [scored[item.id] for item in spec.items_of(dim.id)]
        dims[dim.id] = _mean_of_answered(members, np.ones(len(members)), dim.min_answered, n)
    weights = np.array([dim.weight for dim in spec.dimensions], dtype=float)
    # index: weights renormalised over the dimensions present; NaN when none is (weight sum 0)
    index = _mean_of_answered(list(dims.values()), weights, np.finfo(float).tiny, n)
    columns = {f"item_{key}": value for key, value in scored.items()}
    columns |= {f"dim_{key}": value for key, value in dims.items()}
    columns["index"] = index
    if spec.overall_item is not None:
        columns["overall"] = scored[spec.overall_item]
    return _frame(columns, answers.index)


def _frame(columns: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """One float block filled column by column: pandas' dict constructor is slower at 1M rows."""
    block = np.empty((len(columns), len(index)))
    for row, values in zip(block, columns.values()):
        row[:] = values
    return pd.DataFrame(block.T, index=index, columns=list(columns), copy=False)
