"""The spec's regressions (key drivers, R's svyglm) and crosstabs (Rao-Scott F, R's svychisq).

Both run on the wave's linearisation design, weighting included, and return JSON-ready rows.
Names a spec gives that the questionnaire lacks are reported with their spec path.
"""
from __future__ import annotations

import math

import pandas as pd
from flask_babel import gettext as _

from analysis.chisq import svychisq
from analysis.design import SurveyDesign
from analysis.drivers import key_drivers
from surveyapp.questionnaires import Questionnaire
from surveyapp.specs import Crosstab, EstimateSpec, Regression, SpecError

COEFFICIENT_COLUMNS = ("coefficient", "se", "t", "p_value", "ci_low", "ci_high", "deff",
                       "standardized", "share", "performance")


def _number(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _column(target: str, questionnaire: Questionnaire, path: str) -> str:
    from surveyapp.services.estimation import _score_column  # estimation imports this module

    column = _score_column(target, questionnaire)
    if column is None:
        raise SpecError([f"{path}: " + _("%(target)r is not a score of questionnaire "
                                         "%(questionnaire)r", target=target,
                                         questionnaire=questionnaire.id)])
    return column


def _drivers(regression: Regression, questionnaire: Questionnaire, path: str) -> list[str]:
    known = [d.id for d in questionnaire.dimensions]
    problems = [f"{path}.drivers[{j}]: " + _("%(target)r is not a dimension of questionnaire "
                                             "%(questionnaire)r", target=d,
                                             questionnaire=questionnaire.id)
                for j, d in enumerate(regression.drivers) if d not in known]
    if problems:
        raise SpecError(problems)
    return [f"dim_{d}" for d in (regression.drivers or known)]


def regressions(design: SurveyDesign, questionnaire: Questionnaire, label: str,
                spec: EstimateSpec, error: type[ValueError]) -> list[dict]:
    """One row per regression: the fit and a coefficient per driver."""
    rows = []
    for i, regression in enumerate(spec.regressions):
        path = f"regressions[{i}]"
        outcome = _column(regression.outcome, questionnaire, f"{path}.outcome")
        drivers = _drivers(regression, questionnaire, path)
        try:
            fit = key_drivers(design, outcome, drivers, level=spec.interval.level,
                              satisfied_at=regression.satisfied_at)
        except ValueError as exc:
            raise error(f"{path}: {exc}") from exc
        rows.append({
            "wave": label, "outcome": regression.outcome, "model": regression.model,
            "satisfied_at": regression.satisfied_at, "n": fit.n, "df": fit.df,
            "n_clusters": fit.n_clusters, "intercept": _number(fit.intercept),
            "r_squared": _number(fit.r_squared),
            "coefficients": [{"driver": name.removeprefix("dim_"),
                              **{k: _number(values[k]) for k in COEFFICIENT_COLUMNS}}
                             for name, values in fit.table.iterrows()]})
    return rows


def _band_labels(scores: pd.Series, questionnaire: Questionnaire) -> pd.Series:
    labels = [None if band is None else f"{band.label.zh} / {band.label.en}"
              for band in map(questionnaire.band_for, scores.astype(float))]
    return pd.Series(labels, index=scores.index, dtype=object)


def crosstabs(frame: pd.DataFrame, design: SurveyDesign, questionnaire: Questionnaire,
              label: str, spec: EstimateSpec, error: type[ValueError]) -> list[dict]:
    """One row per crosstab: the Rao-Scott F test and the weighted cell proportions.

    A band:<score> side becomes a column of band labels (zh / en) on the design's frame.
    """
    rows = []
    for i, table in enumerate(spec.crosstabs):
        path = f"crosstabs[{i}]"
        sides = []
        for key in ("rows", "columns"):
            side = getattr(table, key)
            if side.startswith("band:"):
                column = _column(side[5:], questionnaire, f"{path}.{key}")
                frame[side] = _band_labels(frame[column], questionnaire)
            elif side not in frame.columns:
                raise SpecError([f"{path}.{key}: " + _("unknown variable %(name)r", name=side)])
            sides.append(side)
        rows.append(_crosstab(design, table, sides, label, path, error))
    return rows


def _crosstab(design: SurveyDesign, table: Crosstab, sides: list[str], label: str, path: str,
              error: type[ValueError]) -> dict:
    try:
        test = svychisq(design, sides[0], sides[1])
    except ValueError as exc:
        raise error(f"{path}: {exc}") from exc
    cells = [{"row": str(r), "column": str(c), "proportion": _number(p)}
             for r, values in test.table.iterrows() for c, p in values.items()]
    return {"wave": label, "rows": table.rows, "columns": table.columns,
            "statistic": _number(test.statistic), "ndf": _number(test.ndf),
            "ddf": _number(test.ddf), "p_value": _number(test.p_value),
            "pearson": _number(test.pearson), "mean_deff": _number(test.mean_deff),
            "cells": cells}
