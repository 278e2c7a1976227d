"""A composite quality development index of districts from indicators of mixed units.

Districts such as Putuo and Songjiang publish a "quality development index": survey scores and
administrative indicators (product-inspection pass rates, complaints per 10,000 residents, ...)
put on one scale, weighted and summed. Every step is declared, so a reader can redo it:

* **normalisation** (``minmax``, ``zscore`` or ``target``) turns each indicator into a score
  where higher is better: a ``cost`` indicator (complaints) is reversed. ``minmax`` and
  ``target`` give 0-1 scores and the index is on 0-100; ``zscore`` gives standard scores
  (sample SD) and the index is a weighted standard score (0 = the districts' mean).
* **weights**: ``fixed`` (declared, equal by default), ``entropy`` (entropy weight method) or
  ``critic`` (Diakoulaki, Mavrotas & Papayannakis 1995). Both data-driven methods are defined
  on benefit-oriented 0-1 data, so they are computed from the min-max scores whatever the
  declared normalisation (z-scores are negative, where entropy has no meaning):

  - entropy: p_ij = s_ij / sum_i s_ij, e_j = -sum_i p_ij ln p_ij / ln n (0 ln 0 = 0),
    w_j = (1 - e_j) / sum_k (1 - e_k);
  - CRITIC: C_j = sd_j * sum_k (1 - r_jk) with the sample SD and Pearson correlations,
    w_j = C_j / sum_k C_k.

* the **index** of a district is sum_j w_j s_ij (x 100 on the 0-1 scales); each term is that
  indicator's **contribution**, so contributions add up to the index.
* **sensitivity**: each weight in turn is changed by -20% and +20%, the others rescaled so the
  weights still sum to 1, and every district's rank recomputed; a district's rank range is the
  best and worst rank it takes over all these changes (and the declared weights).

Ranks are 1 for the highest index; ties share the best rank (R's ``rank(ties.method="min")``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["CompositeIndex", "Indicator", "composite_index", "critic_weights",
           "entropy_weights", "minmax_scores", "normalise", "sensitivity"]

Direction = Literal["benefit", "cost"]
Normalisation = Literal["minmax", "zscore", "target"]
Weighting = Literal["fixed", "entropy", "critic"]
NORMALISATIONS: tuple[str, ...] = ("minmax", "zscore", "target")
WEIGHTINGS: tuple[str, ...] = ("fixed", "entropy", "critic")
SENSITIVITY_CHANGE = 0.2


@dataclass(frozen=True)
class Indicator:
    """One column of the indicator table: higher is better (``benefit``) or worse (``cost``).

    ``target`` is the value that scores 1 under the ``target`` normalisation (default: the best
    value observed); ``weight`` is its declared weight for ``fixed`` weighting (default equal).
    """

    key: str
    direction: Direction = "benefit"
    target: float | None = None
    weight: float | None = None


@dataclass(frozen=True)
class CompositeIndex:
    """The index and how it came about; every table is indexed by district.

    ``table``: columns ``index`` and ``rank``, best first. ``scores``: the normalised indicators.
    ``contributions``: w_j s_ij on the index's scale (rows add up to ``index``). ``weights``:
    by indicator, summing to 1. ``sensitivity``: one row per (indicator, change, district)
    with ``weight`` (the changed weight), ``index`` and ``rank``. ``rank_range``: ``rank``,
    ``best``, ``worst`` per district.
    """

    normalisation: str
    weighting: str
    scale: float
    weights: pd.Series
    scores: pd.DataFrame
    contributions: pd.DataFrame
    table: pd.DataFrame
    sensitivity: pd.DataFrame
    rank_range: pd.DataFrame


def composite_index(values: pd.DataFrame, indicators: Sequence[Indicator],
                    normalisation: Normalisation = "minmax", weighting: Weighting = "entropy",
                    change: float = SENSITIVITY_CHANGE) -> CompositeIndex:
    """Normalise, weight and sum ``values`` (districts x indicator keys) into the index."""
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {', '.join(NORMALISATIONS)}, "
                         f"got {normalisation!r}")
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHTINGS)}, got {weighting!r}")
    data = _checked(values, indicators)
    scores = normalise(data, indicators, normalisation)
    if weighting == "fixed":
        weights = _fixed_weights(indicators)
    else:
        basis = minmax_scores(data, indicators)
        weights = entropy_weights(basis) if weighting == "entropy" else critic_weights(basis)
    scale = 1.0 if normalisation == "zscore" else 100.0
    contributions = scores.mul(weights, axis=1) * scale
    index = contributions.sum(axis=1)
    table = pd.DataFrame({"index": index, "rank": _ranks(index)}).sort_values(
        ["rank", "index"], ascending=[True, False], kind="stable")
    changed, ranges = sensitivity(scores, weights, change, scale)
    return CompositeIndex(normalisation, weighting, scale, weights, scores,
                          contributions.loc[table.index], table, changed,
                          ranges.loc[table.index])


def _checked(values: pd.DataFrame, indicators: Sequence[Indicator]) -> pd.DataFrame:
    """The indicator columns as floats; a ValueError naming what is missing or unusable."""
    keys = [indicator.key for indicator in indicators]
    if not keys:
        raise ValueError("indicators: at least two indicators are needed, none given")
    if len(set(keys)) != len(keys):
        raise ValueError(f"indicators: a key is given twice ({', '.join(keys)})")
    if len(keys) < 2:
        raise ValueError(f"indicators: at least two indicators are needed, got only {keys[0]}")
    absent = [key for key in keys if key not in values.columns]
    if absent:
        raise ValueError(f"indicators: the table has no column {', '.join(absent)}")
    for indicator in indicators:
        if indicator.direction not in ("benefit", "cost"):
            raise ValueError(f"{indicator.key}: direction must be benefit or cost, "
                             f"got {indicator.direction!r}")
    data = values[keys].astype(float)
    if len(data) < 3:
        raise ValueError(f"districts: an index needs at least 3 districts, got {len(data)}")
    missing = [f"{district} {key}" for district, row in data.iterrows()
               for key, value in row.items() if not np.isfinite(value)]
    if missing:
        raise ValueError(f"values: missing or not finite for {', '.join(missing)}")
    constant = [key for key in keys if data[key].max() == data[key].min()]
    if constant:
        raise ValueError(f"{', '.join(constant)}: the same value in every district; such an "
                         "indicator cannot tell districts apart (leave it out)")
    return data


def minmax_scores(data: pd.DataFrame, indicators: Sequence[Indicator]) -> pd.DataFrame:
    """(x - min) / (max - min) for benefit indicators, (max - x) / (max - min) for cost ones."""
    low, high = data.min(), data.max()
    scores = (data - low) / (high - low)
    cost = [i.key for i in indicators if i.direction == "cost"]
    scores[cost] = 1.0 - scores[cost]
    return scores


def normalise(data: pd.DataFrame, indicators: Sequence[Indicator],
              method: Normalisation) -> pd.DataFrame:
    """Each indicator as a score where higher is better, by the declared ``method``."""
    if method == "minmax":
        return minmax_scores(data, indicators)
    if method == "zscore":
        z = (data - data.mean()) / data.std(ddof=1)
        cost = [i.key for i in indicators if i.direction == "cost"]
        z[cost] = -z[cost]
        return z
    return pd.DataFrame({i.key: _target_score(data[i.key], i) for i in indicators})


def _target_score(column: pd.Series, indicator: Indicator) -> pd.Series:
    """Attainment of the target, at most 1: x / target (benefit) or target / x (cost)."""
    benefit = indicator.direction == "benefit"
    target = indicator.target
    if target is None:
        target = column.max() if benefit else column.min()
    if target <= 0 or (column <= 0).any():
        raise ValueError(f"{indicator.key}: the target normalisation needs positive values "
                         "and a positive target; use minmax or zscore")
    ratio = column / target if benefit else target / column
    return ratio.clip(upper=1.0)


def _fixed_weights(indicators: Sequence[Indicator]) -> pd.Series:
    """The declared weights rescaled to sum to 1; equal weights when none is declared."""
    declared = [i.weight for i in indicators]
    if all(w is None for w in declared):
        return pd.Series(1.0 / len(indicators), index=[i.key for i in indicators])
    unset = [i.key for i in indicators if i.weight is None]
    if unset:
        raise ValueError(f"weights: no fixed weight for {', '.join(unset)}; declare one for "
                         "every indicator, or none for equal weights")
    bad = [i.key for i in indicators if not (np.isfinite(i.weight) and i.weight > 0)]
    if bad:
        raise ValueError(f"weights: {', '.join(bad)}: a weight must be a positive number")
    weights = pd.Series([float(w) for w in declared], index=[i.key for i in indicators])
    return weights / weights.sum()


def entropy_weights(scores: pd.DataFrame) -> pd.Series:
    """Entropy weight method on 0-1 benefit scores (districts x indicators)."""
    n = len(scores)
    p = scores / scores.sum()
    terms = p * np.log(p.where(p > 0, 1.0))  # 0 ln 0 = 0
    divergence = 1.0 + terms.sum() / np.log(n)
    if divergence.sum() <= 0:
        raise ValueError("weights: every indicator is spread evenly; entropy gives no weights")
    return divergence / divergence.sum()


def critic_weights(scores: pd.DataFrame) -> pd.Series:
    """CRITIC: contrast (sample SD) times conflict (sum of 1 - Pearson r) on 0-1 scores."""
    spread = scores.std(ddof=1)
    conflict = (1.0 - scores.corr()).sum()
    information = spread * conflict
    if information.sum() <= 0:
        raise ValueError("weights: the indicators agree perfectly; CRITIC gives no weights")
    return information / information.sum()


def _ranks(index: pd.Series) -> pd.Series:
    return pd.Series(_rank_array(index.to_numpy()), index=index.index)


def _rank_array(values: np.ndarray) -> np.ndarray:
    """1 for the highest; ties share the best rank (R's ties.method = "min")."""
    from scipy.stats import rankdata  # scipy.stats: a second of start-up, imported when needed

    return rankdata(-values, method="min").astype(int)


def sensitivity(scores: pd.DataFrame, weights: pd.Series, change: float = SENSITIVITY_CHANGE,
                scale: float = 100.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ranks when each weight in turn is scaled by 1 - ``change`` and 1 + ``change``.

    The other weights are rescaled by (1 - w'_j) / (1 - w_j), so the weights still sum to 1;
    the index is multiplied by ``scale``. Returns the long table and each district's rank range
    (see `CompositeIndex`). Plain numpy: 2 x indicators index computations per call.
    """
    if not 0 < change < 1:
        raise ValueError(f"change must be between 0 and 1, got {change!r}")
    matrix, base_weights = scores.to_numpy(), weights.to_numpy()
    base = _rank_array(matrix @ base_weights)
    best, worst, parts = base.copy(), base.copy(), []
    for j, key in enumerate(weights.index):
        for factor in (1.0 - change, 1.0 + change):
            changed = _changed_weights(base_weights, j, factor, key)
            index = matrix @ changed * scale
            ranks = _rank_array(index)
            best, worst = np.minimum(best, ranks), np.maximum(worst, ranks)
            parts.append(pd.DataFrame({"indicator": key, "change": factor - 1.0,
                                       "weight": changed[j], "district": scores.index,
                                       "index": index, "rank": ranks}))
    ranges = pd.DataFrame({"rank": base, "best": best, "worst": worst}, index=scores.index)
    return pd.concat(parts, ignore_index=True), ranges


def _changed_weights(weights: np.ndarray, j: int, factor: float, key: str) -> np.ndarray:
    new = weights[j] * factor
    if new >= 1.0:
        raise ValueError(f"weights: {key} at {new:.3f} would leave nothing for the others")
    changed = weights * (1.0 - new) / (1.0 - weights[j])
    changed[j] = new
    return changed
