"""Small-area estimates for streets: a Fay-Herriot model over the wave's street estimates.

The direct street estimates of the index (surveyapp.services.wave_results: the wave's declared
design, street design never taking the street as the PSU) and their design variances feed an
area-level Fay-Herriot model (analysis.fay_herriot: REML, Prasad-Rao MSE) fitted over every
street of the wave, city-wide, so that the model variance rests on hundreds of streets. The
auxiliaries are

* ``district_index``: the street's district index in this wave (a district-level auxiliary);
* ``previous_street``: the street's index in the previous wave of the questionnaire, or, where
  that wave had fewer than MIN_DIRECT_N responses there, its district's index then.

An auxiliary unknown for some street (a district the previous wave did not cover) or constant
over the fitted streets (a wave of one district) is left out, and a wave with fewer than MIN_STREETS such streets gets no model. Streets with fewer
than MIN_DIRECT_N responses have no usable design variance; they are
predicted synthetically (x'beta, MSE A + x'Qx) and their few responses are not used at all.

Disclosure (surveyapp.services.disclosure; what leaves is decided in `published_streets`):
the model figure of a street whose direct estimate is withheld is
``gamma y + (1 - gamma) x'beta``; with gamma, beta and the MSE's parts a reader could solve it
for the withheld y. So shrinkage factors, coefficients, the model variance and synthetic parts
stay with analysts (`analyst_json`); published model figures and their intervals are rounded
to PUBLISHED_DECIMALS; and a withheld street's model figure is itself withheld when the
street's own responses carry more than MAX_OWN_WEIGHT of it (the figure would then be mostly
the withheld direct value).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask_babel import gettext as _

from analysis.fay_herriot import FayHerriotError, FayHerriotFit, fay_herriot
from surveyapp.extensions import db
from surveyapp.models.survey import District
from surveyapp.services.disclosure import withheld
from surveyapp.services.wave_results import CITY, WaveResults

MIN_DIRECT_N = 5  # fewer responses: no usable design variance, synthetic estimate only
MIN_STREETS = 6  # fewer fitted streets: the REML model variance would rest on too little
MAX_OWN_WEIGHT = 0.5  # a withheld street's model figure may lean on its own responses this much
PUBLISHED_DECIMALS = 1
LEVEL = 0.95
AUXILIARIES = ("district_index", "previous_street")


class SmallAreaError(ValueError):
    """No model can be fitted for the wave (too few streets with estimates); message says why."""


@dataclass(frozen=True)
class StreetModel:
    """The fitted model over the wave's streets.

    ``streets`` is indexed by street code with columns district, n, direct, direct_se, sampled,
    eblup, rmse, ci_low, ci_high, shrinkage, synthetic and one column per auxiliary used.
    """

    wave: str
    previous_wave: str | None
    auxiliaries: tuple[str, ...]
    beta: dict[str, float]
    refvar: float
    iterations: int
    streets: pd.DataFrame


@dataclass(frozen=True)
class PublishedStreet:
    """What a report or a bureau may see of one street: the direct estimate where publishable,
    the model figure (rounded) unless withheld; ``basis`` "eblup" or "synthetic"."""

    code: str
    n: int
    direct: tuple[float, float, float, float] | None  # estimate, se, ci_low, ci_high
    direct_withheld: bool
    model: tuple[float, float, float, float] | None  # estimate, rmse, ci_low, ci_high
    model_withheld: bool
    basis: str


def fit_streets(current: WaveResults, previous: WaveResults | None,
                streets: dict[str, str]) -> StreetModel:
    """Fit the model over ``streets`` (street code -> district code: every street of the wave's
    districts, answered or not); ``previous`` is the previous wave's results, if any."""
    codes = list(streets)
    district = pd.Series(streets, index=codes)
    direct = current.streets.reindex(codes) if not current.streets.empty else pd.DataFrame(
        index=codes, columns=["estimate", "se", "n"], dtype=float)
    n = direct["n"].fillna(0).astype(int)
    y = direct["estimate"].astype(float)
    se = direct["se"].astype(float)
    usable = (n >= MIN_DIRECT_N) & np.isfinite(y) & np.isfinite(se) & (se > 0)
    if usable.sum() < MIN_STREETS:
        raise SmallAreaError(_(
            "wave %(wave)s: no small-area model for the streets (%(reason)s)",
            wave=current.wave.label,
            reason=f"{int(usable.sum())} streets with {MIN_DIRECT_N}+ responses, "
                   f"{MIN_STREETS} needed"))
    aux = pd.DataFrame({"district_index": _district_values(current, district)}, index=codes)
    if previous is not None:
        aux["previous_street"] = _previous_values(previous, district)
    aux = aux.loc[:, [c for c in aux if aux[c].notna().all()]]
    used = _identifiable(aux, usable)
    X = np.column_stack([np.ones(len(codes)), aux[list(used)].to_numpy(float)])
    try:
        fit = fay_herriot(np.where(usable, y, np.nan), np.where(usable, se ** 2, np.nan), X)
    except FayHerriotError as exc:
        raise SmallAreaError(
            _("wave %(wave)s: no small-area model for the streets (%(reason)s)",
              wave=current.wave.label, reason=str(exc))) from exc
    table = _street_table(fit, district, n, y, se, aux[list(used)])
    return StreetModel(current.wave.label, previous.wave.label if previous else None, used,
                       dict(zip(("intercept", *used), map(float, fit.beta))), fit.refvar,
                       fit.iterations, table)


def wave_streets(results: WaveResults) -> dict[str, str]:
    """Every street of the wave's districts (answered or not), by code: street -> district."""
    districts = db.session.scalars(
        sa.select(District).where(District.code.in_(results.wave.districts)))
    return dict(sorted((s.code, d.code) for d in districts for s in d.streets))


def _district_values(results: WaveResults, district: pd.Series) -> np.ndarray:
    index = results.scores["index"]["estimate"].drop(index=CITY, errors="ignore")
    return district.map(index).to_numpy(float)


def _previous_values(previous: WaveResults, district: pd.Series) -> np.ndarray:
    """Last wave's street index where it had MIN_DIRECT_N responses, else its district's."""
    fallback = _district_values(previous, district)
    if previous.streets.empty:
        return fallback
    before = previous.streets.reindex(district.index)
    good = (before["n"].fillna(0) >= MIN_DIRECT_N) & before["estimate"].notna()
    return np.where(good, before["estimate"].to_numpy(float), fallback)


def _identifiable(aux: pd.DataFrame, usable: pd.Series) -> tuple[str, ...]:
    """The auxiliaries that vary over the fitted streets and are not collinear with the ones
    before them (a wave of one district has no district-level contrast)."""
    kept: list[str] = []
    rows = usable.to_numpy()
    for column in aux:
        X = np.column_stack([np.ones(rows.sum()), aux.loc[rows, [*kept, column]].to_numpy(float)])
        if X.shape[0] > X.shape[1] and np.linalg.matrix_rank(X) == X.shape[1]:
            kept.append(column)
    return tuple(kept)


def _street_table(fit: FayHerriotFit, district: pd.Series, n: pd.Series, y: pd.Series,
                  se: pd.Series, aux: pd.DataFrame) -> pd.DataFrame:
    low, high = fit.interval(LEVEL)
    return pd.DataFrame({
        "district": district, "n": n, "direct": y, "direct_se": se, "sampled": fit.sampled,
        "eblup": fit.eblup, "rmse": fit.rmse, "ci_low": low, "ci_high": high,
        "shrinkage": fit.shrinkage, "synthetic": fit.synthetic, **aux}, index=district.index)


# ----------------------------------------------------------------------------- disclosure


def withheld_streets(current: WaveResults, district: str, street_codes: list[str],
                     limit: int) -> tuple[dict[str, int], frozenset[str]]:
    """Responses per street of ``district`` and the streets whose direct estimate the policy
    withholds (primary and complementary suppression under the district's figure)."""
    answered = current.frame.loc[current.frame["district"] == district, "street"]
    counts = answered.value_counts()
    cells = {code: int(counts.get(code, 0)) for code in street_codes}
    return cells, withheld(cells, len(answered), limit)


def published_streets(model: StreetModel, current: WaveResults, district: str,
                      street_codes: list[str], limit: int) -> tuple[PublishedStreet, ...]:
    """The streets of ``district`` as a publication shows them (see the module docstring)."""
    cells, hidden = withheld_streets(current, district, street_codes, limit)
    table = model.streets
    rows = []
    for code in street_codes:
        row = table.loc[code]
        shown = code not in hidden and code in current.streets.index and np.isfinite(
            current.streets.at[code, "estimate"])
        direct = None
        if shown:
            d = current.streets.loc[code]
            direct = (float(d["estimate"]), float(d["se"]), float(d["ci_low"]),
                      float(d["ci_high"]))
        leans = bool(code in hidden and row["shrinkage"] > MAX_OWN_WEIGHT)
        model_figure = None if leans else tuple(
            round(float(row[c]), PUBLISHED_DECIMALS) for c in ("eblup", "rmse", "ci_low",
                                                               "ci_high"))
        rows.append(PublishedStreet(code, cells[code], direct, not shown, model_figure, leans,
                                    "eblup" if row["sampled"] else "synthetic"))
    return tuple(rows)


def published_json(rows: tuple[PublishedStreet, ...]) -> list[dict]:
    """The published streets as JSON records (API)."""
    keys = ("estimate", "se", "ci_low", "ci_high")
    model_keys = ("estimate", "rmse", "ci_low", "ci_high")
    return [{"street": r.code, "n": r.n,
             "direct": dict(zip(keys, r.direct)) if r.direct else None,
             "direct_suppressed": r.direct_withheld,
             "model": ({**dict(zip(model_keys, r.model)), "basis": r.basis, "model_based": True}
                       if r.model else None),
             "model_suppressed": r.model_withheld} for r in rows]


def analyst_json(model: StreetModel, street_codes: list[str]) -> dict:
    """Everything about the fit, for analysts and admins only: coefficients, the model
    variance, and per street the direct value (withheld or not), shrinkage and synthetic part."""
    table = model.streets.loc[street_codes]
    records = table.reset_index(names="street").astype(object)
    return {"auxiliaries": list(model.auxiliaries), "beta": model.beta,
            "model_variance": model.refvar, "iterations": model.iterations,
            "previous_wave": model.previous_wave,
            "streets": records.where(records.notna(), None).to_dict(orient="records")}
