"""Key-driver analysis: which dimensions move overall satisfaction, and how well each performs.

The overall-satisfaction score is regressed on the dimension scores with R's ``svyglm``
(`analysis.svyglm`): survey-weighted coefficients and design-based (linearised) standard
errors that honour strata, PSUs, fpc and calibration, with t tests on degf(design) + 1 - p
degrees of freedom. For the drivers of "satisfied or better" the outcome is the indicator
``overall >= satisfied_at`` and the model is logistic (quasibinomial). A dimension's
coefficient is its importance; its weighted mean score is its performance. Together they
place it in the importance-performance quadrant.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.design import SurveyDesign
from analysis.svyglm import svyglm

__all__ = ["KeyDrivers", "key_drivers"]


@dataclass(frozen=True)
class KeyDrivers:
    """Result of `key_drivers`.

    ``table`` has one row per driver (index = driver column name) and the columns
    ``coefficient`` (the importance: points of the outcome per point of the driver, or the
    change in log-odds of "satisfied or better" for the logistic model), ``se``, ``t``,
    ``p_value``, ``ci_low``, ``ci_high``, ``deff`` (svyglm's), ``standardized`` (coefficient x weighted SD of the
    driver, divided by the weighted SD of the outcome for the linear model), ``share``
    (|standardized| as a share of the sum over drivers) and ``performance`` (weighted mean of
    the driver over respondents who have a score on it). ``df`` is the design degrees of
    freedom of the fit minus the parameters plus one (svyglm's); ``r_squared`` is NaN for
    the logistic model.
    """

    table: pd.DataFrame
    intercept: float
    r_squared: float
    n: int
    n_clusters: int
    df: int
    family: str
    level: float


def _weighted_sd(values: np.ndarray, weights: np.ndarray) -> float:
    mean = np.average(values, weights=weights)
    return float(np.sqrt(np.average((values - mean) ** 2, weights=weights)))


def _as_design(data: pd.DataFrame | SurveyDesign, weights: str | None,
               cluster: str | None) -> SurveyDesign:
    if isinstance(data, SurveyDesign):
        if weights is not None or cluster is not None:
            raise ValueError("weights, cluster: give them in the SurveyDesign, not here")
        return data
    if weights is not None and weights not in data.columns:
        raise ValueError(f"weights: no column {weights!r} in the data")
    if weights is not None:
        w = data[weights].to_numpy(dtype=float, na_value=np.nan)
        if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
            raise ValueError(f"weights: column {weights!r} must be finite and non-negative, "
                             "not all zero")
    if cluster is not None and cluster in data.columns and data[cluster].isna().any():
        raise ValueError(f"cluster: column {cluster!r} is missing for "
                         f"{int(data[cluster].isna().sum())} respondents; every row needs its PSU")
    return SurveyDesign(data, weights=weights, psu=cluster)


def key_drivers(
    data: pd.DataFrame | SurveyDesign,
    outcome: str,
    drivers: Sequence[str],
    weights: str | None = None,
    cluster: str | None = None,
    level: float = 0.95,
    satisfied_at: float | None = None,
) -> KeyDrivers:
    """Regress ``outcome`` on ``drivers`` as R's ``svyglm`` on the survey design.

    ``data`` is a `SurveyDesign` (strata, PSUs, fpc and weighting as declared), or a frame of
    one row per respondent with the final weight column ``weights`` and the PSU column
    ``cluster`` (a one-stage design; each respondent is a PSU without it). Typically
    ``outcome="overall"`` and ``drivers=["dim_product", ...]``. ``satisfied_at``: model the
    probability that ``outcome >= satisfied_at`` by logistic svyglm (quasibinomial) instead.

    The regression uses respondents with the outcome and every driver present (listwise);
    ``performance`` uses every respondent with that driver present, so it equals the published
    dimension score.
    """
    drivers = list(drivers)
    design = _as_design(data, weights, cluster)
    frame = design.data
    missing = [c for c in [outcome, *drivers] if c not in frame.columns]
    if missing:
        raise ValueError(f"key drivers: no columns {missing} in the data")
    if not drivers:
        raise ValueError("key drivers: give at least one driver column")
    if not 0 < level < 1:
        raise ValueError(f"level must lie between 0 and 1, got {level}")
    stage = design._stages[0]
    if stage.n_units < 2:
        raise ValueError(f"key drivers: cluster column {cluster!r} has fewer than 2 PSUs")
    y_all = frame[outcome].to_numpy(dtype=float, na_value=np.nan)
    family = "gaussian"
    name = outcome
    if satisfied_at is not None:
        family, name = "quasibinomial", f"{outcome}>={satisfied_at:g}"
        y_all = np.where(np.isnan(y_all), np.nan, (y_all >= satisfied_at).astype(float))
    w_all = np.asarray(design.weights, dtype=float)
    x_all = frame[drivers].to_numpy(dtype=float, na_value=np.nan)
    complete = ~np.isnan(y_all) & ~np.isnan(x_all).any(axis=1) & (w_all > 0)
    if complete.sum() <= len(drivers) + 1:
        raise ValueError(f"key drivers: {int(complete.sum())} complete respondents cannot fit "
                         f"{len(drivers) + 1} parameters")
    if np.ptp(y_all[complete]) == 0:
        raise ValueError(f"key drivers: outcome {name!r} does not vary, nothing to explain")
    fit = svyglm(design, name, drivers, family=family, level=level, values=y_all)
    coefficients = fit.table.iloc[1:]
    y, x, w = y_all[complete], x_all[complete], w_all[complete]
    sd_x = np.array([_weighted_sd(x[:, j], w) for j in range(len(drivers))])
    standardized = coefficients["coefficient"].to_numpy() * sd_x
    r_squared = np.nan
    if family == "gaussian":
        standardized = standardized / _weighted_sd(y, w)
        fitted = fit.table["coefficient"].iloc[0] + x @ coefficients["coefficient"].to_numpy()
        r_squared = 1 - np.average((y - fitted) ** 2, weights=w) / _weighted_sd(y, w) ** 2
    table = coefficients[["coefficient", "se", "t", "p_value", "ci_low", "ci_high", "deff"]].copy()
    table.index = pd.Index(drivers, name="driver")
    table["standardized"] = standardized
    table["share"] = np.abs(standardized) / np.abs(standardized).sum()
    table["performance"] = [design.mean(d).estimate if (~np.isnan(x_all[:, j])).any() else np.nan
                            for j, d in enumerate(drivers)]
    used_psus = np.unique(stage.unit[complete]).size
    return KeyDrivers(table=table, intercept=float(fit.table["coefficient"].iloc[0]),
                      r_squared=float(r_squared), n=fit.n, n_clusters=int(used_psus),
                      df=fit.df, family=family, level=level)
