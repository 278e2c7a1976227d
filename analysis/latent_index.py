"""A latent satisfaction index as ACSI and the China customer satisfaction index compute it.

The PLS path model (analysis.pls): each dimension's items measure a dimension latent variable,
the overall-satisfaction item(s) measure overall satisfaction, and every dimension has a path
to overall satisfaction. Survey weights are the case weights of the fit.

What is reported, per dimension: its ``importance`` (the standardised total effect on overall
satisfaction, GB/T 19038's importance), its ``weight`` (importance normalised to sum to one,
dimensions with a non-positive effect getting 0), ``impact`` (ACSI: points of overall
satisfaction per point of the dimension) and ``performance`` (the weighted mean of its ACSI
0-100 latent score, items weighted by their unstandardised outer weights). The index is the
importance-weighted mean of the dimensions' performances, sum(weight x performance): the items
are weighted by estimated importance at both levels, as the issue asks of ACSI/CCSI. The
rescaled overall-satisfaction latent variable is reported beside it (with one overall item it
is that item's mean).

Standard errors come from replicate weights (`analysis.replicate.ReplicateDesign`): the model is
refitted on every replicate, as R's ``withReplicates`` does, so the variance includes the
estimation of the importance weights and the weighting steps the replicates redo. A domain
(a district) is fitted on its rows alone, with the full design's replicate weights restricted
to those rows.

The importance-performance matrix (GB/T 19038 Annex D): quadrant lines at the mean importance
and the mean performance over the dimensions; "improve" = high importance, low performance.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analysis.pls import ItemMatrix, PLSFit, PLSModel, pls_path_model
from analysis.replicate import ReplicateDesign
from analysis.results import critical_value

__all__ = ["OVERALL", "LatentIndex", "latent_index"]

OVERALL = "overall"
QUADRANTS = {(True, True): "keep", (True, False): "improve", (False, False): "secondary",
             (False, True): "surplus"}


@dataclass(frozen=True)
class LatentIndex:
    """Result of `latent_index`.

    ``dimensions``: one row per dimension with importance, weight, impact, performance, each
    with ``_se``, and ``quadrant`` ("keep", "improve", "secondary", "surplus").
    ``index`` and ``overall`` are 0-100 with their standard error and interval (t on ``df``
    degrees of freedom); ``method`` names the replicates. ``fit`` is the full-sample PLS fit.
    """

    index: float
    se: float
    ci_low: float
    ci_high: float
    overall: float
    overall_se: float
    r_squared: float
    dimensions: pd.DataFrame
    n: int
    df: int
    level: float
    method: str
    replicates: int
    fit: PLSFit


def _statistics(model: PLSModel, x: ItemMatrix, w: np.ndarray) -> np.ndarray:
    """[index, overall, importance..., weight..., impact..., performance...] of one fit."""
    fit = model.fit_arrays(x, w)
    target = len(model.names) - 1  # the overall block comes last
    importance = fit.total_effects[target, :target]
    impact = importance * fit.scale_factor[target] / fit.scale_factor[:target]
    performance = fit.means[:target]
    positive = importance.clip(min=0)
    weight = positive / positive.sum() if positive.sum() > 0 else positive * np.nan
    return np.concatenate([[weight @ performance, fit.means[target]], importance, weight,
                           impact, performance])


def latent_index(data: pd.DataFrame, design: ReplicateDesign, dimensions: Mapping[str, Sequence[str]],
                 overall: Sequence[str], *, domain: np.ndarray | None = None,
                 scheme: str = "centroid", level: float = 0.95,
                 item_range: tuple[float, float] = (0, 100)) -> LatentIndex:
    """The latent index of ``data`` (the rows of ``design``, in order; or of the rows where
    ``domain`` is True).

    ``dimensions``: dimension -> its item columns (0-100 item scores, missing = not answered);
    ``overall``: the overall-satisfaction item column(s). Raises ValueError (with the reason)
    when the model cannot be fitted, on the full sample or on a replicate.
    """
    if len(dimensions) < 2:
        raise ValueError("latent index: the model needs at least two dimensions")
    if OVERALL in dimensions:
        raise ValueError(f"latent index: {OVERALL!r} is the overall block; rename the dimension")
    blocks = {name: list(items) for name, items in dimensions.items()}
    blocks[OVERALL] = list(overall)
    if len(data) != len(design):
        raise ValueError("latent index: data and design must have the same rows")
    rows = np.ones(len(design), bool) if domain is None else np.asarray(domain, bool)
    data = data.loc[rows]
    model = PLSModel.build(blocks, {OVERALL: list(dimensions)}, scheme, item_range=item_range)
    x = ItemMatrix.of(data[list(model.items)].to_numpy(float))
    full = _statistics(model, x, design.weights[rows])
    # The refits are many small products (items x rows): BLAS threads only contend there
    # (25 times slower on a busy two-core server), so the loop runs single-threaded.
    with threadpool_limits(limits=1, user_api="blas"):
        thetas = np.array([_statistics(model, x, w[rows]) for w in design.replicate_weights])
    fit = pls_path_model(data, blocks, {OVERALL: list(dimensions)}, weights=design.weights[rows],
                         scheme=scheme, item_range=item_range)
    centre = full if design.mse else thetas[design.rscales > 0].mean(axis=0)
    se = np.sqrt(design.scale * np.sum(design.rscales[:, None] * (thetas - centre) ** 2, axis=0))
    k = len(dimensions)
    table = pd.DataFrame(index=pd.Index(list(dimensions), name="dimension"))
    for j, name in enumerate(("importance", "weight", "impact", "performance")):
        part = slice(2 + j * k, 2 + (j + 1) * k)
        table[name], table[f"{name}_se"] = full[part], se[part]
    high_importance = table["importance"] >= table["importance"].mean()
    high_performance = table["performance"] >= table["performance"].mean()
    table["quadrant"] = [QUADRANTS[(bool(i), bool(p))]
                         for i, p in zip(high_importance, high_performance)]
    half = float(critical_value(level, design.df, "t")) * se[0]
    answered = data[list(overall)].notna().any(axis=1).to_numpy() & (design.weights[rows] > 0)
    return LatentIndex(index=full[0], se=se[0], ci_low=full[0] - half, ci_high=full[0] + half,
                       overall=full[1], overall_se=se[1],
                       r_squared=float(fit.r_squared[OVERALL]), dimensions=table,
                       n=int(answered.sum()), df=int(design.df), level=level,
                       method=design.method, replicates=len(design.replicate_weights), fit=fit)
