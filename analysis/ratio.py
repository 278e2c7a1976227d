"""Ratio of two totals, R = sum(w y) / sum(w x), overall or per domain (R's ``svyratio``).

The influence value of a row in domain d is ``w (y - R_d x) / X_d`` (X_d the weighted total of
x in the domain), zero outside it; the design's weighting adjustments and strata then act on
it as on any other estimate. Rows where y or x is missing are left out of both totals but stay
in the design (R's ``na.rm=TRUE`` on a design whose subsets keep every PSU).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analysis import estimates
from analysis.variance import Influence

if TYPE_CHECKING:
    import pandas as pd

    from analysis.design import ColumnSpec, SurveyDesign
    from analysis.results import Estimate


def ratio(design: SurveyDesign, numerator: str, denominator: str, by: ColumnSpec = None, *,
          ci: str = "t", level: float = 0.95, covmat: bool = False) -> Estimate | pd.DataFrame:
    """Estimate sum(w y) / sum(w x) with its linearised SE; see ``SurveyDesign.ratio``."""
    y, x = design._values(numerator), design._values(denominator)
    dom, ndom, index = design._domains(by)
    ok = ~(np.isnan(y) | np.isnan(x)) & (dom >= 0)
    d = np.where(ok, dom, ndom)
    w = design.weights
    y0, x0 = np.where(ok, y, 0.0), np.where(ok, x, 0.0)
    num = np.bincount(d, w * y0, minlength=ndom + 1)[:ndom]
    den = np.bincount(d, w * x0, minlength=ndom + 1)[:ndom]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
        resid = np.where(ok, (y0 - np.append(r, 0.0)[d] * x0) / np.append(den, 1.0)[d], 0.0)
    influence = Influence(ndom)
    influence.add_layer(d, w * resid)
    v = design._variance(influence, covmat and index is not None)
    var = np.diag(v) if v.ndim == 2 else v
    _, vsrs, n = estimates.srs_reference("total", np.where(ok, resid, np.nan), dom, ndom, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = var / vsrs
    return design._package("ratio", f"{numerator}/{denominator}", r, var, deff, n, index, ci,
                           level, v if v.ndim == 2 else None)
