"""Design-based generalised linear models, as R's ``svyglm``: linear and logistic (quasibinomial).

Coefficients are the pseudo-maximum-likelihood fit with the sampling weights as prior weights;
the fit repeats R's ``glm.fit`` (same start, iteratively reweighted least squares, same
convergence rule) so that coefficients agree to the last digits. Their covariance is the
linearisation (sandwich) variance of R's ``svy.varcoef``: the influence values
``x_i r_i W_i (X' W X)^-1`` (working residual r, working weight W) go through the design's
variance, so strata, fpc, several stages, lonely-PSU options and calibration all count. Rows
with a missing outcome or predictor are left out (R's na.omit), and the degrees of freedom are
those of the remaining design minus the parameters: ``degf + 1 - p``, as summary.svyglm's t
tests use.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special

from analysis.variance import Influence, domain_degf

if TYPE_CHECKING:
    from analysis.design import SurveyDesign

FAMILIES = ("gaussian", "quasibinomial")
_EPSILON, _MAX_ITER = 1e-8, 25  # glm.control() defaults


@dataclass(frozen=True)
class GlmFit:
    """A fitted svyglm: ``table`` has one row per term (``(Intercept)`` first) with the columns
    coefficient, se, t, p_value, ci_low, ci_high (t on ``df``) and deff (design variance over
    glm's model-based variance, R's ``deff=TRUE``); ``covariance`` is p x p."""

    table: pd.DataFrame
    covariance: pd.DataFrame
    family: str
    df: int
    n: int
    iterations: int
    level: float


def _columns(design: SurveyDesign, names: Sequence[str], role: str) -> np.ndarray:
    out = []
    for name in names:
        if name not in design.data.columns:
            raise ValueError(f"{role}: column '{name}' is not in the data")
        col = design.data[name]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise ValueError(f"{role}: '{name}' must be numeric")
        out.append(col.to_numpy(dtype=float, na_value=np.nan))
    return np.column_stack(out) if out else np.empty((len(design.data), 0))


def _wls(x: np.ndarray, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    root = np.sqrt(w)
    return np.linalg.lstsq(x * root[:, None], z * root, rcond=None)[0]


def _binomial_deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(y > 0, y * np.log(y / mu), 0.0) + np.where(
            y < 1, (1 - y) * np.log((1 - y) / (1 - mu)), 0.0)
    return float(2 * np.sum(w * terms))


def _fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """R's glm.fit for binomial(logit): (beta, working residuals, working weights, iterations).

    As R, the working weights returned are those of the last iteration's start, and the
    working residuals those of the final fit.
    """
    mu = (w * y + 0.5) / (w + 1)
    eta = special.logit(mu)
    dev_old = _binomial_deviance(y, mu, w)
    for iteration in range(1, _MAX_ITER + 1):
        mu_eta = mu * (1 - mu)
        z = eta + (y - mu) / mu_eta
        working = w * mu_eta
        beta = _wls(x, z, working)
        eta = x @ beta
        mu = special.expit(eta)
        dev = _binomial_deviance(y, mu, w)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < _EPSILON:
            break
        dev_old = dev
    else:
        raise ValueError(f"svyglm: the logistic fit did not converge in {_MAX_ITER} iterations "
                         "(separation? a predictor may predict the outcome perfectly)")
    return beta, (y - mu) / (mu * (1 - mu)), working, iteration


def svyglm(design: SurveyDesign, outcome: str, predictors: Sequence[str], *,
           family: str = "gaussian", level: float = 0.95,
           values: np.ndarray | None = None) -> GlmFit:
    """Fit ``outcome ~ predictors`` on ``design`` as R's ``svyglm(..., family=)``.

    ``family="quasibinomial"`` is logistic regression of a 0/1 (or boolean) outcome.
    ``values``: the outcome per row (NaN = missing) when it is derived rather than a column,
    e.g. the indicator of "satisfied or better"; ``outcome`` then only names it.
    """
    from scipy import stats  # scipy.stats: a second of start-up, imported when needed

    if family not in FAMILIES:
        raise ValueError(f"family: expected one of {', '.join(FAMILIES)}, got {family!r}")
    if not 0 < level < 1:
        raise ValueError(f"level: expected a number between 0 and 1, got {level!r}")
    predictors = list(predictors)
    y = (_columns(design, [outcome], "outcome")[:, 0] if values is None
         else np.asarray(values, dtype=float))
    x = np.column_stack([np.ones(len(y)), _columns(design, predictors, "predictors")])
    weights = np.asarray(design.weights, dtype=float)
    complete = ~np.isnan(y) & ~np.isnan(x).any(axis=1)
    if family == "quasibinomial" and np.any((y[complete] < 0) | (y[complete] > 1)):
        raise ValueError(f"outcome: '{outcome}' must lie between 0 and 1 for quasibinomial")
    p = x.shape[1]
    used = complete & (weights > 0)
    if used.sum() <= p:
        raise ValueError(f"svyglm: {int(used.sum())} complete rows cannot fit {p} parameters")
    xc, yc = x[complete], y[complete]
    wc = weights[complete] / weights.mean()  # R rescales the weights to mean 1
    if np.linalg.matrix_rank(xc[wc > 0]) < p:
        raise ValueError("predictors: they are collinear (or one does not vary); drop one")
    if family == "gaussian":
        beta = _wls(xc, yc, wc)
        resid, working, iterations = yc - xc @ beta, wc, 1
    else:
        beta, resid, working, iterations = _fit_logistic(xc, yc, wc)
    bread = np.linalg.inv((xc * working[:, None]).T @ xc)
    z = np.zeros((len(y), p))
    z[complete] = (xc * (resid * working)[:, None]) @ bread
    influence = Influence(p, support=complete)
    for j in range(p):
        influence.add_layer(np.where(complete, j, p), z[:, j])
    cov = design._variance(influence, True)
    df = int(domain_degf(design._stages[0], weights, np.where(complete, 0, -1), 1)[0]) + 1 - p
    se = np.sqrt(np.diag(cov))
    # R's svyglm(deff=TRUE): against glm's own (model-based) covariance, dispersion estimated
    positive = working > 0
    dispersion = np.sum((working * resid ** 2)[positive]) / (positive.sum() - p)
    deff = np.diag(cov) / (np.diag(bread) * dispersion)
    t = beta / se
    crit = stats.t.ppf(1 - (1 - level) / 2, df)
    terms = pd.Index(["(Intercept)", *predictors], name="term")
    table = pd.DataFrame({"coefficient": beta, "se": se, "t": t,
                          "p_value": 2 * stats.t.sf(np.abs(t), df),
                          "ci_low": beta - crit * se, "ci_high": beta + crit * se,
                          "deff": deff}, index=terms)
    return GlmFit(table, pd.DataFrame(cov, index=terms, columns=terms), family, df,
                  int(used.sum()), iterations, level)
