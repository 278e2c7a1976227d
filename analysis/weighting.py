"""Post-stratification, raking, linear calibration and trimming, with R's variance adjustments.

Each function returns the new weights and a *step* object. A step knows how to adjust the
influence values for the variance (``adjust``), exactly as R's ``svyrecvar`` does for the
corresponding ``postStrata`` entry, and how to redo itself on other starting weights
(``reapply``, used for replicate weights). Raking runs on aggregated cells: iterative
proportional fitting over the joint table of the margin variables, mapped back to rows once.
"""
from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

from analysis import codes
from analysis.variance import Basis, Influence


class RakingConvergenceWarning(UserWarning):
    """Raking stopped at ``max_iter`` sweeps before reaching ``epsilon``."""


@dataclass(frozen=True)
class RakeInfo:
    """Raking diagnostics.

    ``iterations``: sweeps over all margins performed; ``max_change``: largest change of a
    cell of the joint weighted table in the last sweep; ``misfit``: largest absolute
    difference between a weighted margin and its target after the last sweep; ``epsilon``:
    the stopping threshold in weight units.
    """

    converged: bool
    iterations: int
    max_change: float
    misfit: float
    epsilon: float
    margins: tuple


@dataclass(frozen=True)
class MarginSpec:
    """One raking margin: its columns, row codes (-1 missing), category labels and targets."""

    columns: tuple[str, ...]
    codes: np.ndarray
    index: pd.Index
    targets: Mapping[Hashable, float]


def _describe(columns: tuple[str, ...]) -> str:
    return columns[0] if len(columns) == 1 else " x ".join(columns)


def check_categories(codes: np.ndarray, index: pd.Index, columns: tuple[str, ...],
                     targets: Mapping[Hashable, float], context: str,
                     weights: np.ndarray | None = None, partial: bool = False) -> np.ndarray:
    """Align population ``targets`` with the sample categories, or raise a clear ValueError.

    Errors: missing values in a weighting variable; a sample category without a target; a
    target category with no respondents (a zero target for an absent category is ignored,
    and so is any absent category with ``partial``, as R's ``postStratify(partial=TRUE)``).
    """
    name = _describe(columns)
    if np.any(codes < 0):
        raise ValueError(f"{context}: '{name}' has missing values; every row needs a category")
    labels = list(index)
    position = {label: k for k, label in enumerate(labels)}
    present = np.bincount(codes, weights, minlength=len(labels)) > 0
    for key, value in targets.items():
        if key not in position or not present[position[key]]:
            if partial or float(value) == 0:
                continue
            raise ValueError(f"{context}: target category {key!r} of '{name}' has no "
                             "respondents (with positive weight) in the sample")
    missing = [label for label in labels if label not in targets]
    if missing:
        raise ValueError(f"{context}: categories {missing!r} of '{name}' occur in the sample "
                         "but have no population target")
    out = np.array([float(targets[label]) for label in labels])
    if np.any(~np.isfinite(out)) or np.any(out < 0):
        raise ValueError(f"{context}: targets of '{name}' must be finite and non-negative")
    return out


def _safe_inverse(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(x > 0, 1.0 / x, 0.0)


# -- post-stratification ------------------------------------------------------------------
@dataclass(frozen=True)
class PostStratStep:
    """R's ``postStratify``: z <- z - w * (sum_c z) / (sum_c w) within each post-stratum."""

    codes: np.ndarray
    size: int
    targets: np.ndarray
    psw: np.ndarray
    oldw: np.ndarray

    @cached_property
    def _parts(self) -> tuple:
        den = np.bincount(self.codes, self.oldw, minlength=self.size)
        return (Basis(self.size, codes=self.codes), self.oldw * _safe_inverse(self.psw),
                np.where(den > 0, den, 1.0), Basis(self.size, codes=self.codes, scale=self.psw))

    def adjust(self, influence: Influence) -> None:
        """Replace influence values by their residuals within post-strata."""
        grouping, factor, den, basis = self._parts
        influence.add_correction(basis, influence.group_sum(grouping, factor) / den[:, None])

    def reapply(self, weights: np.ndarray) -> np.ndarray:
        """Post-stratify other starting weights to the same targets."""
        sample = np.bincount(self.codes, weights, minlength=self.size)
        return weights * (self.targets / np.where(sample > 0, sample, 1.0))[self.codes]


def poststratify(weights: np.ndarray, codes: np.ndarray, index: pd.Index,
                 columns: tuple[str, ...], population: Mapping[Hashable, float],
                 partial: bool = False) -> tuple[PostStratStep, np.ndarray]:
    """Post-stratify ``weights`` so that each category's weighted count equals its target."""
    targets = check_categories(codes, index, columns, population, "poststratify", weights,
                               partial)
    step = PostStratStep(codes, len(index), targets, weights, weights)
    new = step.reapply(weights)
    return PostStratStep(codes, len(index), targets, new, weights), new


# -- raking -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RakeStep:
    """R's ``rake()``: variance residualised 10 times over the margins, in turn.

    Cells are the joint categories of all margin variables; ``cell_margin[m]`` maps cells to
    categories of margin m; ``factors[m]`` is the cell weight factor right after margin m's
    step in the final sweep (so psw_m = w0 * factors[m][cell]).
    """

    cell: np.ndarray
    cell_margin: tuple[np.ndarray, ...]
    sizes: tuple[int, ...]
    targets: tuple[np.ndarray, ...]
    base: np.ndarray
    factors: tuple[np.ndarray, ...]
    epsilon: float
    relative: bool
    max_iter: int

    @cached_property
    def _parts(self) -> tuple:
        """Everything that does not depend on the influence values, computed on cells.

        Margin m's step is r <- r - spread_m @ (average_m @ r): ``average_m`` (K_m x cells)
        averages r / f_m over the rows of each category, ``spread_m`` (cells x K_m) gives
        each cell count * f_m times its category's average. Both are sparse (one entry per
        cell), so a step costs cells x domains whatever the margins.
        """
        n_cells = self.cell_margin[0].size
        cell_count = np.bincount(self.cell, minlength=n_cells).astype(float)
        every_cell = np.arange(n_cells)
        steps = []
        for cm, size, f in zip(self.cell_margin, self.sizes, self.factors):
            rows = np.bincount(cm, cell_count, minlength=size)  # >= 1 for every category in cm
            average = sparse.csr_array((_safe_inverse(f) / rows[cm], (cm, every_cell)),
                                       shape=(size, n_cells))
            spread = sparse.csr_array((cell_count * f, (every_cell, cm)), shape=(n_cells, size))
            steps.append((average, spread))
        return (Basis(n_cells, codes=self.cell), _safe_inverse(self.base), steps,
                cell_count[:, None], Basis(n_cells, codes=self.cell, scale=self.base))

    def adjust(self, influence: Influence) -> None:
        """z <- z - psw_m * ave_m(z / psw_m), 10 times for each margin m (ave unweighted).

        Computed on cells: psw_m = w0 * f_m[cell], so every correction is w0 times a cell
        value, z = z_0 - w0 * C[cell], and the sum of z / psw_m over a margin category is the
        sum over its cells of r / f_m with r = G - count * C, G being the cell sums of z_0 / w0.
        The 10 sweeps update r (a cells x domains matrix, never rows); C = (G - r) / count.
        """
        cells, inv_base, steps, cell_count, basis = self._parts
        g = influence.group_sum(cells, inv_base)
        r = g
        for _ in range(10):
            for average, spread in steps:
                r = r - spread @ (average @ r)
        influence.add_correction(basis, (g - r) / cell_count)

    def reapply(self, weights: np.ndarray) -> np.ndarray:
        """Rake other starting weights to the same margins (no warning, no diagnostics)."""
        cellw = np.bincount(self.cell, weights, minlength=self.cell_margin[0].size)
        eps = self.epsilon * weights.sum() if self.relative else self.epsilon
        g, _, _ = _ipf(cellw, self.cell_margin, self.sizes, self.targets, eps, self.max_iter)
        return weights * g[self.cell]


def _ipf(cellw: np.ndarray, cell_margin: tuple, sizes: tuple, targets: tuple, epsilon: float,
         max_iter: int) -> tuple[np.ndarray, list[np.ndarray], tuple[bool, int, float]]:
    """Iterative proportional fitting on cells, following R's ``rake()`` loop exactly."""
    g = np.ones(cellw.size)
    old = cellw.copy()
    factors: list[np.ndarray] = [g] * len(sizes)
    converged, sweeps, delta = False, 0, np.inf
    while sweeps < max_iter:
        for m, size in enumerate(sizes):
            sample = np.bincount(cell_margin[m], cellw * g, minlength=size)
            g = g * (targets[m] / np.where(sample > 0, sample, 1.0))[cell_margin[m]]
            factors[m] = g
        new = cellw * g
        delta = float(np.max(np.abs(old - new)))
        sweeps += 1
        if delta < epsilon:
            converged = True
            break
        old = new
    return g, factors, (converged, sweeps, delta)


def rake(weights: np.ndarray, margins: list[MarginSpec], *, epsilon: float, max_iter: int,
         total_tolerance: float) -> tuple[RakeStep, np.ndarray, RakeInfo]:
    """Rake ``weights`` to the margins; see ``SurveyDesign.rake`` for the semantics."""
    if not margins:
        raise ValueError("rake: give at least one margin")
    if epsilon <= 0 or max_iter < 1:
        raise ValueError("rake: epsilon must be positive and max_iter at least 1")
    targets = tuple(check_categories(m.codes, m.index, m.columns, m.targets, "rake", weights)
                    for m in margins)
    sums = np.array([t.sum() for t in targets])
    if np.any(np.abs(sums - sums[0]) > total_tolerance * max(abs(sums[0]), 1.0)):
        detail = ", ".join(f"{_describe(m.columns)}: {s:g}" for m, s in zip(margins, sums))
        raise ValueError(f"rake: margin targets do not sum to the same population ({detail})")
    sizes = tuple(len(m.index) for m in margins)
    cell, cell_margin = codes.combine([m.codes for m in margins], list(sizes))
    cell_margin = tuple(cell_margin)
    cellw = np.bincount(cell, weights, minlength=cell_margin[0].size)
    relative = epsilon < 1
    eps = epsilon * weights.sum() if relative else epsilon
    g, factors, (converged, sweeps, delta) = _ipf(cellw, cell_margin, sizes, targets, eps,
                                                  max_iter)
    misfit = max(float(np.max(np.abs(np.bincount(cm, cellw * g, minlength=s) - t)))
                 for cm, s, t in zip(cell_margin, sizes, targets))
    names = tuple(_describe(m.columns) for m in margins)
    info = RakeInfo(converged, sweeps, delta, misfit, eps, names)
    if not converged:
        warnings.warn(f"Raking did not converge after {max_iter} sweeps (largest cell change "
                      f"{delta:.3g}, epsilon {eps:.3g}, margin misfit {misfit:.3g})",
                      RakingConvergenceWarning, stacklevel=3)
    step = RakeStep(cell, cell_margin, sizes, targets, weights, tuple(factors), epsilon,
                    relative, max_iter)
    return step, weights * g[cell], info


# -- linear calibration -------------------------------------------------------------------
@dataclass(frozen=True)
class GregStep:
    """R's linear ``calibrate``: z <- w (z/w - X beta), beta from a w0-weighted regression."""

    x: np.ndarray
    totals: np.ndarray
    base: np.ndarray
    g: np.ndarray

    @cached_property
    def _parts(self) -> tuple:
        p = self.x.shape[1]
        xtx_inv = np.linalg.pinv((self.x * self.base[:, None]).T @ self.x)
        return (Basis(p, matrix=self.x), _safe_inverse(self.g), xtx_inv,
                Basis(p, matrix=self.x, scale=self.g * self.base))

    def adjust(self, influence: Influence) -> None:
        """Replace influence values by GREG residuals times the g-weights."""
        grouping, inv_g, xtx_inv, basis = self._parts
        influence.add_correction(basis, xtx_inv @ influence.group_sum(grouping, inv_g))

    def reapply(self, weights: np.ndarray) -> np.ndarray:
        """Calibrate other starting weights to the same totals."""
        return weights * _greg_g(self.x, weights, self.totals)


def _greg_g(x: np.ndarray, weights: np.ndarray, totals: np.ndarray) -> np.ndarray:
    xtx = (x * weights[:, None]).T @ x
    lam = np.linalg.pinv(xtx) @ (totals - x.T @ weights)
    return 1.0 + x @ lam


def calibrate(weights: np.ndarray, x: np.ndarray, totals: np.ndarray, names: tuple[str, ...]
              ) -> tuple[GregStep, np.ndarray]:
    """Linear calibration: w = w0 (1 + x' lambda) so that sum w x equals ``totals``."""
    g = _greg_g(x, weights, totals)
    achieved = x.T @ (weights * g)
    if not np.allclose(achieved, totals, rtol=1e-7, atol=1e-7 * max(1.0, np.abs(totals).max())):
        bad = [n for n, a, t in zip(names, achieved, totals) if not np.isclose(a, t, rtol=1e-7)]
        raise ValueError(f"calibrate: totals cannot all be met (inconsistent or collinear: {bad})")
    return GregStep(x, totals, weights, g), weights * g


# -- trimming -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TrimStep:
    """R's ``trimWeights``: clip, then share the trimmed amount equally among untrimmed rows."""

    lower: float
    upper: float
    strict: bool

    def adjust(self, influence: Influence) -> None:
        """Trimming leaves the influence values as they are (R keeps earlier adjustments)."""

    def reapply(self, weights: np.ndarray) -> np.ndarray:
        """Trim other weights with the same bounds."""
        return _trim(weights, self.lower, self.upper, self.strict)


def _trim(weights: np.ndarray, lower: float, upper: float, strict: bool) -> np.ndarray:
    w = weights
    for _ in range(1000):
        outside = (w < lower) | (w > upper)
        if not outside.any():
            return w
        if outside.all():
            raise ValueError("trim: every weight is outside [lower, upper]")
        clipped = np.clip(w, lower, upper)
        excess = np.sum(clipped - w)
        clipped[~outside] -= excess / np.count_nonzero(~outside)
        w = clipped
        if not strict:
            return w
    raise ValueError("trim: strict trimming did not settle within 1000 rounds")


def trim(weights: np.ndarray, lower: float, upper: float, strict: bool
         ) -> tuple[TrimStep, np.ndarray]:
    """Trim weights to [lower, upper] (see ``SurveyDesign.trim``)."""
    if lower > upper:
        raise ValueError("trim: lower must not exceed upper")
    step = TrimStep(lower, upper, strict)
    return step, step.reapply(weights)
