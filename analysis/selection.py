"""Drawing units (streets) without replacement, with known inclusion probabilities.

The design weight of a drawn unit is 1/π_i, so every method here states its π_i:

``srs``  simple random sampling of n of N: π_i = n/N for every unit (numpy's
         ``Generator.choice(replace=False)``).
``pps``  probability proportional to size without replacement, by Brewer's method (Brewer
         1975; Tillé, *Sampling Algorithms*, 2006, §6.2.9, algorithm 6.10; R's
         ``sampling::UPbrewer``): n draws, each from the units not yet drawn with
         probabilities ∝ π_k (n − a − π_k)/(n − a − π_k (n − j + 1)) at draw j, a being the
         summed π of the units drawn so far. Its inclusion probabilities are exactly the π_k
         of :func:`inclusion_probabilities`, and all its joint probabilities are positive
         (unlike systematic PPS), so a variance can be estimated.

π_k from sizes x_k (:func:`inclusion_probabilities`, as ``sampling::inclusionprobabilities``):
n·x_k/Σx, with every unit whose value reaches 1 set to 1 (a certainty unit, always drawn) and
the rest recomputed over the others, until none exceeds 1.

Draws are reproducible: the same sizes, n and seed give the same units (numpy's PCG64).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

SELECTIONS = ("srs", "pps")
_EPS = 1e-6  # as UPbrewer's eps: π within eps of 0 or 1 counts as 0 or 1


def inclusion_probabilities(sizes: Sequence[float], n: int) -> np.ndarray:
    """π_k for a PPS sample of ``n`` units with size measures ``sizes`` (certainty units get 1)."""
    size = np.asarray(sizes, dtype=float)
    if np.any(size < 0) or not 0 <= n <= np.count_nonzero(size):
        raise ValueError(f"draw: expected between 0 and {np.count_nonzero(size)} units with a "
                         f"positive size; got {n}")
    pik = n * size / size.sum() if n else np.zeros_like(size)
    while np.any(pik > 1):
        sure = pik >= 1
        pik[sure] = 1
        rest = ~sure
        pik[rest] = (n - sure.sum()) * size[rest] / size[rest].sum()
    return pik


def brewer(pik: Sequence[float], uniforms: Iterator[float]) -> np.ndarray:
    """0/1 per unit drawn by Brewer's method from ``pik`` (summing to an integer), each draw
    taking the next of ``uniforms`` (U(0,1)); the step of ``sampling::UPbrewer``."""
    pi = np.asarray(pik, dtype=float)
    chosen = pi >= 1 - _EPS
    open_ = (pi > _EPS) & ~chosen
    p_open = pi[open_]
    drawn = np.zeros(len(p_open))
    n = int(round(p_open.sum()))
    for step in range(1, n + 1):
        a = float(np.sum(p_open * drawn))
        p = (1 - drawn) * p_open * ((n - a) - p_open) / ((n - a) - p_open * (n - step + 1))
        cumulative = np.cumsum(p / p.sum())
        u = next(uniforms)
        drawn[min(int(np.searchsorted(cumulative, u, side="right")), len(p_open) - 1)] = 1
    result = chosen.astype(float)
    result[open_] = drawn
    return result.astype(bool)


def draw(selection: str, sizes: Sequence[float], n: int,
         seed: int | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(drawn, π): which of the units are drawn (``n`` of them) and every unit's inclusion
    probability, for ``selection`` 'srs' or 'pps' (sizes as the measure), from ``seed``
    (an int or a sequence of ints, as numpy's ``default_rng``)."""
    rng = np.random.default_rng(seed)
    count = len(sizes)
    if selection == "srs":
        if not 0 <= n <= count:
            raise ValueError(f"draw: expected between 0 and {count} units; got {n}")
        drawn = np.zeros(count, dtype=bool)
        drawn[rng.choice(count, size=n, replace=False)] = True
        return drawn, np.full(count, n / count)
    if selection == "pps":
        pik = inclusion_probabilities(sizes, n)
        return brewer(pik, iter(lambda: float(rng.random()), None)), pik
    raise ValueError(f"selection: expected one of {', '.join(SELECTIONS)}; got {selection!r}")


__all__ = ["SELECTIONS", "brewer", "draw", "inclusion_probabilities"]
