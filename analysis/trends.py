"""Changes between waves and contrasts between domains, with standard errors and tests.

Waves are independent samples unless a covariance is given: SE = sqrt(SE1^2 + SE2^2 - 2 cov).
The test is two-sided, on t with Satterthwaite degrees of freedom combining the two designs'
df (or on the normal with ``ci="normal"``). Domains compared within one wave share the sample,
so their contrasts use the covariance of the domain estimates (R's ``svyby(covmat=TRUE)``).
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.results import Estimate, critical_value

if TYPE_CHECKING:
    from analysis.design import SurveyDesign

CHANGE_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "df", "t", "p_value", "significant"]


@dataclass(frozen=True)
class Change:
    """A difference (or contrast) with its SE, interval, two-sided p-value and verdict."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    df: float
    t: float
    p_value: float
    significant: bool
    level: float
    interval: str
    method: str

    @property
    def verdict(self) -> str:
        """"significant" or "not significant" at ``1 - level``."""
        return "significant" if self.significant else "not significant"


def _test(diff: np.ndarray, se: np.ndarray, df: np.ndarray, level: float, ci: str
          ) -> tuple[np.ndarray, ...]:
    from scipy import stats  # scipy.stats: a second of start-up, imported when needed

    if ci not in ("t", "normal"):
        raise ValueError(f"ci: expected 't' or 'normal', got {ci!r}")
    df = np.where(ci == "normal", np.inf, df)
    crit = critical_value(level, df, "t")
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / se
    p = 2 * stats.t.sf(np.abs(t), df)
    return diff - crit * se, diff + crit * se, df, t, p, p < 1 - level


def _satterthwaite(v1: np.ndarray, df1: np.ndarray, v2: np.ndarray, df2: np.ndarray
                   ) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (v1 + v2) ** 2 / (v1 ** 2 / df1 + v2 ** 2 / df2)
    return np.where(np.isfinite(df), df, np.minimum(df1, df2))


def difference(current: Estimate | pd.DataFrame, previous: Estimate | pd.DataFrame, *,
               level: float = 0.95, ci: str = "t",
               covariance: float = 0.0) -> Change | pd.DataFrame:
    """Change ``current - previous`` between two waves (one estimate, or two domain tables).

    Independent samples by default; pass ``covariance`` for a declared dependence (scalar
    estimates only). Domain tables are aligned on their index; domains present in only one
    wave are left out. Returns a ``Change`` or a DataFrame with columns estimate, se, ci_low,
    ci_high, df, t, p_value, significant, current, previous.
    """
    if isinstance(current, Estimate) and isinstance(previous, Estimate):
        diff = current.estimate - previous.estimate
        var = current.se ** 2 + previous.se ** 2 - 2 * covariance
        df = _satterthwaite(np.float64(current.se ** 2), np.float64(current.df),
                            np.float64(previous.se ** 2), np.float64(previous.df))
        low, high, df, t, p, sig = _test(np.float64(diff), np.sqrt(var), df, level, ci)
        return Change(float(diff), float(np.sqrt(var)), float(low), float(high), float(df),
                      float(t), float(p), bool(sig), level, ci,
                      "independent" if covariance == 0 else "dependent")
    if isinstance(current, pd.DataFrame) and isinstance(previous, pd.DataFrame):
        if covariance:
            raise ValueError("covariance: only for two single estimates")
        common = current.index.intersection(previous.index, sort=False)
        a, b = current.loc[common], previous.loc[common]
        va, vb = a["se"].to_numpy() ** 2, b["se"].to_numpy() ** 2
        diff = a["estimate"].to_numpy() - b["estimate"].to_numpy()
        df = _satterthwaite(va, a["df"].to_numpy(float), vb, b["df"].to_numpy(float))
        se = np.sqrt(va + vb)
        low, high, df, t, p, sig = _test(diff, se, df, level, ci)
        table = pd.DataFrame({"estimate": diff, "se": se, "ci_low": low, "ci_high": high,
                              "df": df, "t": t, "p_value": p, "significant": sig,
                              "current": a["estimate"].to_numpy(),
                              "previous": b["estimate"].to_numpy()}, index=common)
        table.attrs.update({"level": level, "interval": ci, "method": "independent"})
        return table
    raise TypeError("difference: give two Estimates or two domain tables (DataFrames)")


def contrast(table: pd.DataFrame, coefficients: Mapping[Hashable, float], *,
             level: float = 0.95, ci: str = "t") -> Change:
    """Linear contrast of domains of one wave, e.g. ``{"E": 1, "M": -1}`` for E minus M.

    ``table`` must come from ``mean(..., by=..., covmat=True)`` (or ``total``), whose
    covariance accounts for the domains sharing the sample.
    """
    cov = table.attrs.get("covariance")
    if cov is None:
        raise ValueError("contrast: the table has no covariance; estimate it with covmat=True")
    missing = [k for k in coefficients if k not in table.index]
    if missing:
        raise ValueError(f"contrast: domains {missing!r} are not in the table")
    c = pd.Series(0.0, index=table.index)
    for key, value in coefficients.items():
        c[key] = value
    est = float(c.to_numpy() @ table["estimate"].to_numpy())
    se = float(np.sqrt(c.to_numpy() @ cov.to_numpy() @ c.to_numpy()))
    df = float(table["df"].iloc[0])
    low, high, df, t, p, sig = _test(np.float64(est), np.float64(se), np.float64(df), level, ci)
    return Change(est, se, float(low), float(high), float(df), float(t), float(p), bool(sig),
                  level, ci, "covariance")


def versus_overall(design: SurveyDesign, variable: str, by: str | Sequence[str], *,
                   statistic: str = "mean", level: float = 0.95, ci: str = "t") -> pd.DataFrame:
    """Each domain minus the whole-sample figure (e.g. district vs city), same-sample SEs.

    Returns a DataFrame indexed by domain with columns estimate (the difference), se, ci_low,
    ci_high, df, t, p_value, significant, domain and overall.
    """
    index, est, c = design.domain_estimates(variable, by, statistic)
    overall, dom = est[-1], est[:-1]
    var = np.diag(c)[:-1] + c[-1, -1] - 2 * c[:-1, -1]
    se = np.sqrt(np.maximum(var, 0.0))
    diff = dom - overall
    low, high, df, t, p, sig = _test(diff, se, np.full(diff.shape, float(design.df)), level, ci)
    table = pd.DataFrame({"estimate": diff, "se": se, "ci_low": low, "ci_high": high, "df": df,
                          "t": t, "p_value": p, "significant": sig, "domain": dom,
                          "overall": overall}, index=index)
    table.attrs.update({"level": level, "interval": ci, "method": "covariance",
                        "statistic": statistic, "variable": variable})
    return table
