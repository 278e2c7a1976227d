"""Means, totals and proportions for every domain in one grouped pass.

Missing values policy: a row whose analysis variable is missing is dropped from the numerator
and the denominator of that estimate (R's ``na.rm=TRUE``), but it stays in the design: it is
treated as out of domain (influence value 0), so strata, PSU counts and degrees of freedom are
those of the full sample. Missing values never count as zero.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from analysis.results import critical_value
from analysis.variance import Influence

PROPORTION_METHODS = ("logit", "beta", "wilson", "wald", "asin")


@dataclass(frozen=True)
class DomainStats:
    """Estimates for D domains (plus, optionally, the whole sample as a last column)."""

    estimate: np.ndarray
    variance: np.ndarray
    deff: np.ndarray
    n: np.ndarray
    covariance: np.ndarray | None


def _layer(kind: str, d: np.ndarray, y0: np.ndarray, weights: np.ndarray, wy: np.ndarray,
           zero_rows: np.ndarray, size: int) -> tuple[np.ndarray, ...]:
    """Per-domain estimate, svyvar, weight sum, count, and each row's influence value.

    ``zero_rows`` lists rows with weight 0, which R does not count as observations.
    """
    W = np.bincount(d, weights, minlength=size)
    Y = np.bincount(d, wy, minlength=size)
    n = np.bincount(d, minlength=size).astype(float)
    if zero_rows.size:
        n -= np.bincount(d[zero_rows], minlength=size)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = Y / W
        mean[-1] = 0.0
        resid = mean[d]
        np.subtract(y0, resid, out=resid)
        val = weights * resid
        resid *= val
        ss = np.bincount(d, resid, minlength=size) / W * n / (n - 1)
        if kind == "mean":
            Wd = W.copy()
            Wd[-1] = 1.0
            val /= Wd[d]
            return mean, ss, W, n, val
    return Y, ss, W, n, wy


def _srs_variance(kind: str, svyvar: np.ndarray, count: np.ndarray,
                  wsum: np.ndarray) -> np.ndarray:
    """Variance under simple random sampling without replacement, as R's ``deff=TRUE``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "mean":
            return svyvar / count * np.maximum(0.0, 1 - count / wsum)
        return svyvar * wsum * (wsum - count) / count


def _prepare(kind: str, y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, ...]:
    if kind not in ("mean", "total"):
        raise ValueError(f"kind: expected 'mean' or 'total', got {kind!r}")
    ok = ~np.isnan(y)
    y0 = y if ok.all() else np.where(ok, y, 0.0)
    return ok, y0, weights * y0, np.flatnonzero(weights == 0)


def srs_reference(kind: str, y: np.ndarray, dom: np.ndarray, ndom: int,
                  weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-sample domain estimates, SRS variances (for design effects) and counts."""
    ok, y0, wy, zero_rows = _prepare(kind, y, weights)
    d = np.where(ok & (dom >= 0), dom, ndom)
    e, ss, W, n, _ = _layer(kind, d, y0, weights, wy, zero_rows, ndom + 1)
    return e[:ndom], _srs_variance(kind, ss[:ndom], n[:ndom], W[:ndom]), n[:ndom]


def linear_estimates(kind: str, y: np.ndarray, dom: np.ndarray, ndom: int,
                     weights: np.ndarray,
                     variance: Callable[[Influence, bool], np.ndarray],
                     covmat: bool = False, with_overall: bool = False) -> DomainStats:
    """Estimate the mean or total of ``y`` in each domain ``0..ndom-1`` of ``dom``.

    ``variance(influence, covmat)`` applies the design's weighting adjustments and strata.
    ``with_overall`` appends the whole-sample estimate as column ``ndom`` (so that domain
    versus overall contrasts get their covariance).
    """
    ok, y0, wy, zero_rows = _prepare(kind, y, weights)
    total_cols = ndom + 1 if with_overall else ndom
    # rows outside every domain of a layer go to the extra column ``total_cols``
    layers = [(np.where(ok & (dom >= 0), dom, total_cols), slice(0, ndom))]
    if with_overall:
        layers.append((np.where(ok, ndom, total_cols), slice(ndom, ndom + 1)))
    influence = Influence(total_cols)
    est, svyvar, wsum, count = (np.empty(total_cols) for _ in range(4))
    for d, cols in layers:
        e, ss, W, n, val = _layer(kind, d, y0, weights, wy, zero_rows, total_cols + 1)
        influence.add_layer(d, val)
        est[cols], svyvar[cols], wsum[cols], count[cols] = e[cols], ss[cols], W[cols], n[cols]
    v = variance(influence, covmat)
    var = np.where(count > 0, np.diag(v) if covmat else v, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = var / _srs_variance(kind, svyvar, count, wsum)
    return DomainStats(est, var, deff, count.astype(np.int64), v if covmat else None)


def proportion_interval(p: np.ndarray, se: np.ndarray, df: np.ndarray, level: float,
                        method: str, interval: str, n_rows: np.ndarray) -> tuple:
    """Confidence interval for a proportion (see ``_interval``); [p, p] when the SE is 0."""
    low, high = _interval(p, se, df, level, method, interval, n_rows)
    degenerate = se == 0
    return np.where(degenerate, p, low), np.where(degenerate, p, high)


def _interval(p: np.ndarray, se: np.ndarray, df: np.ndarray, level: float,
              method: str, interval: str, n_rows: np.ndarray) -> tuple:
    """Confidence interval for a proportion, as R's ``svyciprop`` (plus Wilson and Wald).

    logit: Wald interval on the logit scale (R's default); beta: Korn-Graubard with the
    effective sample size, ``n_rows`` being the rows of the (domain) sample; wilson: Wilson
    score interval with the effective sample size p(1-p)/var; wald: p +- c se (R's "mean");
    asin: arcsine square-root scale. ``interval`` picks t(df) or normal critical values.
    """
    if method not in PROPORTION_METHODS:
        raise ValueError(f"method: expected one of {', '.join(PROPORTION_METHODS)}, got {method!r}")
    crit = critical_value(level, df, interval)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "logit":
            half = crit * se / (p * (1 - p))
            lp = special.logit(p)
            return special.expit(lp - half), special.expit(lp + half)
        if method == "wald":
            return p - crit * se, p + crit * se
        if method == "asin":
            half = crit * se / (2 * np.sqrt(p * (1 - p)))
            a = np.arcsin(np.sqrt(p))
            return np.sin(a - half) ** 2, np.sin(a + half) ** 2
        n_eff = p * (1 - p) / se ** 2
        if method == "wilson":
            c2 = crit ** 2
            centre = (p + c2 / (2 * n_eff)) / (1 + c2 / n_eff)
            half = crit * np.sqrt(p * (1 - p) / n_eff + c2 / (4 * n_eff ** 2)) / (1 + c2 / n_eff)
            return centre - half, centre + half
        from scipy import stats  # here: a second of start-up, for the beta interval alone

        alpha = 1 - level
        if interval == "t":
            n_eff = n_eff * (stats.t.ppf(alpha / 2, n_rows - 1) / stats.t.ppf(alpha / 2, df)) ** 2
        lower = stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
        upper = stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
        return lower, upper
