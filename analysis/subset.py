"""``subset()`` of a design: a domain that keeps the whole design, as R's ``subset.survey.design``.

Rows outside the subset get weight 0 instead of being dropped, so strata, PSU counts and the
fpc stay those of the full sample (R pads the missing PSUs with zeros, which is the same), and
the degrees of freedom count the PSUs and strata that still have weight (R's ``degf``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.variance import Influence


@dataclass(frozen=True)
class SubsetStep:
    """Zero the weights of rows outside the subset; influence values need no adjustment."""

    keep: np.ndarray

    def adjust(self, influence: Influence) -> None:
        """Out-of-subset rows already have weight, hence influence, zero."""

    def reapply(self, weights: np.ndarray) -> np.ndarray:
        """Zero other weights (e.g. replicate weights) outside the subset."""
        return np.where(self.keep, weights, 0.0)


def subset_step(rows: object, n: int) -> SubsetStep:
    """A ``SubsetStep`` from a boolean mask (array or Series of length n, no missing values)."""
    if isinstance(rows, pd.Series):
        if rows.isna().any():
            raise ValueError("subset: the condition has missing values; say which rows to keep")
        rows = rows.to_numpy()
    mask = np.asarray(rows)
    if mask.dtype != bool or mask.shape != (n,):
        raise ValueError(f"subset: expected a boolean mask with one value per row ({n}), got "
                         f"{mask.dtype} of shape {mask.shape}")
    if not mask.any():
        raise ValueError("subset: no row satisfies the condition")
    return SubsetStep(mask.copy())
