"""Key-driver analysis: which dimensions move overall satisfaction, and how well each performs.

The overall-satisfaction score is regressed on the dimension scores by survey-weighted least
squares (statsmodels WLS, i.e. the pseudo-maximum-likelihood fit svyglm makes) with
cluster-robust standard errors by PSU. A dimension's coefficient is its importance; its weighted
mean score is its performance. Together they place it in the importance-performance quadrant.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

__all__ = ["KeyDrivers", "key_drivers"]


@dataclass(frozen=True)
class KeyDrivers:
    """Result of `key_drivers`.

    ``table`` has one row per driver (index = driver column name) and the columns
    ``coefficient`` (points of the outcome per point of the driver: the importance), ``se``,
    ``p_value``, ``ci_low``, ``ci_high``, ``standardized`` (coefficient x weighted SD of the driver /
    weighted SD of the outcome), ``share`` (|standardized| as a share of the sum over drivers) and
    ``performance`` (weighted mean of the driver over respondents who have a score on it).
    ``cov_type`` says how standard errors were computed; ``df`` is the degrees of freedom of the
    t-based p-values and intervals (clusters - 1, or n - parameters without clusters).
    """

    table: pd.DataFrame
    intercept: float
    r_squared: float
    n: int
    n_clusters: int | None
    df: int
    cov_type: str
    level: float


def _weighted_sd(values: np.ndarray, weights: np.ndarray) -> float:
    mean = np.average(values, weights=weights)
    return float(np.sqrt(np.average((values - mean) ** 2, weights=weights)))


def _performance(data: pd.DataFrame, drivers: Sequence[str], weights: np.ndarray) -> pd.Series:
    """Weighted mean of each driver over the respondents who have it (missing is not zero)."""
    result = {}
    for name in drivers:
        values = data[name].to_numpy(dtype=float, na_value=np.nan)
        present = ~np.isnan(values)
        result[name] = np.average(values[present], weights=weights[present]) if present.any() else np.nan
    return pd.Series(result, dtype=float)


def _checked_weights(data: pd.DataFrame, weights: str | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(data))
    if weights not in data.columns:
        raise ValueError(f"weights: no column {weights!r} in the data")
    w = data[weights].to_numpy(dtype=float, na_value=np.nan)
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise ValueError(f"weights: column {weights!r} must be finite and non-negative, not all zero")
    return w


def key_drivers(
    data: pd.DataFrame,
    outcome: str,
    drivers: Sequence[str],
    weights: str | None = None,
    cluster: str | None = None,
    level: float = 0.95,
) -> KeyDrivers:
    """Regress ``outcome`` on ``drivers`` with survey weights and PSU-clustered standard errors.

    ``data`` holds one row per respondent, e.g. the output of `analysis.scoring.score` joined with
    the design columns; typically ``outcome="overall"`` and ``drivers=["dim_product", ...]``.
    ``weights`` names the final (e.g. raked) weight column; ``cluster`` the PSU column (streets).
    Standard errors are statsmodels' cluster-robust sandwich with its small-sample factor
    G/(G-1) x (N-1)/(N-K) and t on G-1 df; without ``cluster`` each respondent is its own
    cluster (HC1). Strata and the finite-population correction are not used, so the errors are
    slightly conservative compared with a full design-based svyglm.

    The regression uses respondents with the outcome and every driver present (listwise);
    ``performance`` uses every respondent with that driver present, so it equals the published
    dimension score.
    """
    drivers = list(drivers)
    missing = [c for c in [outcome, *drivers, *([cluster] if cluster else [])] if c not in data.columns]
    if missing:
        raise ValueError(f"key drivers: no columns {missing} in the data")
    if not drivers:
        raise ValueError("key drivers: give at least one driver column")
    if not 0 < level < 1:
        raise ValueError(f"level must lie between 0 and 1, got {level}")
    w_all = _checked_weights(data, weights)
    model_frame = data[[outcome, *drivers]].astype(float)
    complete = model_frame.notna().all(axis=1).to_numpy() & (w_all > 0)
    y = model_frame[outcome].to_numpy()[complete]
    x = model_frame[drivers].to_numpy()[complete]
    w = w_all[complete]
    n, k = len(y), len(drivers) + 1
    if n <= k:
        raise ValueError(f"key drivers: {n} complete respondents cannot fit {k} parameters")
    if np.ptp(y) == 0:
        raise ValueError(f"key drivers: outcome {outcome!r} does not vary, nothing to explain")
    design = sm.add_constant(x, has_constant="add")
    model = sm.WLS(y, design, weights=w)
    if cluster is None:
        fit = model.fit(cov_type="HC1", use_t=True)
        n_clusters, df = None, n - k
    else:
        groups = pd.factorize(data[cluster].to_numpy()[complete])[0]
        if (groups < 0).any():
            raise ValueError(f"key drivers: cluster column {cluster!r} is missing for "
                             f"{int((groups < 0).sum())} respondents; every row needs its PSU")
        n_clusters = int(groups.max()) + 1
        if n_clusters < 2:
            raise ValueError(f"key drivers: cluster column {cluster!r} has fewer than 2 PSUs")
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
        df = n_clusters - 1
    interval = fit.conf_int(alpha=1 - level)
    sd_y = _weighted_sd(y, w)
    standardized = fit.params[1:] * np.array([_weighted_sd(x[:, j], w) for j in range(k - 1)]) / sd_y
    table = pd.DataFrame({
        "coefficient": fit.params[1:],
        "se": fit.bse[1:],
        "p_value": fit.pvalues[1:],
        "ci_low": interval[1:, 0],
        "ci_high": interval[1:, 1],
        "standardized": standardized,
        "share": np.abs(standardized) / np.abs(standardized).sum(),
    }, index=pd.Index(drivers, name="driver"))
    table["performance"] = _performance(data, drivers, w_all)
    return KeyDrivers(table=table, intercept=float(fit.params[0]), r_squared=float(fit.rsquared),
                      n=n, n_clusters=n_clusters, df=df,
                      cov_type="cluster" if cluster else "HC1", level=level)
