"""Taylor-linearised variance of influence values, computed as R's ``svyrecvar`` does.

Influence values are never materialised as an n x D matrix (D = number of domains). They are
kept as sparse *layers* (each row contributes to at most one column per layer) minus low-rank
*corrections* added by post-stratification, raking and calibration (``basis @ coef``, where the
basis has one column per weighting category or calibration variable). Every quantity the
variance needs is then a grouped sum computed with ``np.bincount`` in one pass over the rows:
PSU x domain totals when there are PSUs; when each row is its own unit, sums of squares and
cross products grouped by (domain, weighting cell) and stratum x domain totals, since n x D
unit totals would be the largest object of the whole computation.
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
    if a is b and a.codes is not None:
        # a grouping crossed with itself is diagonal
        return sparse.dia_array((np.bincount(a.codes, wts, minlength=a.size)[None, :], [0]),
                                shape=(a.size, a.size)).tocsr()
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

    def __init__(self, ndom: int, support: np.ndarray | None = None) -> None:
        self.ndom = ndom
        # rows behind every column of a whole-sample statistic (a regression's complete rows):
        # its columns are not domains, so the lonely "average" rule counts the strata of these
        self.support = support
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

    def gram(self, factor: np.ndarray, covmat: bool) -> np.ndarray:
        """Return ``Z' diag(factor) Z`` (D x D), or only its diagonal (D,) unless ``covmat``.

        Z = sum_p B_p C_p over the parts: each layer is a basis of D + 1 columns (codes = its
        domain, scale = its values) with C selecting the first D; each correction is its basis
        with C = -coef. Expanding the square, every block ``C_p' (B_p' diag(factor) B_q) C_q``
        needs only a (domains or cells) x (domains or cells) cross product of two bases.
        """
        parts: list[tuple[Basis, np.ndarray | None]] = [
            (Basis(self.ndom + 1, codes=dom, scale=val), None) for dom, val in self.layers]
        parts += [(basis, -coef) for basis, coef in self.corrections]
        out = np.zeros((self.ndom, self.ndom) if covmat else self.ndom)
        for p, (basis_p, coef_p) in enumerate(parts):
            for basis_q, coef_q in parts[p:]:
                block = _quadratic(cross(basis_p, basis_q, factor), coef_p, coef_q,
                                   self.ndom, covmat)
                if basis_q is basis_p:
                    out += block
                elif covmat:
                    out += block + block.T
                else:
                    out += 2.0 * block
        return out


def _quadratic(m: np.ndarray | sparse.csr_array, left: np.ndarray | None,
               right: np.ndarray | None, ndom: int, covmat: bool) -> np.ndarray:
    """``L' m R`` (ndom x ndom) or its diagonal; None stands for selecting the first ndom rows.

    The diagonal of a layer-by-correction block is taken entry by entry from m's nonzeros,
    so no domains x domains matrix is built when the covariance is not asked for.
    """
    if not covmat and left is None and right is not None:
        if not sparse.issparse(m):
            return np.einsum("dk,kd->d", m[:ndom], right)
        m = m.tocoo()
        keep = m.row < ndom
        row, col = m.row[keep], m.col[keep]
        return np.bincount(row, m.data[keep] * right[col, row], minlength=ndom)
    x = m[:, :ndom] if right is None else m @ right
    if sparse.issparse(x):
        if left is None and not covmat:
            return x.diagonal()[:ndom]
        x = x.toarray()
    if left is None:
        return x[:ndom] if covmat else np.diagonal(x)[:ndom].copy()
    return left.T @ x if covmat else np.einsum("kd,kd->d", left, x)


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
    def units_are_rows(self) -> bool:
        """Every unit is a single row (no PSU given, or one row per PSU): see ``row_stage_variance``."""
        return self.n_units == self.unit.size

    @cached_property
    def row_strata(self) -> Basis:
        """The stage's strata as a grouping of rows."""
        return Basis(size=self.n_strata, codes=self.unit_stratum[self.unit])

    @cached_property
    def stratum_sums(self) -> sparse.csr_array:
        """Sparse strata x units indicator: ``stratum_sums @ t`` sums unit rows by stratum."""
        return sparse.csr_array((np.ones(self.n_units), (self.unit_stratum, np.arange(self.n_units))),
                                shape=(self.n_strata, self.n_units))


def _stratum_scales(stage: Stage, lonely_psu: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-stratum factors of R's ``onestage``: (scale, n_h, lonely mask).

    A stratum contributes ``scale_h * sum_j (t_hj - tbar_h)^2`` over its units' totals t;
    scale_h = (1 - f_h) n_h / (n_h - 1), times the stage multiplier. Raises for a lonely PSU
    under "fail", and for a lonely unit below stage 1 under "average" (R returns NA there:
    averaging over the other PSUs' second stages is not defined). "average" zeroes lonely
    strata; ``average_factor`` scales the rest.
    """
    n_h = np.bincount(stage.unit_stratum, minlength=stage.n_strata).astype(float)
    f_h = np.ones(stage.n_strata) if stage.fraction is None else 1.0 - stage.fraction
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_h > 1, f_h * n_h / (n_h - 1), f_h)
    certain = f_h < 1e-7
    scale[certain] = 0.0
    lonely = (n_h == 1) & ~certain
    if lonely.any() and (lonely_psu == "fail" or (lonely_psu == "average" and stage.number > 1)):
        label = stage.labels[int(np.flatnonzero(lonely)[0])]
        unit = "PSU" if stage.number == 1 else "unit"
        hint = ("choose lonely_psu='remove', 'certainty', 'adjust' or 'average'"
                if lonely_psu == "fail" else
                "lonely_psu='average' is undefined below the first stage (R gives NA); "
                "choose 'remove', 'certainty' or 'adjust'")
        raise ValueError(f"Stratum ({label}) has only one {unit} at stage {stage.number}; {hint}")
    if stage.multiplier is not None:
        scale = scale * stage.multiplier
    if lonely.any() and lonely_psu == "average":
        scale = np.where(lonely, 0.0, scale)
    return scale, n_h, lonely


def strata_present(influence: Influence, stage: Stage) -> np.ndarray:
    """(strata x D) mask: which strata hold a row of each domain (the layers' columns).

    R estimates a domain on ``subset(design)``, which drops the other rows, so its
    lonely-PSU "average" rule counts only the strata present in the domain.
    """
    d1 = influence.ndom + 1
    row_stratum = stage.unit_stratum[stage.unit]
    if influence.support is not None:
        present = np.bincount(row_stratum[influence.support], minlength=stage.n_strata) > 0
        return np.repeat(present[:, None], influence.ndom, axis=1)
    counts = np.zeros(stage.n_strata * d1)
    for dom, _ in influence.layers:
        counts += np.bincount(row_stratum * d1 + dom, minlength=stage.n_strata * d1)
    return counts.reshape(stage.n_strata, d1)[:, : influence.ndom] > 0


def domain_degf(stage: Stage, weights: np.ndarray, dom: np.ndarray, ndom: int) -> np.ndarray:
    """Degrees of freedom of each domain's subset, as R's ``degf(subset(design, d == k))``.

    PSUs minus strata, both counted among the rows of the domain with nonzero weight.
    """
    rows = (dom >= 0) & (weights != 0)
    # distinct (unit, domain) pairs, then distinct (stratum, domain) pairs: O(n log n), no
    # units x domains table (a row-unit design of 1M rows would make it huge)
    pairs = np.unique(stage.unit[rows] * ndom + dom[rows])
    units, doms = np.divmod(pairs, ndom)
    strata = np.unique(stage.unit_stratum[units] * ndom + doms) % ndom
    return np.bincount(doms, minlength=ndom) - np.bincount(strata, minlength=ndom)


def average_factor(lonely: np.ndarray, lonely_psu: str,
                   present: np.ndarray | None) -> float | np.ndarray:
    """R's "average" scaling: strata / strata without a lonely PSU (1 under other options).

    With ``present`` (strata x D) the counts are per domain, among the strata present in it.
    """
    if lonely_psu != "average" or not lonely.any():
        return 1.0
    if present is None:
        n_ok = lonely.size - int(lonely.sum())
        return lonely.size / n_ok if n_ok else np.nan
    n_all = present.sum(axis=0)
    n_ok = (present & ~lonely[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n_ok > 0, n_all / np.maximum(n_ok, 1), np.nan)


def _scaled(v: np.ndarray, factor: float | np.ndarray, covmat: bool) -> np.ndarray:
    """Apply the "average" factor: per domain on the diagonal, sqrt(f_d f_e) off it."""
    if np.ndim(factor) == 0 or not covmat:
        return v * factor
    root = np.sqrt(factor)
    return v * np.outer(root, root)


def stage_variance(totals: np.ndarray, stage: Stage, lonely_psu: str,
                   covmat: bool, present: np.ndarray | None = None) -> np.ndarray:
    """Between-unit variance of one stage (R's ``onestage``): diagonal (D,) or matrix (D, D).

    ``present``: strata present in each domain, for the "average" rule (see ``strata_present``).
    """
    strata = stage.unit_stratum
    scale, n_h, lonely = _stratum_scales(stage, lonely_psu)
    factor = average_factor(lonely, lonely_psu, present)
    means = (stage.stratum_sums @ totals) / np.maximum(n_h, 1)[:, None]
    centred = totals - means[strata]
    if lonely.any() and lonely_psu == "adjust":
        # survey 4.1.1 leaves a lonely PSU uncentred (centred at zero, which is the
        # grand mean of the influence values for means); this matches its results.
        lonely_units = lonely[strata]
        centred[lonely_units] = totals[lonely_units]
    weighted = centred * np.sqrt(scale[strata])[:, None]
    if covmat:
        return _scaled(weighted.T @ weighted, factor, covmat)
    return np.einsum("ij,ij->j", weighted, weighted) * factor


def row_stage_variance(influence: Influence, stage: Stage, lonely_psu: str,
                       covmat: bool, present: np.ndarray | None = None) -> np.ndarray:
    """``stage_variance`` for a stage whose units are single rows, without unit totals.

    Unit totals would be an n x D table (1M rows x 200 streets: 1.6 GB). With one row per
    unit, sum_{i in h} (z_i - zbar_h)^2 = sum_{i in h} z_i^2 - (sum_{i in h} z_i)^2 / n_h, so

        V = Z' diag(scale_h(i)) Z - T' diag(scale_h / n_h) T,

    T being the strata x D stratum sums. The first term is ``Influence.gram``, grouped sums
    over (domain, weighting cell) pairs; the whole costs O(n + cells x domains), plus
    domains^2 for a covariance matrix. A lonely row is its stratum's mean, so it contributes
    nothing (dropped exactly rather than as a difference of equal terms), except under
    "adjust", which leaves it uncentred.

    Precision: a variance is now a difference of sums of squares, so its absolute error is
    about 1e-16 times sum z^2 instead of 1e-16 times V. That is invisible unless the weighting
    removes nearly all of the variance: the SE of a total the weights are calibrated to (zero
    in theory) comes out near 1e-8 of the unadjusted SE rather than 1e-16.
    """
    scale, n_h, lonely = _stratum_scales(stage, lonely_psu)
    factor = average_factor(lonely, lonely_psu, present)
    centre = scale / np.maximum(n_h, 1)
    if lonely.any():
        centre[lonely] = 0.0
        if lonely_psu != "adjust":
            scale = np.where(lonely, 0.0, scale)
    t = influence.group_sum(stage.row_strata)
    v = influence.gram(scale[stage.row_strata.codes], covmat)
    # the difference of two sums can round below zero where the variance is ~0
    if covmat:
        v = v - (t * centre[:, None]).T @ t
        np.fill_diagonal(v, np.maximum(np.diagonal(v), 0.0))
    else:
        v = np.maximum(v - np.einsum("hd,hd,h->d", t, t, centre), 0.0)
    return _scaled(v, factor, covmat)


def design_variance(influence: Influence, stages: tuple[Stage, ...], lonely_psu: str,
                    covmat: bool = False, domain_strata: bool = False) -> np.ndarray:
    """Variance of the D estimates summed over stages (ultimate cluster when one stage given).

    ``domain_strata``: the "average" lonely-PSU rule counts, per domain, only the strata
    holding rows of it (R's ``svyby`` on an uncalibrated design, whose subsets drop rows);
    otherwise all strata (a calibrated design's subset keeps every row).
    """
    total = None
    for stage in stages:
        present = (strata_present(influence, stage)
                   if domain_strata and lonely_psu == "average" and stage.number == 1 else None)
        if stage.units_are_rows:
            v = row_stage_variance(influence, stage, lonely_psu, covmat, present)
        else:
            v = stage_variance(influence.group_sum(stage.grouping), stage, lonely_psu, covmat,
                               present)
        total = v if total is None else total + v
    return total
