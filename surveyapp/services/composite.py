"""The composite quality development index of a wave: survey score plus uploaded indicators.

The survey's indicator is each district's satisfaction index as the wave's reports give it
(`surveyapp.services.wave_results.analyse_wave`: the wave's declared design, raked to its
margins, exclusions applied), so the composite and the district reports never disagree. The
administrative indicators come from an indicator set uploaded for the wave
(`surveyapp.services.indicators`). `analysis.composite_index` does the arithmetic.

Districts enter when they have both: a survey score from at least SURVEYAPP_SUPPRESS_BELOW
responses (a withheld score must not come back inside a composite) and every indicator of the
set. The others are listed with the reason, never silently dropped.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from flask_babel import gettext as _

from analysis.composite_index import NORMALISATIONS, WEIGHTINGS, CompositeIndex, composite_index
from analysis.composite_index import Indicator as IndicatorSpec
from surveyapp.extensions import db
from surveyapp.models.indicators import IndicatorSet
from surveyapp.models.survey import District, Wave
from surveyapp.services.disclosure import suppress_below
from surveyapp.services.indicators import indicator_sets, values_by_district
from surveyapp.services.report_cache import cached_inputs
from surveyapp.services.wave_results import CITY

SURVEY_KEY = "survey_index"
# Which survey scores enter: the satisfaction index, or each dimension score in its place
# (never both: the index is the dimensions' weighted mean, so it would count them twice).
SURVEY_SCORES = ("index", "dimensions")
CHART_DPI = 110


class CompositeError(ValueError):
    """The index cannot be built as asked; the message names the field and what is expected."""


@dataclass(frozen=True)
class IndicatorInfo:
    """What a reader needs to judge one component of the index."""

    key: str
    label_zh: str
    label_en: str
    unit: str
    direction: str
    source: str
    target: float | None = None

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh


@dataclass(frozen=True)
class CompositeResult:
    """The index of one wave and indicator set, with the names to show it."""

    wave_label: str
    questionnaire: str
    indicator_set: str
    year: int
    indicators: tuple[IndicatorInfo, ...]
    survey: str
    result: CompositeIndex
    district_names: dict[str, dict[str, str]]
    left_out: dict[str, str]

    def district_name(self, code: str, lang: str) -> str:
        return self.district_names.get(code, {}).get(lang, code)


def parse_fixed_weights(text: str) -> dict[str, float]:
    """``"survey_index=0.4, product_pass_rate=0.2"`` as a mapping; CompositeError otherwise."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        key, sign, number = (s.strip() for s in part.partition("="))
        try:
            value = float(number)
        except ValueError:
            value = math.nan
        if not sign or not key or not math.isfinite(value) or value <= 0:
            raise CompositeError(_("fixed weights: '%(part)s' is not KEY=WEIGHT with a positive "
                                   "weight", part=part))
        weights[key] = value
    return weights


def composite_for_wave(wave: Wave, *, set_name: str | None = None,
                       normalisation: str = "minmax", weighting: str = "entropy",
                       fixed: dict[str, float] | None = None, survey: str = "index"
                       ) -> CompositeResult:
    """Build the index of ``wave`` from its newest indicator set (or the one named) and its
    ``survey`` scores (see SURVEY_SCORES)."""
    if normalisation not in NORMALISATIONS:
        raise CompositeError(_("normalisation: expected one of %(known)s, got '%(value)s'",
                               known=", ".join(NORMALISATIONS), value=normalisation))
    if weighting not in WEIGHTINGS:
        raise CompositeError(_("weights: expected one of %(known)s, got '%(value)s'",
                               known=", ".join(WEIGHTINGS), value=weighting))
    if survey not in SURVEY_SCORES:
        raise CompositeError(_("survey scores: expected one of %(known)s, got '%(value)s'",
                               known=", ".join(SURVEY_SCORES), value=survey))
    indicator_set = _indicator_set(wave, set_name)
    survey_infos, survey_values, left_out = _survey_scores(wave, survey)
    values = pd.concat([survey_values, pd.DataFrame(values_by_district(indicator_set))], axis=1)
    for district in values.index[values.isna().any(axis=1)]:
        absent = ", ".join(values.columns[values.loc[district].isna()])
        left_out.setdefault(district, _("no value for %(indicators)s", indicators=absent))
    values = values.dropna().sort_index()
    infos = (*survey_infos, *(_info(i) for i in indicator_set.indicators))
    _check_fixed(fixed or {}, infos, weighting)
    specs = [IndicatorSpec(i.key, i.direction, i.target, (fixed or {}).get(i.key))
             for i in infos]
    try:
        result = composite_index(values, specs, normalisation, weighting)
    except ValueError as error:
        raise CompositeError(str(error)) from error
    return CompositeResult(wave.label, wave.questionnaire_version.key, indicator_set.name,
                           indicator_set.year, infos, survey, result, _district_names(),
                           dict(sorted(left_out.items())))


def _indicator_set(wave: Wave, set_name: str | None) -> IndicatorSet:
    if set_name:
        found = db.session.scalar(sa.select(IndicatorSet).where(
            IndicatorSet.name == set_name, IndicatorSet.wave_id == wave.id))
        if found is None:
            known = ", ".join(s.name for s in indicator_sets(wave)) or "–"
            raise CompositeError(_("indicator set: wave %(wave)s has no set '%(name)s'; "
                                   "known: %(known)s", wave=wave.label, name=set_name,
                                   known=known))
        return found
    sets = indicator_sets(wave)
    if not sets:
        raise CompositeError(_("indicator set: none uploaded for wave %(wave)s; upload one "
                               "(surveyapp composite load, or the admin page)", wave=wave.label))
    return sets[0]


def _survey_scores(wave: Wave, survey: str
                   ) -> tuple[list[IndicatorInfo], pd.DataFrame, dict[str, str]]:
    """The wave's index (or dimension scores) by district as its reports give them, minus the
    districts with too few responses to publish (counted on the index)."""
    try:  # the analysis the wave's reports share: a page and its chart analyse it once
        results = cached_inputs(wave).current
    except ValueError as error:
        raise CompositeError(str(error)) from error
    source = f"{wave.label} {wave.questionnaire_version.key} (design {wave.sample_design})"
    if survey == "index":
        infos = [IndicatorInfo(SURVEY_KEY, "市民质量满意度指数",
                               "Citizen quality satisfaction index", "0-100", "benefit", source,
                               target=100.0)]
        columns = {SURVEY_KEY: "index"}
    else:
        dimensions = results.questionnaire.dimensions
        infos = [IndicatorInfo(f"survey_{d.id}", d.name.zh, d.name.en, "0-100", "benefit",
                               source, target=100.0) for d in dimensions]
        columns = {f"survey_{d.id}": f"dim_{d.id}" for d in dimensions}
    counts = results.scores["index"]["n"].drop(index=CITY)
    threshold = suppress_below()
    small = counts.index[counts < threshold]
    left_out = {district: _("%(n)d responses, fewer than %(threshold)d: the survey score is "
                            "withheld", n=int(counts[district]), threshold=threshold)
                for district in small}
    values = pd.DataFrame({key: results.scores[column]["estimate"].drop(index=CITY)
                           for key, column in columns.items()}).astype(float).drop(index=small)
    return infos, values, left_out


def _info(indicator) -> IndicatorInfo:
    return IndicatorInfo(indicator.key, indicator.label_zh, indicator.label_en, indicator.unit,
                         indicator.direction, indicator.source, indicator.target)


def _check_fixed(fixed: dict[str, float], infos: tuple[IndicatorInfo, ...],
                 weighting: str) -> None:
    if not fixed:
        return
    if weighting != "fixed":
        raise CompositeError(_("fixed weights: given, but the weights are '%(weighting)s'; "
                               "choose fixed", weighting=weighting))
    keys = [i.key for i in infos]
    unknown = [key for key in fixed if key not in keys]
    if unknown:
        raise CompositeError(_("fixed weights: unknown indicator %(unknown)s; expected "
                               "%(known)s", unknown=", ".join(unknown), known=", ".join(keys)))


def _district_names() -> dict[str, dict[str, str]]:
    return {d.code: {"zh": d.name_zh, "en": d.name_en}
            for d in db.session.scalars(sa.select(District))}


def composite_json(composite: CompositeResult, lang: str) -> dict:
    """The result as plain JSON: the ranked table with contributions and rank ranges.

    ``sensitivity`` of a district: ``{indicator: {"-20%": rank, "+20%": rank}}``.
    """
    result = composite.result
    changed_ranks: dict[str, dict[str, dict[str, int]]] = {}
    for row in result.sensitivity.itertuples():
        changed_ranks.setdefault(row.district, {}).setdefault(row.indicator, {})[
            f"{row.change:+.0%}"] = int(row.rank)
    return {
        "wave": composite.wave_label, "questionnaire": composite.questionnaire,
        "indicator_set": composite.indicator_set, "year": composite.year,
        "survey": composite.survey,
        "normalisation": result.normalisation, "weights": result.weighting,
        "scale": "0-100" if result.scale == 100 else "weighted standard score",
        "indicators": [{"key": i.key, "label": i.label(lang), "unit": i.unit,
                        "direction": i.direction, "source": i.source,
                        "weight": float(result.weights[i.key])} for i in composite.indicators],
        "districts": [{"district": code, "name": composite.district_name(code, lang),
                       "index": float(row["index"]), "rank": int(row["rank"]),
                       "best_rank": int(result.rank_range.at[code, "best"]),
                       "worst_rank": int(result.rank_range.at[code, "worst"]),
                       "contributions": {key: float(v) for key, v in
                                         result.contributions.loc[code].items()},
                       "sensitivity": changed_ranks.get(code, {})}
                      for code, row in result.table.iterrows()],
        "left_out": [{"district": code, "reason": reason}
                     for code, reason in composite.left_out.items()],
    }


def composite_chart_png(composite: CompositeResult, lang: str) -> bytes:
    """The ranked contribution chart as PNG."""
    from analysis.composite_plots import contribution_chart

    names = {code: composite.district_name(code, lang) for code in composite.result.table.index}
    labels = {i.key: i.label(lang) for i in composite.indicators}
    buffer = io.BytesIO()
    contribution_chart(composite.result, names, labels, lang=lang).savefig(
        buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()
