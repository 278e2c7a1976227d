"""Result objects: one estimate (``Estimate``) or a domain table (a pandas DataFrame)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import special

TABLE_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "df", "deff", "n", "n_eff"]


@dataclass(frozen=True)
class Estimate:
    """A design-based estimate with its standard error and confidence interval.

    ``method`` says how the variance was obtained ("linearization", "jk1", "jkn",
    "bootstrap"); ``interval`` how the interval was built ("t", "normal", or a proportion
    method such as "logit"); ``df`` is the design's degrees of freedom.
    """

    statistic: str
    variable: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    df: float
    deff: float
    n: int
    level: float
    interval: str
    method: str

    @property
    def variance(self) -> float:
        """Sampling variance (se squared)."""
        return self.se ** 2

    @property
    def n_eff(self) -> float:
        """Effective sample size n / deff (NaN without a design effect)."""
        return effective_n(np.array([self.n]), np.array([self.deff]))[0]


def effective_n(n: np.ndarray, deff: np.ndarray) -> np.ndarray:
    """n / deff: the simple random sample size that would give the same variance."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(deff) > 0, np.asarray(n) / np.asarray(deff), np.nan)


def critical_value(level: float, df: float | np.ndarray, interval: str) -> np.ndarray:
    """Two-sided critical value: t with ``df`` degrees of freedom, or normal."""
    if not 0 < level < 1:
        raise ValueError(f"level: expected a number between 0 and 1, got {level!r}")
    if np.ndim(df) == 0:
        return _scalar_critical_value(level, float(df), interval)
    return _critical_value(level, df, interval)


@lru_cache(maxsize=256)
def _scalar_critical_value(level: float, df: float, interval: str) -> np.float64:
    """Cached: every table of a design asks for the same value, and scipy's ppf is slow to call."""
    return _critical_value(level, df, interval)


def _critical_value(level: float, df: float | np.ndarray, interval: str) -> np.ndarray:
    """The quantiles scipy.stats' norm.ppf and t.ppf compute (ndtri, stdtrit: the same values,
    NaN for df <= 0 as there), without importing scipy.stats (a second of start-up)."""
    q = 1 - (1 - level) / 2
    if interval == "normal":
        return np.full(np.shape(df), special.ndtri(q)) if np.ndim(df) else special.ndtri(q)
    return special.stdtrit(df, q)


def make_table(index: pd.Index, columns: dict[str, np.ndarray], attrs: dict) -> pd.DataFrame:
    """Build a domain table with the standard columns and the result metadata in ``attrs``.

    ``n_eff`` (n / deff) is derived when not given.
    """
    if "n_eff" not in columns:
        columns = {**columns, "n_eff": effective_n(columns["n"], columns["deff"])}
    table = pd.DataFrame({c: np.asarray(columns[c], dtype=np.int64) if c == "n" else columns[c]
                          for c in TABLE_COLUMNS}, index=index)
    table.attrs.update(attrs)
    return table
