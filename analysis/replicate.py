"""Replicate-weight designs: jackknife (JK1, JKn) and Rao-Wu bootstrap, as R's ``as.svrepdesign``.

Replicate weights are built from the design's weights *before* weighting and every weighting
step (post-stratification, raking, calibration, trimming) is redone on each replicate, so the
replicate variance reflects the weighting. The replicate weights are held as an R x n array.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special

from analysis import estimates
from analysis.results import Estimate, critical_value, make_table

if TYPE_CHECKING:
    from analysis.design import SurveyDesign

# the last three are built by analysis.replicate_build
REPLICATE_METHODS = ("jk1", "jkn", "bootstrap", "bootstrap_cd", "brr", "fay")


def _jk1(design: SurveyDesign) -> tuple[np.ndarray, float, np.ndarray]:
    stage = design._stages[0]
    if stage.n_strata > 1:
        raise ValueError("replicate: 'jk1' is for unstratified designs; use 'jkn'")
    p = stage.n_units
    if p < 2:
        raise ValueError("replicate: 'jk1' needs at least two PSUs")
    mult = np.full((p, p), p / (p - 1))
    np.fill_diagonal(mult, 0.0)
    f = 0.0 if stage.fraction is None else float(stage.fraction[0])
    return mult, (p - 1) / p * (1 - f), np.ones(p)


def _jkn(design: SurveyDesign) -> tuple[np.ndarray, float, np.ndarray, int]:
    """Delete-one-PSU jackknife within strata, as R's ``jknweights``.

    Returns (multipliers, scale, rscales, degrees of freedom). A stratum sampled completely
    (certainty: fpc equal to its PSU count) gets no replicate. A lonely stratum gets none
    either, except under "adjust" (one replicate dropping it, the other strata scaled by
    strata / (strata - 1), rscale (strata - 1) / strata); under "average" the scale is PSUs /
    replicates. The df is replicates minus the strata that have them (the rank of R's
    replicate weights minus one).
    """
    stage = design._stages[0]
    n_h = np.bincount(stage.unit_stratum, minlength=stage.n_strata)
    f = np.zeros(stage.n_strata) if stage.fraction is None else stage.fraction
    certain = 1 - f < 1e-7
    lonely = (n_h == 1) & ~certain
    if lonely.any() and design.lonely_psu == "fail":
        label = stage.labels[int(np.flatnonzero(lonely)[0])]
        raise ValueError(f"Stratum ({label}) has only one PSU at stage 1; choose another "
                         "lonely_psu option (lonely strata then get no replicate)")
    rows, rscales, strata_used = [], [], 0
    n_strata = stage.n_strata
    for h in np.flatnonzero(~certain):
        members = stage.unit_stratum == h
        if lonely[h]:
            if design.lonely_psu == "adjust":
                rows.append(np.where(members, 0.0, n_strata / (n_strata - 1)))
                rscales.append((n_strata - 1) / n_strata)
                strata_used += 1
            continue
        strata_used += 1
        for unit in np.flatnonzero(members):
            row = np.ones(stage.n_units)
            row[members] = n_h[h] / (n_h[h] - 1)
            row[unit] = 0.0
            rows.append(row)
            rscales.append((n_h[h] - 1) / n_h[h] * (1 - f[h]))
    if not rows:
        raise ValueError("replicate: every stratum was sampled completely (certainty); "
                         "there is no sampling variance to replicate")
    scale = 1.0
    if design.lonely_psu == "average" and len(rows) < stage.n_units:
        scale = stage.n_units / len(rows)
    return np.array(rows), scale, np.array(rscales), len(rows) - strata_used


def _bootstrap(design: SurveyDesign, replicates: int, seed: int | None
               ) -> tuple[DrawnMultipliers, float, np.ndarray]:
    if replicates < 2:
        raise ValueError("replicate: bootstrap needs at least 2 replicates")
    stage = design._stages[0]
    counts, factor = _rao_wu_draws(stage.unit_stratum, stage.n_strata, replicates, seed)
    return DrawnMultipliers(counts, factor), 1.0 / (replicates - 1), np.ones(replicates)


class DrawnMultipliers:
    """PSU multipliers counts * factor (R x PSUs), made one replicate at a time, so that the
    R x PSUs float matrix is never held beside the replicate weights."""

    def __init__(self, counts: np.ndarray, factor: np.ndarray) -> None:
        self.counts, self.factor = counts, factor

    def __len__(self) -> int:
        return self.counts.shape[0]

    def of_rows(self, unit: np.ndarray) -> Iterator[np.ndarray]:
        """Each replicate's multiplier of every row (``unit``: the row's PSU): the counts are
        gathered, small integers, and the factors once."""
        factor = self.factor[unit]
        for counts in self.counts:
            yield counts[unit] * factor


#: Rao-Wu draws of fixed seeds, by (seed, replicates, strata of the PSUs): a process that builds
#: several reports of one wave (a worker) draws them once. The draws are what one seeded stream
#: gives, so the memory changes no figure; a few slots of R x PSUs small integers.
_DRAWS: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
_DRAW_SLOTS = 2
_draws_lock = threading.Lock()


def _rao_wu_draws(unit_stratum: np.ndarray, n_strata: int, replicates: int, seed: int | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """How often each PSU is drawn in each replicate (R x PSUs, n - 1 of a stratum's n PSUs
    drawn with replacement) and each PSU's rescaling n / (n - 1), so that multipliers =
    counts * factor; a stratum of one PSU keeps multiplier 1."""
    if seed is None:
        return _draw(unit_stratum, n_strata, replicates, np.random.default_rng())
    key = (seed, replicates, n_strata, unit_stratum.size,
           hashlib.blake2b(np.ascontiguousarray(unit_stratum, np.int64).tobytes()).digest())
    with _draws_lock:
        if key in _DRAWS:
            _DRAWS.move_to_end(key)
            return _DRAWS[key]
        drawn = _DRAWS[key] = _draw(unit_stratum, n_strata, replicates,
                                    np.random.default_rng(seed))
        while len(_DRAWS) > _DRAW_SLOTS:
            _DRAWS.popitem(last=False)
        return drawn


def _draw(unit_stratum: np.ndarray, n_strata: int, replicates: int, rng: np.random.Generator
          ) -> tuple[np.ndarray, np.ndarray]:
    largest = int(np.bincount(unit_stratum, minlength=n_strata).max(initial=1))
    counts = np.ones((replicates, unit_stratum.size), np.min_scalar_type(largest))  # <= n - 1
    factor = np.ones(unit_stratum.size)
    for h in range(n_strata):
        members = np.flatnonzero(unit_stratum == h)
        k = members.size
        if k < 2:
            continue
        counts[:, members] = rng.multinomial(k - 1, np.full(k, 1.0 / k), size=replicates)
        factor[members] = k / (k - 1)
    counts.flags.writeable = factor.flags.writeable = False
    return counts, factor


def make_replicate_design(design: SurveyDesign, method: str, replicates: int | None,
                          seed: int | None, mse: bool) -> ReplicateDesign:
    """Build the replicate design behind ``SurveyDesign.replicate``."""
    df = None
    if method == "jk1":
        mult, scale, rscales = _jk1(design)
    elif method == "jkn":
        mult, scale, rscales, df = _jkn(design)
    elif method == "bootstrap":
        mult, scale, rscales = _bootstrap(design, 50 if replicates is None else replicates, seed)
    else:
        raise ValueError(f"replicate: method must be one of {', '.join(REPLICATE_METHODS)}, "
                         f"got {method!r}")
    if replicates is not None and method != "bootstrap" and replicates != mult.shape[0]:
        raise ValueError(f"replicate: {method} has one replicate per PSU ({mult.shape[0]}); "
                         "leave replicates unset")
    return ReplicateDesign(design, replicate_weights(design, mult), scale, rscales, mse, method,
                           df)


def replicate_weights(design: SurveyDesign, mult: np.ndarray | DrawnMultipliers) -> np.ndarray:
    """Replicate weights (R x n): base weights times each replicate's PSU multipliers
    (R x PSUs), with the design's weighting steps redone on every replicate."""
    unit = design._stages[0].unit
    repweights = np.empty((len(mult), len(design)))
    rows = mult.of_rows(unit) if isinstance(mult, DrawnMultipliers) else (m[unit] for m in mult)
    for r, row_mult in enumerate(rows):
        w = design._base_weights * row_mult
        for step in design._steps:
            w = step.reapply(w)
        repweights[r] = w
    return repweights


class ReplicateDesign:
    """A design whose variances come from replicate weights; same estimators as ``SurveyDesign``.

    Variance = ``scale * sum_r rscales_r (theta_r - centre)^2``, the centre being the mean of
    the replicates with rscale > 0 (R's ``svrVar``) or, with ``mse=True``, the full-sample
    estimate. ``df``: degrees of freedom when they differ from the design's (JKn).
    """

    def __init__(self, design: SurveyDesign, repweights: np.ndarray, scale: float,
                 rscales: np.ndarray, mse: bool, method: str, df: int | None = None) -> None:
        self._design = design
        self._df = df
        self._repweights = repweights
        self.scale = scale
        self.rscales = rscales
        self.mse = mse
        self.method = method

    @property
    def weights(self) -> np.ndarray:
        """Full-sample weights."""
        return self._design.weights

    @property
    def replicate_weights(self) -> np.ndarray:
        """Replicate weights, one row per replicate (read-only)."""
        w = self._repweights.view()
        w.flags.writeable = False
        return w

    @property
    def df(self) -> int:
        """Degrees of freedom: the builder's (JKn: replicates minus strata), else the design's."""
        return self._design.df if self._df is None else self._df

    def __len__(self) -> int:
        return len(self._design)

    def _replicates(self, kind: str, y: np.ndarray, dom: np.ndarray, ndom: int) -> np.ndarray:
        """The estimate of each domain on each replicate (replicates x domains)."""
        ok = ~np.isnan(y)
        d = np.where(ok & (dom >= 0), dom, ndom)
        y0 = np.where(ok, y, 0.0)
        thetas = np.empty((self._repweights.shape[0], ndom))
        for r, w in enumerate(self._repweights):
            wy = np.bincount(d, w * y0, minlength=ndom + 1)[:ndom]
            if kind == "mean":
                with np.errstate(divide="ignore", invalid="ignore"):
                    wy = wy / np.bincount(d, w, minlength=ndom + 1)[:ndom]
            thetas[r] = wy
        return thetas

    def _spread(self, thetas: np.ndarray, full: np.ndarray, covmat: bool = False) -> np.ndarray:
        """R's ``svrVar``: scale * sum_r rscales_r (theta_r - centre)^2 per domain (D,), or
        the covariance matrix of the domains (D, D) with ``covmat``."""
        centre = full if self.mse else thetas[self.rscales > 0].mean(axis=0)
        dev = thetas - centre
        if covmat:
            return self.scale * (dev * self.rscales[:, None]).T @ dev
        return self.scale * np.sum(self.rscales[:, None] * dev ** 2, axis=0)

    def _estimate(self, kind: str, y: np.ndarray, variable: str, by, ci: str, level: float,
                  method: str | None = None, covmat: bool = False):
        if ci not in ("t", "normal"):
            raise ValueError(f"ci: expected 't' or 'normal', got {ci!r}")
        statistic = kind if method is None else "proportion"
        design = self._design
        dom, ndom, index = design._domains(by)
        est, vsrs, n = estimates.srs_reference(kind, y, dom, ndom, design.weights)
        thetas = self._replicates(kind, y, dom, ndom)
        cov = self._spread(thetas, est, covmat=True) if covmat else None
        var = np.diag(cov).copy() if cov is not None else self._spread(thetas, est)
        se = np.sqrt(var)
        df = float(self.df)
        with np.errstate(divide="ignore", invalid="ignore"):
            deff = var / vsrs
        if method is None:
            crit = critical_value(level, df, ci)
            low, high = est - crit * se, est + crit * se
            interval = ci
        else:
            # rows of the (domain) subset, missing outcomes included, as R's nrow(design)
            n_rows = (np.array([len(y)]) if index is None
                      else np.bincount(dom[dom >= 0], minlength=ndom))
            low, high = estimates.proportion_interval(est, se, df, level, method, ci, n_rows)
            if method == "logit":
                # R's svyciprop fits svyglm(y ~ 1, quasibinomial): the interval uses the
                # replicate variance of the logit itself, not the delta method
                with np.errstate(divide="ignore", invalid="ignore"):
                    half = critical_value(level, df, ci) * np.sqrt(
                        self._spread(special.logit(thetas), special.logit(est)))
                    low = special.expit(special.logit(est) - half)
                    high = special.expit(special.logit(est) + half)
            interval = method if ci == "t" else f"{method}-normal"
        if index is None:
            return Estimate(statistic, variable, float(est[0]), float(se[0]), float(low[0]),
                            float(high[0]), df, float(deff[0]), int(n[0]), level, interval,
                            self.method)
        attrs = {"statistic": statistic, "variable": variable, "level": level,
                 "interval": interval, "method": self.method}
        if cov is not None:
            attrs["covariance"] = pd.DataFrame(cov, index=index, columns=index)
        return make_table(index, {"estimate": est, "se": se, "ci_low": low, "ci_high": high,
                                  "df": np.full(ndom, df), "deff": deff, "n": n}, attrs)

    def mean(self, variable: str, by: str | Sequence[str] | None = None, *, ci: str = "t",
             level: float = 0.95, covmat: bool = False) -> Estimate | pd.DataFrame:
        """Weighted mean with a replicate-weight standard error (overall or per domain).

        ``covmat=True`` adds the replicate covariance of the domain estimates in
        ``table.attrs["covariance"]`` (for ``analysis.contrast``, as R's ``svycontrast``).
        """
        return self._estimate("mean", self._design._values(variable), variable, by, ci, level,
                              covmat=covmat and by is not None)

    def total(self, variable: str, by: str | Sequence[str] | None = None, *, ci: str = "t",
              level: float = 0.95, covmat: bool = False) -> Estimate | pd.DataFrame:
        """Weighted total with a replicate-weight standard error (overall or per domain)."""
        return self._estimate("total", self._design._values(variable), variable, by, ci, level,
                              covmat=covmat and by is not None)

    def proportion(self, variable: str, value: Hashable, by: str | Sequence[str] | None = None,
                   *, method: str = "logit", ci: str = "t",
                   level: float = 0.95) -> Estimate | pd.DataFrame:
        """Proportion with ``variable == value`` and its interval (see ``SurveyDesign.proportion``)."""
        y = self._design._indicator(variable, value)
        return self._estimate("mean", y, f"{variable}=={value}", by, ci, level, method)
