"""PLS path modelling (Wold / Lohmöller), as R's ``plspm``, with survey weights.

The model: blocks of items, each measuring one latent variable (reflective, mode A), and a
recursive inner model (``paths``: each endogenous latent variable -> its predecessors). The
estimates are those of ``plspm(Data, path_matrix, blocks, modes = "A", scheme = ...)``
(scaled items, default scheme "centroid", tol 1e-6 on the squared change of the outer
weights, at most 100 iterations), including its stopping rule, so they agree to rounding.

Why it works on a correlation matrix. With standardised items every step of the algorithm
(outer estimates, the centroid/factorial/path inner weights, the mode A update, loadings,
path coefficients) is a function of the items' correlation matrix. Case weights therefore
enter through one place, the weighted correlation matrix (population divisor, as plspm's
standardisation): integer weights give exactly plspm's fit of the data with each row
repeated that many times. Missing answers use pairwise-complete weighted correlations (as
``cor(use = "pairwise")``) and available-case means; with complete data that is plspm.

Scores. ``scores`` are plspm's standardised latent scores (rows with a missing item: NaN).
``rescaled`` are ACSI's 0-100 scores: outer weights unstandardised (divided by the item's
standard deviation), normalised to sum to one in each block, applied to the items on their
own scale, and mapped from the block's lowest to highest possible value onto 0-100 (a row
missing an item uses the weights of its answered items, renormalised). One difference from
plspm: when a block's sign is flipped (its items correlate negatively with the first
estimate), plspm flips the scores but reports the unflipped outer weights; here both flip.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SCHEMES", "ItemMatrix", "PLSArrays", "PLSFit", "PLSModel", "pls_path_model",
           "weighted_correlations"]

SCHEMES = ("centroid", "factorial", "path")


@dataclass(frozen=True)
class PLSFit:
    """Result of `pls_path_model` (names as plspm's).

    ``outer``: one row per item (index), columns ``block``, ``weight`` (standardised outer
    weight), ``loading``, ``communality``, ``acsi_weight`` (unstandardised, summing to one in
    the block). ``path_coefs``: latent x latent, row = dependent, column = predecessor.
    ``total_effects``: same layout, direct plus indirect. ``r_squared`` per latent variable
    (0 for exogenous). ``scores`` standardised, ``rescaled`` 0-100, one row per input row.
    ``means``: weighted mean of ``rescaled`` per latent variable (ACSI's index values).
    ``scale_factor``: per latent variable, the slope of rescaled on standardised scores
    (turns standardised effects into points per point).
    """

    outer: pd.DataFrame
    path_coefs: pd.DataFrame
    total_effects: pd.DataFrame
    r_squared: pd.Series
    scores: pd.DataFrame
    rescaled: pd.DataFrame
    means: pd.Series
    scale_factor: pd.Series
    iterations: int
    scheme: str

    def impacts(self, target: str) -> pd.DataFrame:
        """Each latent variable's total effect on ``target``: ``standardized`` and ``points``
        (0-100 points of ``target`` per point of the driver, ACSI's impact), with the driver's
        ``performance`` (its mean 0-100 score). Only latent variables with a path to ``target``."""
        total = self.total_effects.loc[target]
        drivers = [k for k in total.index if k != target and total[k] != 0]
        standardized = total[drivers].astype(float)
        points = standardized * self.scale_factor[target] / self.scale_factor[drivers]
        return pd.DataFrame({"standardized": standardized, "points": points,
                             "performance": self.means[drivers]})


@dataclass(frozen=True)
class ItemMatrix:
    """The items (rows x items, NaN = missing) with what every fit derives from them alone,
    prepared once for the hundreds of refits on replicate weights."""

    x: np.ndarray
    present: np.ndarray  # 1.0 where answered: float, so the products with it go to BLAS
    answered: np.ndarray  # present > 0
    filled: np.ndarray  # x, 0 where missing
    complete: bool  # no item missing anywhere

    @classmethod
    def of(cls, x: np.ndarray | ItemMatrix) -> ItemMatrix:
        """``x`` prepared (an ItemMatrix is returned as it is)."""
        if isinstance(x, ItemMatrix):
            return x
        present = (~np.isnan(x)).astype(float)
        answered = present > 0
        return cls(x, present, answered, np.where(answered, x, 0.0), bool(answered.all()))


def weighted_correlations(x: np.ndarray | ItemMatrix, w: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted pairwise-complete correlations of the columns of ``x`` (NaN = missing), and
    each column's available-case weighted mean and standard deviation (population divisor)."""
    items = ItemMatrix.of(x)
    x, present = items.x, items.present
    wm = present * w[:, None]
    sw = wm.sum(axis=0)
    if np.any(sw <= 0):
        raise ValueError("pls: an item has no answer with a positive weight")
    mean = items.filled.T @ w / sw
    xc = np.where(items.answered, x - mean, 0.0)
    sd = np.sqrt((xc ** 2).T @ w / sw)
    if np.any(sd <= 0):
        raise ValueError("pls: an item has the same answer everywhere (no variance)")
    if items.complete:
        xs = xc / sd
        return (xs * w[:, None]).T @ xs / w.sum(), mean, sd
    both = wm.T @ present  # sum of weights where both items are answered
    xw = xc * w[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = xw.T @ present / both  # mean of j where both are answered
        s2 = (xc * xw).T @ present / both
        cross = xw.T @ xc / both - s1 * s1.T
        corr = cross / np.sqrt((s2 - s1 ** 2) * (s2 - s1 ** 2).T)
    if not np.all(np.isfinite(corr)):
        raise ValueError("pls: two items are never answered together (or one has no variance "
                         "where the other is answered)")
    np.fill_diagonal(corr, 1.0)
    return corr, mean, sd


def _inner_weights(corr_lv: np.ndarray, adjacency: np.ndarray, scheme: str) -> np.ndarray:
    """plspm's inner weights E (latent x latent); ``adjacency[i, j]`` = 1 for a path j -> i."""
    both = adjacency + adjacency.T
    if scheme == "centroid":
        return np.sign(corr_lv * both)
    if scheme == "factorial":
        return corr_lv * both
    e = adjacency.astype(float)
    for k in range(len(adjacency)):
        before = adjacency[k] == 1  # predecessors of k: regression of k on them
        if before.any():
            e[before, k] = np.linalg.solve(corr_lv[np.ix_(before, before)], corr_lv[before, k])
        after = adjacency[:, k] == 1  # successors of k: correlations
        if after.any():
            e[after, k] = corr_lv[k, after]
    return e


def _outer_weights(corr: np.ndarray, odm: np.ndarray, adjacency: np.ndarray, scheme: str,
                   tol: float, maxiter: int, n: int) -> tuple[np.ndarray, int]:
    """plspm's ``get_weights`` (mode A) on the correlation matrix; W has unit-variance columns."""
    c = (n - 1) / n  # plspm scales the outer estimates to sd (n-1)/n: only the stopping rule sees it
    weights = odm / np.sqrt(np.einsum("ij,ik,kj->j", odm, corr, odm))
    old = weights.sum(axis=1)
    for iteration in range(1, maxiter + 1):
        cov_lv = weights.T @ corr @ weights
        sd_lv = np.sqrt(np.diag(cov_lv))
        inner = _inner_weights(cov_lv / np.outer(sd_lv, sd_lv), adjacency, scheme)
        weights = odm * (c * (corr @ weights / sd_lv) @ inner)
        new = weights.sum(axis=1)
        if np.sum((np.abs(old) - np.abs(new)) ** 2) < tol:
            break
        old = new
    if iteration == maxiter:
        raise ValueError(f"pls: the outer weights did not converge in {maxiter} iterations")
    return weights / np.sqrt(np.einsum("ij,ik,kj->j", weights, corr, weights)), iteration


def _adjacency(names: list[str], paths: Mapping[str, Sequence[str]]) -> np.ndarray:
    index = {name: k for k, name in enumerate(names)}
    adjacency = np.zeros((len(names), len(names)), dtype=int)
    for target, sources in paths.items():
        for source in sources:
            if target not in index or source not in index:
                raise ValueError(f"pls: path {source} -> {target} names an unknown block")
            adjacency[index[target], index[source]] = 1
    reach = adjacency.copy()
    for _ in names:
        if np.any(np.diag(reach)):
            raise ValueError("pls: the inner model has a cycle; it must be recursive")
        reach = np.minimum(reach @ adjacency + reach, 1)
    if not adjacency.any():
        raise ValueError("pls: the inner model needs at least one path")
    return adjacency


def _path_coefficients(corr_lv: np.ndarray, adjacency: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """OLS of each endogenous latent variable on its predecessors (standardised), and R^2."""
    coefs = np.zeros(adjacency.shape)
    r2 = np.zeros(len(adjacency))
    for k in np.flatnonzero(adjacency.any(axis=1)):
        before = adjacency[k] == 1
        beta = np.linalg.solve(corr_lv[np.ix_(before, before)], corr_lv[before, k])
        coefs[k, before] = beta
        r2[k] = beta @ corr_lv[before, k]
    return coefs, r2


def _rescaled(items: ItemMatrix, odm: np.ndarray, acsi: np.ndarray, low: np.ndarray,
              high: np.ndarray) -> np.ndarray:
    """ACSI 0-100 scores; a row's missing items drop out and its weights are renormalised."""
    present = items.present
    share = (present * acsi) @ odm  # weight of the answered items per block
    raw = items.filled @ (odm * acsi[:, None])
    floor = (present * acsi * low) @ odm
    span = (present * acsi * (high - low)) @ odm
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(share > 0, (raw - floor) / span * 100, np.nan)


@dataclass(frozen=True)
class PLSArrays:
    """One fit as arrays (items and latent variables in the model's order): the fast path
    for refitting on replicate weights. Fields as `PLSFit`'s."""

    weight: np.ndarray
    loading: np.ndarray
    acsi_weight: np.ndarray
    path_coefs: np.ndarray
    total_effects: np.ndarray
    r_squared: np.ndarray
    scores: np.ndarray
    rescaled: np.ndarray
    means: np.ndarray
    scale_factor: np.ndarray
    iterations: int


@dataclass(frozen=True)
class PLSModel:
    """A checked model: blocks (latent variable -> items, plspm's order), paths (endogenous
    latent variable -> predecessors), the inner scheme, the stopping rule and the items'
    lowest and highest possible answers (for the 0-100 rescaling)."""

    names: tuple[str, ...]
    items: tuple[str, ...]
    odm: np.ndarray
    adjacency: np.ndarray
    scheme: str
    tol: float
    maxiter: int
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def build(cls, blocks: Mapping[str, Sequence[str]], paths: Mapping[str, Sequence[str]],
              scheme: str = "centroid", tol: float = 1e-6, maxiter: int = 100,
              item_range: tuple[float, float] | Mapping[str, tuple[float, float]] = (1, 10)
              ) -> PLSModel:
        if scheme not in SCHEMES:
            raise ValueError(f"pls: scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
        names = list(blocks)
        items = [item for name in names for item in blocks[name]]
        if not all(blocks[name] for name in names) or len(set(items)) != len(items):
            raise ValueError("pls: every block needs items, and an item belongs to one block")
        ranges = (item_range if isinstance(item_range, Mapping)
                  else dict.fromkeys(items, item_range))
        odm = np.array([[item in blocks[name] for name in names] for item in items], float)
        return cls(tuple(names), tuple(items), odm, _adjacency(names, paths), scheme, tol,
                   maxiter, np.array([ranges[item][0] for item in items], float),
                   np.array([ranges[item][1] for item in items], float))

    def fit_arrays(self, x: np.ndarray | ItemMatrix, w: np.ndarray) -> PLSArrays:
        """Fit to the item matrix ``x`` (rows x items, NaN = missing; or its `ItemMatrix`,
        for refits) with case weights ``w``."""
        odm, adjacency = self.odm, self.adjacency
        items = ItemMatrix.of(x)
        x = items.x
        corr, mean, sd = weighted_correlations(items, w)
        outer_w, iterations = _outer_weights(corr, odm, adjacency, self.scheme, self.tol,
                                             self.maxiter, int(np.count_nonzero(w)))
        loadings = corr @ outer_w
        flip = np.sign(np.sign(loadings * odm).sum(axis=0))
        flip[flip == 0] = -1
        outer_w, loadings = outer_w * flip, loadings * flip
        coefs, r2 = _path_coefficients(outer_w.T @ corr @ outer_w, adjacency)
        eye = np.eye(len(self.names))
        w_item = outer_w.sum(axis=1)
        unstd = (odm * (w_item / sd)[:, None]).sum(axis=0)  # per block: sum of weight / sd
        acsi = w_item / sd / unstd[odm.argmax(axis=1)]
        rescaled = _rescaled(items, odm, acsi, self.low, self.high)
        span = (odm * (acsi * (self.high - self.low))[:, None]).sum(axis=0)
        ok = ~np.isnan(rescaled)
        means = (np.where(ok, rescaled, 0.0) * w[:, None]).sum(axis=0) / (ok * w[:, None]).sum(0)
        return PLSArrays(weight=w_item, loading=(loadings * odm).sum(axis=1), acsi_weight=acsi,
                         path_coefs=coefs, total_effects=np.linalg.inv(eye - coefs) - eye,
                         r_squared=r2, scores=((x - mean) / sd) @ outer_w, rescaled=rescaled,
                         means=means, scale_factor=100 / (span * unstd), iterations=iterations)


def pls_path_model(data: pd.DataFrame, blocks: Mapping[str, Sequence[str]],
                   paths: Mapping[str, Sequence[str]], *, weights: np.ndarray | None = None,
                   scheme: str = "centroid", tol: float = 1e-6, maxiter: int = 100,
                   item_range: tuple[float, float] | Mapping[str, tuple[float, float]] = (1, 10)
                   ) -> PLSFit:
    """Fit a PLS path model (mode A blocks) to the items of ``data``.

    ``blocks``: latent variable -> its items (columns of ``data``), in plspm's order;
    ``paths``: endogenous latent variable -> its predecessors; ``weights``: case weights
    (survey weights; None for equal); ``scheme``: "centroid" (plspm's default), "factorial"
    or "path"; ``item_range``: the lowest and highest possible answer, for all items or per
    item, for the 0-100 rescaling.
    """
    model = PLSModel.build(blocks, paths, scheme, tol, maxiter, item_range)
    missing = [item for item in model.items if item not in data.columns]
    if missing:
        raise ValueError(f"pls: the data lack the item columns {missing}")
    x = data[list(model.items)].to_numpy(float)
    w = check_weights(weights, len(x))
    a = model.fit_arrays(x, w)
    names, items = list(model.names), list(model.items)
    outer = pd.DataFrame({"block": [names[j] for j in model.odm.argmax(axis=1)],
                          "weight": a.weight, "loading": a.loading,
                          "communality": a.loading ** 2, "acsi_weight": a.acsi_weight},
                         index=pd.Index(items, name="item"))
    return PLSFit(outer=outer, path_coefs=pd.DataFrame(a.path_coefs, index=names, columns=names),
                  total_effects=pd.DataFrame(a.total_effects, index=names, columns=names),
                  r_squared=pd.Series(a.r_squared, index=names), iterations=a.iterations,
                  scheme=scheme, scores=pd.DataFrame(a.scores, index=data.index, columns=names),
                  rescaled=pd.DataFrame(a.rescaled, index=data.index, columns=names),
                  means=pd.Series(a.means, index=names),
                  scale_factor=pd.Series(a.scale_factor, index=names))


def check_weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    """Case weights as a float array of length ``n`` (ones when None); ValueError otherwise."""
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("pls: weights must be one finite non-negative number per row")
    return w
