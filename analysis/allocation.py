"""Allocating a total sample size across strata, and the precision an allocation should give.

The textbook allocations (Cochran, *Sampling Techniques*, 3rd ed., 1977, §5.5-5.9; Lohr,
*Sampling: Design and Analysis*, 2nd ed., §3.4), for strata h of size N_h:

``proportional``  n_h ∝ N_h (a self-weighting sample);
``sqrt``          n_h ∝ √N_h (Kish's compromise: small strata get more than their share, so
                  each can publish a figure, large ones keep most of their precision);
``neyman``        n_h ∝ N_h S_h, S_h the stratum's standard deviation (last wave's), which
                  minimises the variance of the overall mean for a fixed total (Cochran 5.26).

``minimum`` is a floor per stratum and the stratum size N_h the ceiling (a stratum cannot give
more respondents than it has). Strata that hit a bound are fixed at it and the rest is shared
again among the others, until no share crosses a bound (Cochran §5.8's treatment of Neyman
shares above N_h, applied to both bounds). Integer sizes come from the largest-remainder
(Hamilton) rule, so they add up to exactly the total: floor every share, then give the units
left over, one each, to the largest fractional parts (ties: the earlier stratum).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

METHODS = ("proportional", "sqrt", "neyman")


def allocation_measure(method: str, sizes: Sequence[float],
                       sds: Sequence[float] | None = None) -> np.ndarray:
    """The quantity each stratum's share is proportional to under ``method``."""
    size = np.asarray(sizes, dtype=float)
    if method == "proportional":
        return size
    if method == "sqrt":
        return np.sqrt(size)
    if method == "neyman":
        if sds is None:
            raise ValueError("neyman: expected a standard deviation per stratum")
        sd = np.asarray(sds, dtype=float)
        if sd.shape != size.shape or not np.all(np.isfinite(sd)) or np.any(sd < 0):
            raise ValueError("neyman: expected one finite, non-negative standard deviation "
                             "per stratum")
        return size * sd
    raise ValueError(f"method: expected one of {', '.join(METHODS)}; got {method!r}")


def bounded_shares(measure: Sequence[float], total: float, lower: Sequence[float],
                   upper: Sequence[float]) -> np.ndarray:
    """Real shares of ``total`` proportional to ``measure`` within [lower, upper] per stratum.

    Strata whose share falls outside their bounds are fixed at the bound and the remainder is
    shared again among the others (strata with measure 0 get their lower bound)."""
    weight = np.asarray(measure, dtype=float)
    low, high = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if np.any(low > high):
        raise ValueError("minimum: larger than a stratum's population")
    if not low.sum() <= total <= high.sum():
        raise ValueError(f"total: expected between {math.ceil(low.sum())} (the minimum in every "
                         f"stratum) and {int(high.sum())} (everyone); got {total:g}")
    share = np.zeros_like(weight)
    free = np.ones(len(weight), dtype=bool)
    while True:
        left = total - share[~free].sum()
        mass = weight[free].sum()
        share[free] = weight[free] * left / mass if mass > 0 else low[free]
        below, above = free & (share < low), free & (share > high)
        if not below.any() and not above.any():
            return share
        # Fix the side that is further out first; the other may resolve itself.
        if (low - share)[below].sum() >= (share - high)[above].sum():
            share[below], free[below] = low[below], False
        else:
            share[above], free[above] = high[above], False


def largest_remainder(shares: Sequence[float], total: int) -> np.ndarray:
    """Integers that sum to ``total``: floors of ``shares`` plus one each for the largest
    fractional parts (ties: the earlier entry). ``shares`` must sum to ``total``."""
    share = np.asarray(shares, dtype=float)
    base = np.floor(share + 1e-9).astype(int)
    left = total - int(base.sum())
    order = np.argsort(-(share - base), kind="stable")
    base[order[:left]] += 1
    return base


def allocate(method: str, sizes: Sequence[float], total: int, minimum: Sequence[int] | int = 0,
             sds: Sequence[float] | None = None) -> np.ndarray:
    """Integer sample sizes per stratum summing to ``total``: ``method``'s shares, at least
    ``minimum`` (per stratum, or one number for all) and at most the stratum's size."""
    size = np.asarray(sizes, dtype=float)
    if np.any(size <= 0):
        raise ValueError("population: expected a positive size for every stratum")
    low = np.broadcast_to(np.asarray(minimum, dtype=float), size.shape)
    shares = bounded_shares(allocation_measure(method, size, sds), total, low,
                            np.floor(size))
    return largest_remainder(shares, total)


def srs_half_width(population: float, n: float, sd: float, z: float = 1.959963984540054) -> float:
    """The CI half-width of a mean from a simple random sample of ``n`` of ``population``
    with standard deviation ``sd``: z·√((1 − n/N)·S²/n), fpc included (Cochran 2.12)."""
    return z * math.sqrt(max(0.0, 1 - n / population) * sd * sd / n) if n > 0 else math.inf


def stratified_half_width(populations: Sequence[float], ns: Sequence[float],
                          sds: Sequence[float], z: float = 1.959963984540054) -> float:
    """The CI half-width of the overall mean of a stratified sample:
    z·√(Σ W_h² (1 − n_h/N_h) S_h²/n_h), W_h = N_h/N (Cochran 5.6)."""
    size, n, sd = (np.asarray(a, dtype=float) for a in (populations, ns, sds))
    if np.any(n <= 0):
        return math.inf
    share = size / size.sum()
    return z * math.sqrt(float(np.sum(share ** 2 * (1 - n / size) * sd ** 2 / n)))


__all__ = ["METHODS", "allocate", "allocation_measure", "bounded_shares", "largest_remainder",
           "srs_half_width", "stratified_half_width"]
