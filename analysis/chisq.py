"""Rao-Scott adjusted chi-square test of a two-way table, as R's ``svychisq(statistic="F")``.

Pearson's X^2 of the weighted table (scaled to the number of rows) is divided by the mean
generalised design effect, the trace of Delta = (C' D^-1 C / N)^-1 (C' D^-1 V D^-1 C), and
referred to F(d, d nu) with d = tr(Delta)^2 / tr(Delta^2) and nu the design's PSUs minus strata
(R counts every row here). V is the design covariance of the cell proportions (linearised:
strata, fpc, stages and calibration count); C spans the interaction contrasts orthogonal to
the main effects. Rows missing either variable are left out of the table and of V (na.rm).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.variance import Basis, Influence

if TYPE_CHECKING:
    from analysis.design import SurveyDesign


@dataclass(frozen=True)
class ChisqTest:
    """Result of `svychisq`: the adjusted F, its (fractional) degrees of freedom and p-value;
    ``pearson`` is the unadjusted X^2 of the table and ``table`` the weighted proportions."""

    statistic: float
    ndf: float
    ddf: float
    p_value: float
    pearson: float
    mean_deff: float
    table: pd.DataFrame


def _contrasts(nr: int, nc: int) -> np.ndarray:
    """Interaction columns of ~rows*cols, residualised on ~rows+cols (R's qr.resid), row-major
    over cells with the row index varying fastest."""
    rows, cols = np.tile(np.arange(nr), nc), np.repeat(np.arange(nc), nr)
    main = np.column_stack([np.ones(nr * nc)] + [rows == r for r in range(1, nr)]
                           + [cols == c for c in range(1, nc)]).astype(float)
    inter = np.column_stack([(rows == r) & (cols == c) for c in range(1, nc)
                             for r in range(1, nr)]).astype(float)
    coef = np.linalg.lstsq(main, inter, rcond=None)[0]
    return inter - main @ coef


def svychisq(design: SurveyDesign, row: str, column: str) -> ChisqTest:
    """Rao-Scott F test of independence of ``row`` and ``column`` (categorical columns)."""
    from scipy import stats  # scipy.stats: a second of start-up, imported when needed

    row_codes, row_labels = design._factor((row,))
    col_codes, col_labels = design._factor((column,))
    nr, nc = len(row_labels), len(col_labels)
    if nr < 2 or nc < 2:
        raise ValueError(f"svychisq: '{row}' and '{column}' each need at least two observed "
                         "categories")
    complete = (row_codes >= 0) & (col_codes >= 0)
    k = nr * nc
    cell = np.where(complete, row_codes + nr * col_codes, k)
    w = np.asarray(design.weights, dtype=float)
    wc = np.where(complete, w, 0.0)
    total = wc.sum()
    if total <= 0:
        raise ValueError(f"svychisq: no row has both '{row}' and '{column}' with positive weight")
    p = np.bincount(cell, wc, minlength=k + 1)[:k] / total
    influence = Influence(k, support=complete)
    influence.add_layer(cell, wc / total)
    influence.add_correction(Basis(1, codes=np.zeros(len(w), dtype=np.int64), scale=wc / total),
                             p[None, :])
    v = design._variance(influence, True)
    n = len(w)
    stage = design._stages[0]
    nu = stage.n_units - stage.n_strata
    observed = (p * n).reshape(nc, nr).T
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / n
    pearson = float(np.sum((observed - expected) ** 2 / expected))
    c = _contrasts(nr, nc)
    inv_p = np.where(p == 0, 0.0, 1 / np.where(p == 0, 1.0, p))
    denom = (c * (inv_p / n)[:, None]).T @ c
    numer = (c * inv_p[:, None]).T @ v @ (c * inv_p[:, None])
    delta = np.linalg.solve(denom, numer)
    trace = float(np.trace(delta))
    d0 = trace ** 2 / float(np.trace(delta @ delta))
    statistic = pearson / trace
    table = pd.DataFrame(observed / n, index=row_labels, columns=col_labels)
    return ChisqTest(statistic, d0, d0 * nu, float(stats.f.sf(statistic, d0, d0 * nu)),
                     pearson, trace / c.shape[1], table)
