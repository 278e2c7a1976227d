"""Build the district report and the city-wide report from the analysis engine's estimates.

`report_inputs` analyses a wave and every earlier wave of the same questionnaire once, with the
changes between them; `district_report` and `city_report` turn those inputs into the report
content model (surveyapp/reports/model.py) in one language, ready for the PDF, Excel and CSV
builders. `build_district_report` / `build_city_report` do both steps for one report.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa
from flask import current_app

from analysis.drivers import key_drivers
from analysis.trends import difference
from surveyapp.exports.codebook import FIXED_LABELS
from surveyapp.extensions import db
from surveyapp.localtime import to_local, zone_label
from surveyapp.models.survey import (
    District,
    QuestionnaireVersion,
    Response,
    Street,
    Wave,
    utcnow,
)
from surveyapp.questionnaires import Item, Questionnaire, load_geography
from surveyapp.reports.model import (
    BandRow,
    Change,
    Chart,
    ChartPoint,
    Count,
    Estimate,
    Headline,
    Language,
    Margin,
    Method,
    Report,
    ScoreRow,
    StreetRow,
    Weighting,
)
from surveyapp.reports.wording import label
from surveyapp.services.disclosure import suppress_below, withheld
from surveyapp.services.small_area import withheld_streets
from surveyapp.services.small_area_report import small_area_section
from surveyapp.services.latent_index import LatentIndexCache
from surveyapp.services.latent_report import latent_section
from surveyapp.services.wave_results import (
    CITY,
    WaveResults,
    achieved_margins,
    analyse_wave,
    earlier_waves,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Questionnaires whose dimensions are public-service sectors (the city's sector monitor).
SECTOR_QUESTIONNAIRES = frozenset({"public_service"})
LEVEL = 0.95
CHART_DPI = 120


class ReportError(ValueError):
    """The report cannot be built as asked; the message names the field and what is expected."""


@dataclass(frozen=True)
class ReportInputs:
    """A wave's results, the earlier waves' (most recent first) and the changes against each.

    ``changes[i][column]`` compares this wave with ``earlier[i]`` for every domain both have:
    columns estimate (the difference), se, ci_low, ci_high, df, t, p_value, significant.
    """

    current: WaveResults
    earlier: tuple[WaveResults, ...]
    changes: tuple[dict[str, pd.DataFrame], ...]
    latent: LatentIndexCache | None = None


def find_wave(label: str, questionnaire: str | None, lang: Language) -> Wave:
    """The wave labelled ``label`` (of questionnaire key ``questionnaire`` when given)."""
    query = sa.select(Wave).join(QuestionnaireVersion).where(Wave.label == label)
    if questionnaire:
        query = query.where(QuestionnaireVersion.key == questionnaire)
    matches = list(db.session.scalars(query.order_by(Wave.id)))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = ", ".join(sorted({f"{w.label} ({w.questionnaire_version.key})"
                                  for w in db.session.scalars(sa.select(Wave))})) or "–"
        raise ReportError(f"测评批次：没有{label}；现有：{known}" if lang == "zh" else
                          f"wave: no wave {label!r}; known waves: {known}")
    keys = ", ".join(w.questionnaire_version.key for w in matches)
    raise ReportError(f"问卷：有多个{label}批次，请指定问卷（{keys}）" if lang == "zh" else
                      f"questionnaire: several waves are labelled {label!r}; name the "
                      f"questionnaire ({keys})")


def report_inputs(wave: Wave, margins: str | None = None) -> ReportInputs:
    """Analyse ``wave`` and the earlier waves of its questionnaire that have responses.

    An explicit ``margins`` weights every wave; without it each wave, earlier ones included,
    is weighted to its own pinned set (else the automatic choice), so that a published wave's
    numbers stay as published when a newer margin set is uploaded.
    """
    current = analyse_wave(wave, margins)
    earlier = tuple(analyse_wave(w, margins) for w in earlier_waves(wave) if _has_data(w))
    changes = tuple(
        {column: _compare(before.scores[column], table)
         for column, table in current.scores.items() if column in before.scores}
        for before in earlier)
    return ReportInputs(current, earlier, changes, LatentIndexCache(current, suppress_below()))


def _has_data(wave: Wave) -> bool:
    return db.session.scalar(sa.select(sa.func.count(Response.id))
                             .where(Response.wave_id == wave.id)) > 0


def _compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    common = before.index.intersection(after.index, sort=False)
    both = [d for d in common
            if math.isfinite(before.at[d, "estimate"]) and math.isfinite(after.at[d, "estimate"])]
    return difference(after.loc[both], before.loc[both], level=LEVEL)


def build_district_report(wave: Wave, district: str, lang: Language,
                          margins: str | None = None) -> Report:
    """The report of ``district`` (a code such as "310109") for ``wave`` in ``lang``."""
    check_district(wave, district, lang)
    return district_report(report_inputs(wave, margins), district, lang, suppress_below())


def build_city_report(wave: Wave, lang: Language, margins: str | None = None) -> Report:
    """The city-wide report for ``wave`` in ``lang``."""
    return city_report(report_inputs(wave, margins), lang)


def check_district(wave: Wave, district: str, lang: Language) -> None:
    """ReportError unless ``district`` is one of the wave's districts."""
    if district not in {d.code for d in wave.districts}:
        known = ", ".join(d.code for d in wave.districts)
        raise ReportError(
            f"区：测评批次{wave.label}不包括{district}；可选：{known}" if lang == "zh" else
            f"district: wave {wave.label} does not cover {district}; expected one of {known}")


# ----------------------------------------------------------------------------- the reports


def district_report(inputs: ReportInputs, district: str, lang: Language,
                    suppress_below: int, charts: bool = True) -> Report:
    """The district report from analysed inputs (shared by all districts of a wave).

    ``charts=False`` leaves the charts out (the CSV edition has none; they are the slow part).
    """
    current = inputs.current
    if not _has_estimate(current.scores["index"], district):  # none, or none with an index
        raise ReportError(
            f"区：{district}在测评批次{current.wave.label}没有有效答卷" if lang == "zh" else
            f"district: {district} has no valid responses in wave {current.wave.label}")
    q = current.questionnaire
    names = _district_names(lang)
    districts = _district_rows(inputs, names, lang, suppress_below, keep=district)
    rank = next(i for i, row in enumerate(districts, start=1) if row.code == district)
    index = _estimate(current.scores["index"], district)
    # With another district withheld, the city figure and the published districts would give
    # it away: the city mean goes too (surveyapp.services.disclosure, rule 2).
    others_hidden = _withheld_districts(current, suppress_below) - {district}
    city = None if others_hidden else _estimate(current.scores["index"], CITY)
    headline = Headline(index, _band(q, index.value, lang),
                        tuple(c for c in _changes(inputs, "index", district) if c is not None),
                        rank, len(districts), city)
    streets = _street_rows(current, district, lang, suppress_below)
    frame = current.frame[current.frame["district"] == district]
    method = _method(current, frame, district, tuple(Count(s.label, s.n) for s in streets),
                     suppress_below, lang)
    drawn = _charts(inputs, district, names, frame, lang, districts, city) if charts else ()
    report = _report(inputs, "district", lang, names.get(district, district), district,
                     headline, streets, districts, drawn, method)
    return replace(report, small_area=small_area_section(inputs, district, lang, suppress_below))


def city_report(inputs: ReportInputs, lang: Language, charts: bool = True) -> Report:
    """The city-wide report: all districts ranked, significant changes highlighted."""
    current = inputs.current
    q = current.questionnaire
    names = _district_names(lang)
    districts = _district_rows(inputs, names, lang, suppress_below())
    index = _estimate(current.scores["index"], CITY)
    headline = Headline(index, _band(q, index.value, lang),
                        tuple(c for c in _changes(inputs, "index", CITY) if c is not None),
                        None, None, None)
    counts = tuple(Count(row.label, row.estimate.n) for row in districts)
    method = _method(current, current.frame, None, counts, suppress_below(), lang)
    drawn = _charts(inputs, CITY, names, current.frame, lang, districts, index) if charts else ()
    return _report(inputs, "city", lang, _city_name(lang), None, headline, (), districts,
                   drawn, method)


def _report(inputs: ReportInputs, kind: str, lang: Language, area: str, code: str | None,
            headline: Headline, streets: tuple[StreetRow, ...], districts: tuple[ScoreRow, ...],
            charts: tuple[Chart, ...], method: Method) -> Report:
    current = inputs.current
    q = current.questionnaire
    domain = code or CITY
    heading = label("sectors" if q.id in SECTOR_QUESTIONNAIRES else "dimensions", lang)
    latent, latent_chart = latent_section(inputs.latent, domain, lang, draw=bool(charts))
    charts = (*charts, latent_chart) if latent_chart is not None else charts
    return Report(
        kind=kind, lang=lang, area=area, area_code=code, wave=current.wave.label,
        questionnaire=q.title.get(lang),
        earlier_waves=tuple(e.wave.label for e in inputs.earlier), headline=headline,
        dimension_heading=heading, dimensions=_dimension_rows(inputs, domain, lang),
        items=_item_rows(inputs, domain, lang), streets=streets, districts=districts,
        charts=charts, method=method, generated_at=to_local(utcnow()), latent_index=latent)


# ----------------------------------------------------------------------------- rows


def _estimate(table: pd.DataFrame, domain: str) -> Estimate:
    row = table.loc[domain]
    return Estimate(float(row["estimate"]), float(row["se"]), float(row["ci_low"]),
                    float(row["ci_high"]), int(row["n"]))


def _has_estimate(table: pd.DataFrame, domain: str) -> bool:
    return domain in table.index and math.isfinite(table.at[domain, "estimate"])


def _band(questionnaire: Questionnaire, value: float, lang: Language) -> str | None:
    band = questionnaire.band_for(value)
    return band.label.get(lang) if band else None


def _changes(inputs: ReportInputs, column: str, domain: str) -> tuple[Change | None, ...]:
    result = []
    for before, changes in zip(inputs.earlier, inputs.changes):
        table = changes.get(column)
        if table is None or domain not in table.index:
            result.append(None)
            continue
        row = table.loc[domain]
        result.append(Change(before.wave.label, float(row["estimate"]), float(row["ci_low"]),
                             float(row["ci_high"]), float(row["p_value"]),
                             bool(row["significant"])))
    return tuple(result)


def _score_row(inputs: ReportInputs, column: str, domain: str, code: str, name: str,
               lang: Language, group: str | None = None) -> ScoreRow | None:
    table = inputs.current.scores.get(column)
    if table is None or not _has_estimate(table, domain):
        return None
    estimate = _estimate(table, domain)
    return ScoreRow(code, name, estimate, _band(inputs.current.questionnaire, estimate.value, lang),
                    _changes(inputs, column, domain), group)


def _dimension_rows(inputs: ReportInputs, domain: str, lang: Language) -> tuple[ScoreRow, ...]:
    q = inputs.current.questionnaire
    rows = (_score_row(inputs, f"dim_{d.id}", domain, d.id, d.name.get(lang), lang)
            for d in q.dimensions)
    return tuple(row for row in rows if row is not None)


def _item_rows(inputs: ReportInputs, domain: str, lang: Language) -> tuple[ScoreRow, ...]:
    q = inputs.current.questionnaire
    rows = (_score_row(inputs, f"item_{item.id}", domain, item.id, _item_label(item, lang), lang,
                       q.dimension(item.dimension).name.get(lang) if item.dimension
                       else label("overall_group", lang))
            for item in q.items)
    return tuple(row for row in rows if row is not None)


def _item_label(item: Item, lang: Language) -> str:
    """The item's text, marked "（反向计分）/ (reverse-scored)" when its scale runs backwards."""
    return item.text.get(lang) + (label("reverse_mark", lang) if item.reverse else "")


def _district_rows(inputs: ReportInputs, names: dict[str, str], lang: Language, limit: int,
                   keep: str | None = None) -> tuple[ScoreRow, ...]:
    """Every district with an index that the disclosure policy publishes, best first.

    ``keep`` (the report's own district, whose figure is its headline anyway) always stays.
    A change against an earlier wave in which the district was withheld is withheld too.
    """
    hidden = _withheld_districts(inputs.current, limit) - {keep}
    before = [_withheld_districts(earlier, limit) - {keep} for earlier in inputs.earlier]
    table = inputs.current.scores["index"].drop(index=CITY)
    table = table[table["estimate"].notna() & ~table.index.isin(hidden)]
    rows = (_score_row(inputs, "index", code, code, names.get(code, code), lang)
            for code in table.sort_values("estimate", ascending=False).index)
    return tuple(replace(row, changes=tuple(None if row.code in gone else change
                                            for change, gone in zip(row.changes, before)))
                 for row in rows)


def _withheld_districts(results: WaveResults, limit: int) -> frozenset[str]:
    """The districts whose index the policy withholds from the wave's district tables."""
    table = results.scores["index"]
    counts = {code: int(n) for code, n in table["n"].items() if code != CITY}
    return withheld(counts, int(table.at[CITY, "n"]), limit)


def _street_rows(results: WaveResults, district: str, lang: Language,
                 limit: int) -> tuple[StreetRow, ...]:
    """Every street of the district; a street the disclosure policy withholds (fewer than
    ``limit`` responses, or the complement that keeps it from being derived from the district
    figure): count only, no score."""
    streets = db.session.get(District, district).streets
    cells, hidden = withheld_streets(results, district, [s.code for s in streets], limit)
    rows = []
    for street in streets:
        n = cells[street.code]
        shown = street.code not in hidden and _has_estimate(results.streets, street.code)
        rows.append(StreetRow(street.code, street.name(lang), n,
                              _estimate(results.streets, street.code) if shown else None))
    return tuple(rows)


def _district_names(lang: Language) -> dict[str, str]:
    return {d.code: d.name(lang) for d in db.session.scalars(sa.select(District))}


def _city_name(lang: Language) -> str:
    """The city's name from the geography file, e.g. 上海市 / Shanghai."""
    directory = Path(current_app.config["SURVEYAPP_QUESTIONNAIRE_DIR"]) / "geography"
    files = sorted(directory.glob("*.yaml"))
    name = _geography_name(str(files[0]), files[0].stat().st_mtime) if len(files) == 1 else None
    return name.get(lang) if name else label("city", lang)


@lru_cache(maxsize=4)
def _geography_name(path: str, mtime: float):
    return load_geography(path).name


# ----------------------------------------------------------------------------- method


def _method(results: WaveResults, frame: pd.DataFrame, district: str | None,
            counts: tuple[Count, ...], limit: int, lang: Language) -> Method:
    wave, q = results.wave, results.questionnaire
    domain = district or CITY
    index = results.scores["index"].loc[domain]
    n = len(frame)
    deff = float(index["deff"])
    excluded = (results.excluded.get(district, 0) if district
                else sum(results.excluded.values()))
    submitted = frame["submitted_at"]
    return Method(
        n=n, counts=counts, weighting=_weighting(results, district, lang),
        design=label("design_text", lang, design=wave.design.describe(lang)), deff=deff,
        effective_n=n / deff if deff > 0 else float(n), excluded=excluded,
        first_response=_python_time(submitted.min()), last_response=_python_time(submitted.max()),
        wave_opens=to_local(wave.opens_at), wave_closes=to_local(wave.closes_at),
        questionnaire_version=q.version, suppress_below=limit, confidence=LEVEL,
        bands=tuple(BandRow(b.label.get(lang), b.lower, b.upper)
                    for b in sorted(q.bands, key=lambda b: -b.lower)),
        time_zone=zone_label(lang), reverse_scored=any(item.reverse for item in q.items))


def _python_time(value) -> datetime | None:
    """A submission time from the frame (UTC) in the service's zone."""
    return None if pd.isna(value) else to_local(value.to_pydatetime())


def _weighting(results: WaveResults, district: str | None, lang: Language) -> Weighting:
    outcome = results.weighting
    if not outcome.weighted:
        note = (label("unweighted_note", lang) if outcome.reason == "no margin set uploaded"
                else label("unweighted_failed", lang, reason=outcome.reason))
        return Weighting(False, note, None, (), None, None, None)
    table = achieved_margins(results)
    if district is not None:
        table = table[table["district"] == district]
    table = table.groupby(["variable", "category"], sort=False)[["target", "achieved"]].sum()
    q = results.questionnaire
    margins = tuple(
        Margin(*_margin_labels(q, variable, category, lang), float(row["target"]),
               float(row["achieved"]))
        for (variable, category), row in table.iterrows())
    return Weighting(True, None, outcome.margin_set, margins, outcome.converged,
                     outcome.iterations, outcome.misfit)


def _margin_labels(q: Questionnaire, variable: str, category: str,
                   lang: Language) -> tuple[str, str]:
    """A margin's variable by its short label ("性别 / Sex", not the question's wording) and
    its category by name: a choice label, or a district's or street's name."""
    short = FIXED_LABELS.get(variable)
    name = short[lang == "en"] if short else variable
    question = q.demographic(variable)
    choice = next((c for c in question.choices if c.value == category), None) if question else None
    if choice is not None:
        return name, choice.label.get(lang)
    place = {"district": District, "street": Street}.get(variable)
    found = db.session.get(place, category) if place else None
    return name, found.name(lang) if found else category


# ----------------------------------------------------------------------------- charts


def _charts(inputs: ReportInputs, domain: str, names: dict[str, str], frame: pd.DataFrame,
            lang: Language, districts: tuple[ScoreRow, ...], city: Estimate | None
            ) -> tuple[Chart, ...]:
    """The report's charts, drawn from the rows it publishes: ``districts`` and ``city``
    (None when withheld) as the disclosure policy left them."""
    from analysis.plots import district_comparison_chart, trend_chart  # matplotlib: when drawing

    current = inputs.current
    trend = _trend(inputs, domain)
    charts = [Chart("trend", label("chart_trend", lang),
                    _png(trend_chart(trend, lang=lang, title=label("chart_trend", lang))),
                    _points(trend))]
    table = pd.DataFrame([{"estimate": r.estimate.value, "ci_low": r.estimate.ci_low,
                           "ci_high": r.estimate.ci_high, "n": r.estimate.n} for r in districts],
                         index=[r.label for r in districts])
    highlight = names.get(domain) if domain != CITY else None
    if districts:  # none when the policy withholds them all (a city total under the limit)
        charts.append(Chart("districts", label("chart_districts", lang), _png(
            district_comparison_chart(table, highlight=highlight,
                                      city_mean=None if city is None else city.value,
                                      lang=lang, title=label("chart_districts", lang))),
            _points(table)))
    drivers = _drivers_chart(current.questionnaire, frame, lang)
    if drivers is not None:
        charts.append(drivers)
    return tuple(charts)


def _trend(inputs: ReportInputs, domain: str) -> pd.DataFrame:
    """The index of ``domain`` in every wave that has it, earliest first."""
    rows = {}
    for results in (*reversed(inputs.earlier), inputs.current):
        table = results.scores["index"]
        if _has_estimate(table, domain):
            rows[results.wave.label] = table.loc[domain, ["estimate", "ci_low", "ci_high"]]
    return pd.DataFrame(rows).T.astype(float)


def _points(table: pd.DataFrame) -> tuple[ChartPoint, ...]:
    """The rows of a chart's table (estimate, ci_low, ci_high by label), in plotted order."""
    return tuple(ChartPoint(str(name), float(row["estimate"]), float(row["ci_low"]),
                            float(row["ci_high"])) for name, row in table.iterrows())


def _drivers_chart(q: Questionnaire, frame: pd.DataFrame, lang: Language) -> Chart | None:
    """Importance-performance of the dimensions; None when the regression cannot be fitted
    (too few respondents, or an overall item that does not vary)."""
    from analysis.plots import importance_performance_chart  # matplotlib: when drawing

    columns = [f"dim_{d.id}" for d in q.dimensions]
    try:
        drivers = key_drivers(frame, outcome="overall", drivers=columns, weights="weight")
    except ValueError:
        return None
    names = {f"dim_{d.id}": d.name.get(lang) for d in q.dimensions}
    title = label("chart_drivers", lang)
    return Chart("drivers", title, _png(importance_performance_chart(
        drivers.table, names=names, lang=lang, title=title)))


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=CHART_DPI)
    return out.getvalue()
