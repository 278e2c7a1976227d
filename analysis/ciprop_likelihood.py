"""Likelihood intervals for proportions, as R's ``svyciprop(method="likelihood")``.

R fits the intercept-only quasibinomial ``svyglm`` and profiles its deviance
(``confint.svyglm(method="likelihood")``), scaled for the design: with lambda = design
variance / model variance of the logit, the interval is where the signed root deviance
ratio (deviance change / dispersion) reaches qt((1 - level)/2, df) sqrt(lambda). The profile
is what R computes, not the exact root: the deviance at up to 9 steps of zmax/5 standard
errors each side (zmax from the F(1, n - 1) quantile), an FMM cubic spline through those
points evaluated at 3 x points, and linear interpolation of its inverse; reproduced step for
step so that the interval agrees with R's to rounding. That includes the fit: the logit, its
model variance and its design variance are those of ``glm.fit``'s IRLS iterations (the model
variance uses the working weights of the last step, before the final update), which differ
from the exact ones by about 1e-9. The point estimate reported is the exact weighted mean
(R reports expit of the IRLS logit; the two agree to about 1e-10).

Model weights are the design weights over their mean in the domain's rows, as ``svyglm`` on
``subset(design, ...)`` of an uncalibrated design (for a calibrated design R averages over
every row, which rescales the deviance; this module always uses the domain's rows). The
degrees of freedom are the domain's (its PSUs minus its strata).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import special, stats

from analysis import estimates
from analysis.variance import Influence, domain_degf

if TYPE_CHECKING:
    from collections.abc import Hashable

    import pandas as pd

    from analysis.design import ColumnSpec, SurveyDesign
    from analysis.results import Estimate


def fmm_spline(x: np.ndarray, y: np.ndarray, n: int | None = None) -> tuple[np.ndarray, ...]:
    """R's ``spline(x, y, n = 3 * length(x), method = "fmm")``: (grid, values).

    Forsythe, Malcolm and Moler's interpolating cubic spline, whose end third derivatives
    match those of the cubics through the four points at each end; x must be increasing.
    """
    m = x.size
    n = 3 * m if n is None else n
    grid = np.linspace(x[0], x[-1], n)
    if m < 3:
        slope = (y[1] - y[0]) / (x[1] - x[0])
        return grid, y[0] + slope * (grid - x[0])
    b, c, d = np.zeros(m), np.zeros(m), np.zeros(m)
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, m - 1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0], b[-1] = -d[0], -d[m - 2]
    c[0] = c[-1] = 0.0
    if m > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[-1] = c[m - 2] / (x[m - 1] - x[m - 3]) - c[m - 3] / (x[m - 2] - x[m - 4])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[-1] = -c[-1] * d[m - 2] * d[m - 2] / (x[m - 1] - x[m - 4])
    for i in range(1, m):
        t = d[i - 1] / b[i - 1]
        b[i] = b[i] - t * d[i - 1]
        c[i] = c[i] - t * c[i - 1]
    c[-1] = c[-1] / b[-1]
    for i in range(m - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[-1] = (y[-1] - y[m - 2]) / d[m - 2] + d[m - 2] * (c[m - 2] + 2.0 * c[-1])
    for i in range(m - 1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[-1] = 3.0 * c[-1]
    d[-1] = d[m - 2]
    i = np.clip(np.searchsorted(x, grid, side="right") - 1, 0, m - 1)
    dx = grid - x[i]
    return grid, y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))


def _deviance(y: np.ndarray, w: np.ndarray, eta: float | np.ndarray) -> float:
    """Binomial deviance of ``y`` (0/1) with prior weights ``w`` at logit ``eta``."""
    mu = special.expit(eta)
    return float(-2.0 * np.sum(w * (special.xlogy(y, mu) + special.xlogy(1 - y, 1 - mu))))


def _mu_eta(eta: np.ndarray) -> np.ndarray:
    """d mu / d eta of the logit link, as R's C code (machine epsilon beyond |eta| = 30)."""
    e = np.exp(eta)
    return np.where(np.abs(eta) > 30, np.finfo(float).eps, e / (1 + e) ** 2)


@dataclass(frozen=True)
class InterceptFit:
    """R's ``glm.fit`` of y ~ 1 (quasibinomial): final coefficient, the working weights of
    the last least-squares step (behind R's model variance and score), and the deviance."""

    coef: float
    working: np.ndarray
    deviance: float


def fit_intercept(y: np.ndarray, w: np.ndarray, epsilon: float = 1e-8,
                  max_iter: int = 25) -> InterceptFit:
    """IRLS exactly as ``glm.fit``: R's starting values, step and stopping rule."""
    mu = (w * y + 0.5) / (w + 1)
    eta = special.logit(mu)
    dev_old = _deviance(y, w, eta)
    good = w > 0
    for _ in range(max_iter):
        d = _mu_eta(eta)
        z = eta + (y - mu) / d
        working = np.where(good, w * d ** 2 / (mu * (1 - mu)), 0.0)
        coef = float(np.sum(working * z) / np.sum(working))
        eta = np.full(y.size, coef)
        mu = special.expit(eta)
        dev = _deviance(y, w, eta)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            break
        dev_old = dev
    return InterceptFit(coef, working, dev)


def profile_interval(y: np.ndarray, w: np.ndarray, fit: InterceptFit, var_coef: float,
                     df: float, level: float) -> tuple[float, float]:
    """R's profile-likelihood interval for a proportion from one domain's non-missing rows.

    ``w``: the model weights; ``var_coef``: the design variance of the fitted logit.
    """
    b0, se = fit.coef, np.sqrt(var_coef)
    lam = var_coef * np.sum(fit.working)
    quantile = stats.norm.ppf((1 - level) / 2) if np.isinf(df) else stats.t.ppf((1 - level) / 2, df)
    alpha = stats.norm.cdf(quantile * np.sqrt(lam)) / 2
    zmax = np.sqrt(stats.f.isf(alpha, 1, y.size - 1))
    mu = special.expit(b0)
    used = w != 0
    pearson = (y[used] - mu) / np.sqrt(mu * (1 - mu))
    centre = np.sum(w[used] * pearson) / np.sum(w[used])
    dispersion = (np.sum(w[used] * (pearson - centre) ** 2) / np.sum(w[used])
                  * used.sum() / (used.sum() - 1))
    betas, zs = [b0], [0.0]
    for sign in (-1, 1):
        step, z = 0, 0.0
        while (step := step + 1) < 10 and abs(z) < zmax:
            beta = b0 + sign * step * (zmax / 5) * se
            z = sign * np.sqrt(max((_deviance(y, w, beta) - fit.deviance) / dispersion, 0.0))
            betas.append(beta)
            zs.append(z)
    order = np.argsort(zs, kind="stable")
    grid, values = fmm_spline(np.asarray(betas)[order], np.asarray(zs)[order])
    by_value = np.argsort(values, kind="stable")
    cut = stats.norm.ppf(2 * alpha)
    ends = np.interp([cut, -cut], values[by_value], grid[by_value], left=np.nan, right=np.nan)
    return float(special.expit(ends[0])), float(special.expit(ends[1]))


def likelihood_proportion(design: SurveyDesign, variable: str, value: Hashable,
                          by: ColumnSpec = None, *, ci: str = "t",
                          level: float = 0.95) -> Estimate | pd.DataFrame:
    """``SurveyDesign.proportion(..., method="likelihood")``: estimates and profile intervals."""
    if not 0 < level < 1:
        raise ValueError(f"level: expected a number between 0 and 1, got {level!r}")
    y = design._indicator(variable, value)
    dom, ndom, index = design._domains(by)
    w = design.weights
    res = estimates.linear_estimates("mean", y, dom, ndom, w, design._variance)
    df = domain_degf(design._stages[0], w, dom, ndom).astype(float)  # R: degf() of the (sub)design
    if ci == "normal":
        df = np.full(ndom, np.inf)
    low, high = res.estimate.copy(), res.estimate.copy()
    for k in range(ndom):
        rows = dom == k
        fit_rows = rows & ~np.isnan(y)
        if not 0 < res.estimate[k] < 1 or not res.variance[k] > 0:
            continue  # a degenerate proportion: the interval is the point, as other methods
        model_w = w[fit_rows] / np.mean(w[rows])
        fit = fit_intercept(y[fit_rows], model_w)
        # R's design variance of the logit: svyrecvar of the glm score times the model variance
        score = np.zeros(len(y))
        mu = special.expit(fit.coef)
        score[fit_rows] = (y[fit_rows] - mu) / _mu_eta(np.array([fit.coef]))[0] * fit.working
        influence = Influence(1)
        influence.add_layer(np.where(fit_rows, 0, 1), score / np.sum(fit.working))
        var_coef = float(design._variance(influence, False)[0])
        low[k], high[k] = profile_interval(y[fit_rows], model_w, fit, var_coef, df[k], level)
    return design._package("proportion", f"{variable}=={value}", res.estimate, res.variance,
                           res.deff, res.n, index, ci, level, None, (low, high),
                           "likelihood" if ci == "t" else "likelihood-normal", df=df)
