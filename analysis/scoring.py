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

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
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


def _score_item(x: np.ndarray, item: ItemRule, out: np.ndarray) -> bool:
    """Write one item's 0-100 scores into ``out``; NaN for unanswered and don't-know.

    Returns True when some answer is neither on the scale nor a don't-know code (the caller
    then raises, see ``_reject_off_scale``). Comparisons with NaN are false, and ``fmin``/``fmax``
    skip NaN, so blanks pass the checks without a separate mask.
    """
    if item.reverse:
        np.subtract(item.high, x, out=out)
    else:
        np.subtract(x, item.low, out=out)
    out *= 100.0 / (item.high - item.low)
    for code in item.missing_values:
        np.putmask(out, x == code, np.nan)
    fraction = np.subtract(x, np.rint(x))
    return bool(np.fmin.reduce(out) < 0 or np.fmax.reduce(out) > 100
                or np.fmax.reduce(np.abs(fraction, out=fraction)) > 0)


def _reject_off_scale(x: np.ndarray, item: ItemRule) -> None:
    """Raise ValueError naming the item and its off-scale values (a whole column ``x``).

    A silently clipped or zeroed value would bias every estimate built on it.
    """
    scored = np.empty_like(x)
    _score_item(x, item, scored)
    bad = ((scored < 0) | (scored > 100) | (x != np.rint(x))) & ~np.isnan(scored)
    examples = sorted(set(x[bad].tolist()))[:5]
    codes = f" or one of the don't-know codes {list(item.missing_values)}" if item.missing_values else ""
    raise ValueError(f"item {item.id!r}: values {examples} are not answers; expected a whole "
                     f"number from {item.low} to {item.high}{codes}")


def _raw_column(answers: pd.DataFrame, item: ItemRule) -> np.ndarray:
    try:
        return answers[item.id].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"item {item.id!r}: answers must be numeric ({exc})") from None


def _mean_of_answered(columns: list[np.ndarray], weights: np.ndarray, minimum: float,
                      out: np.ndarray) -> None:
    """Write into ``out`` the weighted mean over the non-missing columns of each row, NaN where
    their weight is below ``minimum``. Column by column: faster than reductions over rows."""
    weight_sum = np.zeros_like(out)
    out[:] = 0.0
    for values, weight in zip(columns, weights):
        present = ~np.isnan(values)
        np.add(out, values * weight if weight != 1 else values, out=out, where=present)
        weight_sum += present * weight
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(out, weight_sum, out=out)
    out[weight_sum < minimum] = np.nan


#: Respondents scored at a time: small enough that a block's temporaries stay in the CPU cache
#: (scoring a million rows at once made every step wait for main memory: 3x slower).
_BLOCK_ROWS = 1 << 16
#: Blocks scored side by side (each writes its own columns of the result; numpy releases the
#: GIL inside each step).
SCORING_THREADS = min(4, os.cpu_count() or 1)


def _score_rows(raw: dict[str, np.ndarray], spec: ScoringSpec,
                rows: dict[str, np.ndarray]) -> ItemRule | None:
    """Score one block of respondents: raw answers by item id -> output rows by column name.

    Stops at, and returns, the first item with an off-scale answer; None when all is well.
    """
    for item in spec.items:
        if _score_item(raw[item.id], item, out=rows[f"item_{item.id}"]):
            return item
    for dim in spec.dimensions:
        members = [rows[f"item_{item.id}"] for item in spec.items_of(dim.id)]
        _mean_of_answered(members, np.ones(len(members)), dim.min_answered, out=rows[f"dim_{dim.id}"])
    # index: weights renormalised over the dimensions present; NaN when none is (weight sum 0)
    weights = np.array([dim.weight for dim in spec.dimensions], dtype=float)
    dims = [rows[f"dim_{dim.id}"] for dim in spec.dimensions]
    _mean_of_answered(dims, weights, np.finfo(float).tiny, out=rows["index"])
    if spec.overall_item is not None:
        rows["overall"][:] = rows[f"item_{spec.overall_item}"]
    return None


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
    names = [f"item_{item.id}" for item in spec.items] + [f"dim_{dim.id}" for dim in spec.dimensions]
    names += ["index"] + (["overall"] if spec.overall_item is not None else [])
    raw = {item.id: _raw_column(answers, item) for item in spec.items}
    block = np.empty((len(names), len(answers)))  # one float block, filled row by row

    def score_part(start: int) -> ItemRule | None:
        part = slice(start, start + _BLOCK_ROWS)
        return _score_rows({key: x[part] for key, x in raw.items()}, spec,
                           dict(zip(names, block[:, part])))

    with ThreadPoolExecutor(max_workers=SCORING_THREADS) as pool:
        for off_scale in pool.map(score_part, range(0, len(answers), _BLOCK_ROWS)):
            if off_scale is not None:  # the first block's, as scoring block after block
                _reject_off_scale(raw[off_scale.id], off_scale)
    return pd.DataFrame(block.T, index=answers.index, columns=names, copy=False)
