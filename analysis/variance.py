"""Taylor-linearised variance of influence values, computed as R's ``svyrecvar`` does.

Influence values are never materialised as an n x D matrix (D = number of domains). They are
kept as sparse *layers* (each row contributes to at most one column per layer) minus low-rank
*corrections* added by post-stratification, raking and calibration (``basis @ coef``, where the
basis has one column per weighting category or calibration variable). Every quantity the
variance needs is then a grouped sum computed with ``np.bincount`` in one pass over the rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse

from analysis.codes import dense_codes

LONELY_PSU_OPTIONS = ("fail", "remove", "certainty", "adjust", "average")


@dataclass(frozen=True)
class Basis:
    """Row-level basis: ``scale_i * onehot(codes_i)`` (``size`` columns) or ``scale_i * matrix_i``.

    Used both as the columns of a correction and as a grouping (scale None means 1).
    """

    size: int
    codes: np.ndarray | None = None
    matrix: np.ndarray | None = None
    scale: np.ndarray | None = None
    cache: dict = field(default_factory=dict, compare=False, repr=False)


def _row_factor(*arrays: np.ndarray | None) -> np.ndarray | None:
    out = None
    for a in arrays:
        if a is not None:
            out = a if out is None else out * a
    return out


def cross(a: Basis, b: Basis, factor: np.ndarray | None = None) -> np.ndarray | sparse.csr_array:
    """Return ``A^T diag(factor) B`` (a.size x b.size) for two row-level bases.

    Two groupings give a sparse matrix (a PSU meets few weighting cells): multiplying it
    needs no BLAS call. Without a factor the result only depends on the two bases, so it is
    cached on ``a``.
    """
    if factor is None:
        hit = a.cache.get(id(b))
        if hit is None:
            hit = a.cache[id(b)] = (b, _cross(a, b, None))
        return hit[1]
    return _cross(a, b, factor)


def _cross(a: Basis, b: Basis, factor: np.ndarray | None) -> np.ndarray | sparse.csr_array:
    wts = _row_factor(factor, a.scale, b.scale)
    if a.codes is not None and b.codes is not None:
        pair, pairs = dense_codes(a.codes * b.size + b.codes, a.size * b.size)
        rows, cols = np.divmod(pairs, b.size)
        values = np.bincount(pair, wts, minlength=pairs.size)
        return sparse.csr_array((values, (rows, cols)), shape=(a.size, b.size))
    if a.codes is not None:
        cols = [np.bincount(a.codes, _row_factor(wts, b.matrix[:, j]), minlength=a.size)
                for j in range(b.size)]
        return np.column_stack(cols) if cols else np.zeros((a.size, 0))
    if b.codes is not None:
        return _cross(b, a, factor).T
    left = a.matrix if wts is None else a.matrix * wts[:, None]
    return left.T @ b.matrix


class Influence:
    """Influence values of D estimates: sum of sparse layers minus ``sum_k basis_k @ coef_k``."""

    def __init__(self, ndom: int) -> None:
        self.ndom = ndom
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        self.corrections: list[tuple[Basis, np.ndarray]] = []

    def add_layer(self, dom: np.ndarray, val: np.ndarray) -> None:
        """Add a layer: row i contributes ``val[i]`` to column ``dom[i]`` (``ndom``: nothing)."""
        self.layers.append((dom, val))

    def add_correction(self, basis: Basis, coef: np.ndarray) -> None:
        """Subtract ``basis @ coef`` from the influence values."""
        self.corrections.append((basis, coef))

    def group_sum(self, grouping: Basis, factor: np.ndarray | None = None) -> np.ndarray:
        """Return ``G^T diag(factor) Z`` (grouping.size x D)."""
        d1 = self.ndom + 1
        if grouping.codes is not None:
            out = np.zeros((grouping.size, self.ndom))
            for dom, val in self.layers:
                wts = _row_factor(factor, grouping.scale, val)
                idx = grouping.codes * d1 + dom
                out += np.bincount(idx, wts, minlength=grouping.size * d1).reshape(
                    grouping.size, d1)[:, : self.ndom]
        else:
            out = np.zeros((grouping.size, self.ndom))
            for dom, val in self.layers:
                wts = _row_factor(factor, grouping.scale, val)
                for j in range(grouping.size):
                    out[j] += np.bincount(dom, wts * grouping.matrix[:, j], minlength=d1)[: self.ndom]
        for basis, coef in self.corrections:
            out -= cross(grouping, basis, factor) @ coef
        return out


@dataclass(frozen=True)
class Stage:
    """One sampling stage: which unit each row belongs to and how units form strata.

    ``unit`` (n,) unit code of each row; ``unit_stratum`` (units,) the stratum (at this stage)
    of each unit; ``fraction`` (strata,) sampling fraction n/N, or None without fpc;
    ``multiplier`` (strata,) factor applied to each stratum's contribution (stage 2: n1/N1 of
    the PSU); ``labels`` names strata in error messages.
    """

    unit: np.ndarray
    n_units: int
    unit_stratum: np.ndarray
    n_strata: int
    fraction: np.ndarray | None
    multiplier: np.ndarray | None
    labels: tuple
    number: int

    @cached_property
    def grouping(self) -> Basis:
        """The stage's units as a grouping of rows."""
        return Basis(size=self.n_units, codes=self.unit)

    @cached_property
    def stratum_sums(self) -> sparse.csr_array:
        """Sparse strata x units indicator: ``stratum_sums @ t`` sums unit rows by stratum."""
        return sparse.csr_array((np.ones(self.n_units), (self.unit_stratum, np.arange(self.n_units))),
                                shape=(self.n_strata, self.n_units))


def stage_variance(totals: np.ndarray, stage: Stage, lonely_psu: str,
                   covmat: bool) -> np.ndarray:
    """Between-unit variance of one stage (R's ``onestage``): diagonal (D,) or matrix (D, D)."""
    strata = stage.unit_stratum
    n_h = np.bincount(strata, minlength=stage.n_strata).astype(float)
    f_h = np.ones(stage.n_strata) if stage.fraction is None else 1.0 - stage.fraction
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_h > 1, f_h * n_h / (n_h - 1), f_h)
    certain = f_h < 1e-7
    scale[certain] = 0.0
    lonely = (n_h == 1) & ~certain
    if lonely.any() and lonely_psu == "fail":
        label = stage.labels[int(np.flatnonzero(lonely)[0])]
        raise ValueError(f"Stratum ({label}) has only one PSU at stage {stage.number}; "
                         "choose lonely_psu='remove', 'certainty', 'adjust' or 'average'")
    if stage.multiplier is not None:
        scale = scale * stage.multiplier
    means = (stage.stratum_sums @ totals) / np.maximum(n_h, 1)[:, None]
    centred = totals - means[strata]
    n_ok = stage.n_strata
    if lonely.any():
        lonely_units = lonely[strata]
        if lonely_psu == "adjust":
            # survey 4.1.1 leaves a lonely PSU uncentred (centred at zero, which is the
            # grand mean of the influence values for means); this matches its results.
            centred[lonely_units] = totals[lonely_units]
        elif lonely_psu == "average":
            scale = np.where(lonely, 0.0, scale)
            n_ok = stage.n_strata - int(lonely.sum())
    weighted = centred * np.sqrt(scale[strata])[:, None]
    factor = stage.n_strata / n_ok if n_ok else np.nan
    if covmat:
        return (weighted.T @ weighted) * factor
    return np.einsum("ij,ij->j", weighted, weighted) * factor


def design_variance(influence: Influence, stages: tuple[Stage, ...], lonely_psu: str,
                    covmat: bool = False) -> np.ndarray:
    """Variance of the D estimates summed over stages (ultimate cluster when one stage given)."""
    total = None
    for stage in stages:
        unit_totals = influence.group_sum(stage.grouping)
        v = stage_variance(unit_totals, stage, lonely_psu, covmat)
        total = v if total is None else total + v
    return total
