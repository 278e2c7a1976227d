"""Calibration with bounds and the linear, raking and logit distances, as R's ``calibrate``.

The g-weights (w = w0 g) solve sum(w0 g x) = totals with g = 1 + F(x' eta); eta is found by
R's ``grake`` Newton iteration, step for step: start at eta = 0, solve with a generalised
inverse (tolerance 256 machine epsilons), halve a step that gives non-finite weights, stop
when every |misfit| / (1 + |total|) is below ``epsilon``, and rescale first when every total
is over 20 times its sample estimate. Bounds apply to g. The variance uses the GREG residuals
with the final g (R stores the same ``greg_calibration`` whatever the distance), so the step
is a ``GregStep`` that redoes this iteration on replicate weights.

One departure from R, where R is wrong: bounded raking's derivative (see
``_inverse_distance``). R's iterates and ours then differ, so its results are matched with a
tight ``epsilon`` (both converged); at R's default 1e-7 they agree to about that.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.weighting import GregStep

CALFUNS = ("linear", "raking", "logit")


@dataclass(frozen=True)
class CalibrationInfo:
    """Diagnostics of a calibration: the distance, bounds, Newton iterations and final misfit."""

    calfun: str
    lower: float
    upper: float
    iterations: int
    misfit: float
    g_min: float
    g_max: float


def _inverse_distance(calfun: str, u: np.ndarray, lower: float, upper: float
                      ) -> tuple[np.ndarray, np.ndarray]:
    """R's ``Fm1`` and ``dF`` of the distance: (g - 1, dg/du) at u = x' eta."""
    with np.errstate(over="ignore", invalid="ignore"):
        if calfun == "linear":
            return (np.minimum(np.maximum(u + 1, lower), upper) - 1,
                    ((u < upper - 1) & (u > lower - 1)).astype(float))
        if calfun == "raking":
            # R's cal.raking zeroes the derivative where u = log g is outside (lower - 1,
            # upper - 1), which is not where g is clipped: Newton then stalls on units with
            # g < exp(lower - 1) that the bounds do not touch. We zero it where g is clipped;
            # converged weights are the same (the solution does not depend on the path).
            e = np.exp(u)
            return (np.minimum(np.maximum(e, lower), upper) - 1,
                    np.where((e < upper) & (e > lower), e, 0.0))
        a = (upper - lower) / ((upper - 1) * (1 - lower))
        e = np.exp(a * u)
        den = upper - 1 + (1 - lower) * e
        num = lower * (upper - 1) + upper * (1 - lower) * e
        return num / den - 1, (upper * (1 - lower) * e * a / den
                               - num * ((1 - lower) * e * a) / den ** 2)


def check_bounds(calfun: str, lower: float, upper: float) -> None:
    """Refuse an unknown distance or bounds that exclude g = 1 (logit needs finite bounds)."""
    if calfun not in CALFUNS:
        raise ValueError(f"calfun: expected one of {', '.join(CALFUNS)}, got {calfun!r}")
    if calfun == "logit" and not (np.isfinite(lower) and np.isfinite(upper)):
        raise ValueError("bounds: logit calibration needs finite bounds, e.g. (0.5, 2)")
    strict = calfun == "logit"  # its distance divides by (upper - 1)(1 - lower)
    if not (lower < 1 < upper if strict else lower <= 1 <= upper):
        raise ValueError(f"bounds: expected lower {'<' if strict else '<='} 1 "
                         f"{'<' if strict else '<='} upper, got ({lower:g}, {upper:g})")


def grake(x: np.ndarray, weights: np.ndarray, totals: np.ndarray, calfun: str, lower: float,
          upper: float, epsilon: float, max_iter: int) -> tuple[np.ndarray, int, float, bool]:
    """R's ``grake``: (g, iterations, largest relative misfit, converged)."""
    sample = x.T @ weights
    ww = weights
    scale = None
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = totals / sample
    if np.min(ratios) > 20:
        scale = float(np.mean(ratios))
        ww, sample = ww * scale, sample * scale
    eta = np.zeros(x.shape[1])
    fm1, deriv = _inverse_distance(calfun, x @ eta, lower, upper)
    iteration = 1
    while True:
        t = (x * (ww * deriv)[:, None]).T @ x
        misfit = totals - sample - x.T @ (ww * fm1)
        step = np.linalg.pinv(t, rcond=256 * np.finfo(float).eps) @ misfit
        eta = eta + step
        fm1, deriv = _inverse_distance(calfun, x @ eta, lower, upper)
        while iteration < max_iter and not (np.all(np.isfinite(fm1))
                                            and np.all(np.isfinite(deriv))):
            iteration += 1
            step = step / 2
            eta = eta - step
            fm1, deriv = _inverse_distance(calfun, x @ eta, lower, upper)
        misfit = totals - sample - x.T @ (ww * fm1)
        relative = float(np.max(np.abs(misfit) / (1 + np.abs(totals))))
        if relative < epsilon:
            converged = True
            break
        iteration += 1
        if iteration > max_iter:
            converged = False
            break
    g = 1 + fm1
    if scale is not None:
        g = g * scale
    return g, iteration, relative, converged


@dataclass(frozen=True)
class CalfunStep(GregStep):
    """A calibration by ``grake``: GREG variance (inherited), ``grake`` again on replicates."""

    calfun: str = "linear"
    lower: float = -np.inf
    upper: float = np.inf
    epsilon: float = 1e-7
    max_iter: int = 50

    def reapply(self, weights: np.ndarray) -> np.ndarray:
        """Calibrate other starting weights with the same distance, bounds and totals."""
        g, *_ = grake(self.x, weights, self.totals, self.calfun, self.lower, self.upper,
                      self.epsilon, self.max_iter)
        return weights * g


def calibrate(weights: np.ndarray, x: np.ndarray, totals: np.ndarray, calfun: str,
              lower: float, upper: float, epsilon: float, max_iter: int
              ) -> tuple[CalfunStep, np.ndarray, CalibrationInfo]:
    """Calibrate ``weights`` to ``totals`` with a distance and bounds, or raise ValueError."""
    check_bounds(calfun, lower, upper)
    if not epsilon > 0 or max_iter < 1:
        raise ValueError("calibrate: epsilon must be positive and max_iter at least 1")
    g, iterations, misfit, converged = grake(x, weights, totals, calfun, lower, upper, epsilon,
                                             max_iter)
    if not converged:
        raise ValueError(f"calibrate: no weights within bounds ({lower:g}, {upper:g}) meet the "
                         f"totals (relative misfit {misfit:.3g} after {iterations} iterations); "
                         "widen the bounds")
    step = CalfunStep(x, totals, weights, g, calfun, lower, upper, epsilon, max_iter)
    info = CalibrationInfo(calfun, lower, upper, iterations, misfit, float(g.min()),
                           float(g.max()))
    return step, weights * g, info
