"""BRR, Fay and Canty-Davison bootstrap replicates of a linearisation design, and replicate
designs from given replicate weights; as R's ``as.svrepdesign`` and ``svrepdesign``.

BRR and Fay follow ``brrweights`` with its defaults (``small="fail"``, ``large="split"``):
every stratum needs an even number of PSUs; a stratum with more than two is split into pairs
of PSUs in order of first appearance, strata being taken in sorted order, larger ones first.
Pair k follows row k + 1 of R's Hadamard matrix (``analysis.hadamard``), so the replicates are
R's, one per column. A PSU in the chosen half gets 2 - rho, the other rho (rho = 0: BRR);
scale 1 / (R (1 - rho)^2). As R, BRR ignores the fpc.

The bootstrap is R's ``bootweights``: in each stratum of n PSUs, n PSUs are drawn with
replacement, or without replacement from a population of N made of copies of the n PSUs when
the design has an fpc; the multiplier is how often each PSU was drawn; scale
n' / ((n' - 1)(R - 1)), n' the harmonic mean of PSUs per stratum. R's draws come from R's
random numbers, so the tests check the variance given R's exported weights, and the
generator by its moments.

Degrees of freedom are R's ``degf`` of a replicate design, the rank of the replicate weights
minus one (computed here on the PSU multipliers, or on the distinct rows of given weights).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analysis.hadamard import hadamard
from analysis.replicate import ReplicateDesign, replicate_weights

if TYPE_CHECKING:
    from analysis.design import SurveyDesign

BUILT_METHODS = ("brr", "fay", "bootstrap_cd")


class RankReplicateDesign(ReplicateDesign):
    """A replicate design whose df is R's ``degf``: rank of the replicate weights minus one."""

    def __init__(self, design: SurveyDesign, repweights: np.ndarray, scale: float,
                 rscales: np.ndarray, mse: bool, method: str, df: int) -> None:
        super().__init__(design, repweights, scale, rscales, mse, method)
        self._df = df

    @property
    def df(self) -> int:
        """Rank of the replicate weights minus one (R's ``degf`` for replicate designs)."""
        return self._df


def _psu_order(design: SurveyDesign) -> np.ndarray:
    """PSUs by stratum label (sorted), then by first appearance in the data (R's ``order``)."""
    stage = design._stages[0]
    first = np.full(stage.n_units, len(design))
    np.minimum.at(first, stage.unit, np.arange(len(design)))
    return np.lexsort((first, stage.unit_stratum))


def brr_multipliers(design: SurveyDesign, fay_rho: float = 0.0) -> np.ndarray:
    """PSU multipliers (replicates x PSUs) of R's ``brrweights(..., fay.rho=fay_rho)``."""
    if not 0 <= fay_rho < 1:
        raise ValueError(f"fay_rho: expected a number from 0 to below 1, got {fay_rho!r}")
    stage = design._stages[0]
    if design._spec["strata"] is None:
        raise ValueError("replicate: BRR and Fay need a stratified design (use jk1 or bootstrap)")
    size = np.bincount(stage.unit_stratum, minlength=stage.n_strata)
    if np.any(size < 2):
        label = stage.labels[int(np.flatnonzero(size < 2)[0])]
        raise ValueError(f"replicate: stratum ({label}) has fewer than 2 PSUs; BRR needs two "
                         "(or an even number) per stratum")
    if np.any(size % 2):
        label = stage.labels[int(np.flatnonzero(size % 2)[0])]
        raise ValueError(f"replicate: stratum ({label}) has an odd number of PSUs "
                         f"({size[size % 2 == 1][0]}); BRR splits strata into pairs")
    order = _psu_order(design)
    half = np.zeros(stage.n_units, dtype=np.int8)      # R's weights[, 1]: 0, 1, 0, 1, ...
    pair = np.zeros(stage.n_units, dtype=np.int64)     # R's weightstrata, 1-based
    upto = 0
    large = [h for h in range(stage.n_strata) if size[h] > 2]
    for group in ([[h] for h in large] + [[h for h in range(stage.n_strata) if size[h] == 2]]):
        members = order[np.isin(stage.unit_stratum[order], group)]
        if members.size == 0:
            continue
        half[members] = np.arange(members.size) % 2
        pair[members] = upto + np.arange(members.size) // 2 + 1
        upto += members.size // 2
    h = hadamard(upto)
    chosen = np.where(h[pair, :].T == 0, half[None, :], 1 - half[None, :])
    return chosen * (2 - fay_rho) + (1 - chosen) * fay_rho


def bootstrap_multipliers(design: SurveyDesign, replicates: int,
                          rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """PSU multipliers (replicates x PSUs) and scale of R's ``bootweights`` (fpc honoured)."""
    if replicates < 2:
        raise ValueError("replicate: bootstrap needs at least 2 replicates")
    stage = design._stages[0]
    mult = np.ones((replicates, stage.n_units))
    size = np.bincount(stage.unit_stratum, minlength=stage.n_strata)
    for s in range(stage.n_strata):
        members = rng.permutation(np.flatnonzero(stage.unit_stratum == s))
        n = members.size
        if stage.fraction is None:
            counts = rng.multinomial(n, np.full(n, 1.0 / n), size=replicates)
        else:
            population = int(round(n / stage.fraction[s]))
            copies = np.full(n, population // n)
            copies[: population % n] += 1
            counts = rng.multivariate_hypergeometric(copies, n, size=replicates)
        mult[:, members] = counts
    per_stratum = 1 / np.mean(1 / size)
    return mult, per_stratum / ((per_stratum - 1) * (replicates - 1))


def _rank_df(matrix: np.ndarray) -> int:
    """Rank minus one, as R's ``qr(weights)$rank - 1`` (distinct columns suffice)."""
    return int(np.linalg.matrix_rank(np.unique(matrix, axis=1))) - 1


def build_replicates(design: SurveyDesign, method: str, replicates: int | None,
                     seed: int | None, mse: bool, fay_rho: float) -> RankReplicateDesign:
    """The replicate design behind ``SurveyDesign.replicate`` for BUILT_METHODS."""
    if method == "bootstrap_cd":
        mult, scale = bootstrap_multipliers(design, 50 if replicates is None else replicates,
                                            np.random.default_rng(seed))
    else:
        if method == "brr" and fay_rho != 0:
            raise ValueError("fay_rho: only used with method 'fay'")
        if method == "fay" and fay_rho == 0:
            raise ValueError("fay_rho: method 'fay' needs a rho above 0, e.g. 0.3 (0 is BRR)")
        mult = brr_multipliers(design, fay_rho)
        if replicates is not None and replicates != mult.shape[0]:
            raise ValueError(f"replicate: {method} has one replicate per Hadamard column "
                             f"({mult.shape[0]}); leave replicates unset")
        scale = 1 / (mult.shape[0] * (1 - fay_rho) ** 2)
    used = np.bincount(design._stages[0].unit, design._base_weights != 0,
                       minlength=mult.shape[1]) > 0
    return RankReplicateDesign(design, replicate_weights(design, mult), scale,
                               np.ones(mult.shape[0]), mse, method, _rank_df(mult[:, used].T))


def from_replicate_weights(design: SurveyDesign, repweights: np.ndarray, scale: float,
                           rscales: np.ndarray | None = None, *, mse: bool = False,
                           method: str = "replicate weights") -> RankReplicateDesign:
    """A replicate design from given final replicate weights (R x n), as R's ``svrepdesign``.

    E.g. weights published with a survey; ``scale`` and ``rscales`` as R's (variance =
    scale * sum_r rscales_r (theta_r - centre)^2). The full-sample weights are the design's.
    """
    repweights = np.asarray(repweights, dtype=float)
    if repweights.ndim != 2 or repweights.shape[1] != len(design):
        raise ValueError(f"repweights: expected replicates x rows (rows = {len(design)}), got "
                         f"shape {repweights.shape}")
    if not np.all(np.isfinite(repweights)) or np.any(repweights < 0):
        raise ValueError("repweights: must be finite and non-negative")
    rscales = np.ones(repweights.shape[0]) if rscales is None else np.asarray(rscales, float)
    if rscales.shape != (repweights.shape[0],):
        raise ValueError("rscales: give one value per replicate")
    return RankReplicateDesign(design, repweights, float(scale), rscales, mse, method,
                               _rank_df(repweights))
