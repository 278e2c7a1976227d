"""Quantiles with Woodruff intervals, as R's ``svyquantile`` (survey >= 4.1 defaults).

R's defaults are reproduced: ``qrule="math"`` (the inverse of the weighted empirical CDF: the
smallest value whose cumulative weight share reaches p, the next value when it only equals
it) and ``interval.type="mean"`` (Woodruff): the proportion of the domain at or below the
estimate gets a Wald interval p +- t(df) SE on the design, and its ends are mapped back through
the same rule. The SE is the interval's width over 2 t(df). The degrees of freedom are those
of the domain's subset (its PSUs minus its strata), as ``svyby(..., svyquantile)`` uses.

Cumulative weights are summed in extended precision, as R's ``cumsum`` and ``sum`` do, so that
a p landing exactly on a cumulative share picks the same value as R.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analysis import estimates
from analysis.results import critical_value
from analysis.variance import domain_degf

if TYPE_CHECKING:
    import pandas as pd

    from analysis.design import ColumnSpec, SurveyDesign
    from analysis.results import Estimate


def qrule_math(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """R's ``qrule_math``: x sorted by value, the first whose cumulative share reaches p."""
    keep = w != 0
    x, w = x[keep], w[keep]
    if x.size == 0 or not 0 <= p <= 1:
        return np.nan
    order = np.argsort(x, kind="stable")
    xs = x[order]
    cumw = np.cumsum(w[order].astype(np.longdouble)).astype(float)
    total = cumw[-1]
    below = np.flatnonzero(cumw <= p * total)
    # R's last(): the first position when no cumulative share is below p
    pos = below[-1] if below.size else 0
    if p - cumw[pos] / total == 0:
        return float(xs[pos])
    return float(xs[min(pos + 1, xs.size - 1)])


def quantile(design: SurveyDesign, variable: str, p: float, by: ColumnSpec = None, *,
             ci: str = "t", level: float = 0.95) -> Estimate | pd.DataFrame:
    """The p-quantile of ``variable`` with its Woodruff interval; see ``SurveyDesign.quantile``."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"p: expected a probability between 0 and 1, got {p!r}")
    x = design._values(variable)
    dom, ndom, index = design._domains(by)
    w = design.weights
    ok = ~np.isnan(x)
    rows = ok & (w != 0)
    df = domain_degf(design._stages[0], np.where(rows, w, 0.0), dom, ndom).astype(float)
    if ci == "normal":
        df = np.full(ndom, np.inf)
    qhat = np.array([qrule_math(x[ok & (dom == k)], w[ok & (dom == k)], p) for k in range(ndom)])
    # the proportion of each domain at or below its own quantile: one indicator per domain
    below = np.where(ok, x <= np.append(qhat, np.nan)[np.where(dom >= 0, dom, ndom)], np.nan)
    res = estimates.linear_estimates("mean", below.astype(float), dom, ndom, w,
                                     design._variance)
    crit = critical_value(level, df, "t")
    se_p = np.sqrt(res.variance)
    low, high = np.full(ndom, np.nan), np.full(ndom, np.nan)
    for k in range(ndom):
        inside = ok & (dom == k)
        p_low, p_high = res.estimate[k] - crit[k] * se_p[k], res.estimate[k] + crit[k] * se_p[k]
        if p_low >= 0:
            low[k] = qrule_math(x[inside], w[inside], p_low)
        if p_high <= 1:
            high[k] = qrule_math(x[inside], w[inside], p_high)
    se = (high - low) / (2 * crit)
    n = np.bincount(dom[rows & (dom >= 0)], minlength=ndom)
    return design._package("quantile", f"{variable}@{p:g}", qhat, se ** 2,
                           np.full(ndom, np.nan), n, index, ci, level, None, (low, high),
                           "woodruff" if ci == "t" else "woodruff-normal", df=df)
