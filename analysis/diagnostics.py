"""Weight diagnostics of a weighted run: spread of the final weights and their cost in precision.

Kish's design effect of unequal weighting is 1 + CV^2 = n sum(w^2) / sum(w)^2, the CV using
the population standard deviation of the weights (divisor n); n / deff_kish is the effective
sample size. Rows with weight 0 are not counted (they are out of the sample, as in R).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class WeightDiagnostics:
    """Summary of final weights; ``share_trimmed`` is None when no trimming was asked for."""

    n: int
    total: float
    minimum: float
    maximum: float
    mean: float
    cv: float
    kish_deff: float
    n_effective: float
    share_trimmed: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def trimmed_share(before: np.ndarray, lower: float, upper: float) -> float:
    """Share of the rows (weight > 0) whose weight lay outside [lower, upper] before trimming."""
    before = np.asarray(before, dtype=float)
    used = before > 0
    return float(np.mean((before[used] < lower) | (before[used] > upper)))


def weight_diagnostics(weights: np.ndarray, share_trimmed: float | None = None
                       ) -> WeightDiagnostics:
    """Diagnostics of ``weights`` (the design's final weights)."""
    w = np.asarray(weights, dtype=float)
    w = w[w > 0]
    if w.size == 0:
        raise ValueError("weights: no row has a positive weight")
    n, total = int(w.size), float(w.sum())
    kish = float(n * np.sum(w ** 2) / total ** 2)
    return WeightDiagnostics(n=n, total=total, minimum=float(w.min()), maximum=float(w.max()),
                             mean=total / n, cv=float(np.std(w) / np.mean(w)), kish_deff=kish,
                             n_effective=n / kish, share_trimmed=share_trimmed)
