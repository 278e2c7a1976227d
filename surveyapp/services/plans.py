"""Sampling plans: from street populations and a total, the valid responses each district and
street of a wave should give, which streets are drawn, and the precision that should buy.

Allocation is in two steps with one method (analysis.allocation): the total across the wave's
districts by their whole adult populations (Neyman: times the district's SD of the index in
the SD wave), then each district's share across its drawn streets (Neyman: times the street's
SD, or its district's when the street had fewer than 10 responses, or the city's). A district
gets at least ``min_per_street`` per drawn street. When ``streets_per_district`` is given and
smaller than a district's count, that many streets are drawn in the district (SRS, or PPS by
adult population: analysis.selection), seeded by ``[seed, district code]`` so one seed
reproduces every district's draw.

The plan is the wave's declared design: with every street covered the wave becomes
"district_street" (streets as strata inside districts), with drawn streets "street_psu" (the
drawn streets as PSUs in district strata); surveyapp.services.sample_design weights each
response by 1/π(street) x the street's population / its valid responses. A plan can be made
or replaced only while the wave has no responses and no invitation codes, so no published
number changes under it and no code belongs to a street the plan does not draw.

Expected precision (the CI half-width of the 0-100 index, 95 %): a street's is that of a
simple random sample with fpc (Cochran 2.12) from its SD; a district's with every street
covered the stratified formula (Cochran 5.6); with drawn streets that within-street part plus
the between-street term (1 − m/M) S_b²/m, S_b the SD of the district's street means in the
SD wave (an approximation for equal-probability PSUs, treated alike for PPS; on the safe
side, as those means carry their own sampling noise); the SDs are unweighted; the city's
combines the districts as strata. Without an SD wave there is no precision column.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analysis.allocation import allocate, srs_half_width, stratified_half_width
from analysis.selection import draw
from surveyapp.choices import PLAN_METHODS
from surveyapp.extensions import db
from surveyapp.models.plans import SamplePlan, SamplePlanStreet
from surveyapp.models.survey import InvitationCode, Response, Street, Wave
from surveyapp.services.declared_design import both
from surveyapp.services.invitations import generate_codes
from surveyapp.services.plan_populations import check_covers, read_populations
from surveyapp.services.progress import wave_progress

Z95 = 1.959963984540054
MIN_SD_RESPONSES = 2
# A street's own SD needs this many responses, else its district's is used: an SD from a
# handful of answers would send Neyman's shares and the precision column anywhere.
MIN_STREET_SD_RESPONSES = 10


class PlanError(ValueError):
    """A plan that cannot be made as asked; the message (Chinese / English) starts with the
    option it is about."""


@dataclass(frozen=True)
class PlanRequest:
    """What ``surveyapp plan create`` and the admin form ask for."""

    total: int
    method: str
    min_per_street: int = 0
    streets_per_district: int | None = None
    selection: str = "pps"
    seed: int = 1


@dataclass(frozen=True)
class LastWave:
    """SDs of the index per street and district, and of the street means, from one wave."""

    label: str
    street: Mapping[str, float]
    district: Mapping[str, float]
    between: Mapping[str, float]
    city: float


def last_wave_sds(wave: Wave, label: str | None = None) -> LastWave | None:
    """The SD wave: ``label`` (same questionnaire) or the most recent earlier wave of the
    questionnaire with responses; None if there is none."""
    from surveyapp.services.estimation import find_waves, load_wave
    from surveyapp.services.wave_results import earlier_waves
    from surveyapp.specs import SpecError

    if label is not None:
        try:
            candidates = find_waves([label], wave.questionnaire_version.key)
        except SpecError as error:
            raise PlanError("sd_wave: " + "; ".join(error.problems)) from error
    else:
        candidates = earlier_waves(wave)
    for candidate in candidates:
        frame = load_wave(candidate).frame
        if len(frame) >= MIN_SD_RESPONSES and "index" in frame:
            return _sds(candidate.label, frame)
    if label is not None:
        raise PlanError("sd_wave: " + both(f"测评批次{label}没有有效答卷",
                                           f"wave {label} has no valid responses"))
    return None


def _sds(label: str, frame: pd.DataFrame) -> LastWave:
    scores = frame[["district", "street", "index"]].dropna(subset=["index"])

    def sd_by(column: str, least: int) -> dict[str, float]:
        groups = scores.groupby(column)["index"]
        sd = groups.std(ddof=1)[groups.size() >= least]
        return {str(k): float(v) for k, v in sd.items()}

    means = scores.groupby(["district", "street"])["index"].mean().reset_index()
    between = means.groupby("district")["index"].std(ddof=1).dropna()
    return LastWave(label, sd_by("street", MIN_STREET_SD_RESPONSES),
                    sd_by("district", MIN_SD_RESPONSES),
                    {str(k): float(v) for k, v in between.items()},
                    float(scores["index"].std(ddof=1)))


def make_plan(wave: Wave, data: bytes, source_name: str, request: PlanRequest,
              created_by: str, sd_wave: str | None = None) -> SamplePlan:
    """Read the populations CSV, find the SD wave and make the plan (see :func:`create_plan`)."""
    streets = dict(db.session.execute(sa.select(Street.code, Street.district_code)).all())
    populations = read_populations(data, source_name, streets)
    return create_plan(wave, populations, source_name, request, created_by,
                       last_wave_sds(wave, sd_wave))


def create_plan(wave: Wave, populations: Mapping[str, int], source_name: str,
                request: PlanRequest, created_by: str, sds: LastWave | None) -> SamplePlan:
    """Allocate, draw and store the plan of ``wave`` (replacing an earlier one), and declare
    its design on the wave. Flushed, not committed; PlanError (or PopulationError) if it
    cannot be made."""
    _check_request(wave, request, sds)
    frame = _frame(wave, populations, source_name, sds)
    frame = _draw(frame, request)
    frame["target"] = _allocate(frame, request)
    old = plan_of(wave)
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    partial = bool((~frame["selected"]).any())
    wave.sample_design = "street_psu" if partial else "district_street"
    plan = SamplePlan(wave_id=wave.id, method=request.method, total=request.total,
                      min_per_street=request.min_per_street,
                      selection=request.selection if partial else "all",
                      streets_per_district=request.streets_per_district if partial else None,
                      seed=request.seed if partial else None, population_source=source_name,
                      sd_wave_label=sds.label if sds else None, created_by=created_by)
    plan.streets = [SamplePlanStreet(
        street_code=row.street, district_code=row.district, population=int(row.population),
        selected=bool(row.selected), inclusion_probability=float(row.pi), target=int(row.target),
        sd=_number(row.sd), between_sd=_number(row.between_sd)) for row in frame.itertuples()]
    db.session.add(plan)
    db.session.flush()
    return plan


def _check_request(wave: Wave, request: PlanRequest, sds: LastWave | None) -> None:
    from surveyapp.services.waves import WaveError, check_wave_design

    if request.method not in PLAN_METHODS:
        raise PlanError("method: " + both(f"应为{'、'.join(PLAN_METHODS)}之一",
                                          f"expected one of {', '.join(PLAN_METHODS)}"))
    if request.method == "neyman" and sds is None:
        raise PlanError("method: " + both(
            f"测评批次{wave.label}之前没有同一问卷且有答卷的批次，无法按Neyman分配（需要上一批次的标准差）；"
            "请指定 --sd-wave 或选择 proportional / sqrt",
            f"wave {wave.label}: no earlier wave of its questionnaire has responses, and Neyman "
            "allocation needs last wave's SDs; name one (--sd-wave) or use proportional / sqrt"))
    if request.min_per_street < 0 or request.total < 1:
        raise PlanError("total: " + both("总样本量应为正整数，每街道最少样本量不能为负",
                                         "expected a positive total and a minimum of 0 or more"))
    if has_responses(wave):
        raise PlanError("wave: " + both(
            f"测评批次{wave.label}已有答卷；抽样方案只能在收集开始前制定或替换",
            f"wave {wave.label} already has responses; a plan can be made or replaced only "
            "before collection starts"))
    if has_codes(wave):
        raise PlanError("wave: " + both(
            f"测评批次{wave.label}已发放邀请码；发放后不能再制定或替换抽样方案（已发的码可能属于未抽中的街道）",
            f"wave {wave.label} has invitation codes already; a plan cannot be made or replaced "
            "after codes are issued (they may belong to streets the new plan does not draw)"))
    try:
        check_wave_design(wave.label, wave.questionnaire_version,
                          [d.code for d in wave.districts], "district_street", wave.lonely_psu)
    except WaveError as error:
        raise PlanError(str(error)) from error


def _frame(wave: Wave, populations: Mapping[str, int], source_name: str,
           sds: LastWave | None) -> pd.DataFrame:
    streets = [(d.code, s.code) for d in wave.districts for s in d.streets]
    check_covers(populations, [code for _, code in streets], source_name)
    frame = pd.DataFrame(streets, columns=["district", "street"])
    frame["population"] = frame["street"].map(populations).astype(float)
    if sds is None:
        frame["sd"], frame["between_sd"] = np.nan, np.nan
    else:
        frame["sd"] = [sds.street.get(s, sds.district.get(d, sds.city)) for d, s in streets]
        frame["between_sd"] = frame["district"].map(sds.between).astype(float)
    return frame


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _draw(frame: pd.DataFrame, request: PlanRequest) -> pd.DataFrame:
    frame["selected"], frame["pi"] = True, 1.0
    m = request.streets_per_district
    if m is None:
        return frame
    if m < 1:
        raise PlanError("draw_streets: " + both("每区抽取的街道数应至少为1",
                                                "expected at least 1 street per district"))
    for district, rows in frame.groupby("district", sort=True):
        if m >= len(rows):
            continue
        drawn, pi = draw(request.selection, rows["population"].to_numpy(), m,
                         [request.seed, int(district)])
        frame.loc[rows.index, "selected"], frame.loc[rows.index, "pi"] = drawn, pi
    return frame


def _allocate(frame: pd.DataFrame, request: PlanRequest) -> pd.Series:
    target = pd.Series(0, index=frame.index)
    districts = frame.groupby("district", sort=True)
    chosen = frame[frame["selected"]]
    per_district = chosen.groupby("district", sort=True)
    sizes = districts["population"].sum()
    sd = districts.apply(lambda rows: _pooled_sd(rows), include_groups=False)
    try:
        shares = allocate(request.method, sizes.to_numpy(), request.total,
                          minimum=(per_district.size() * request.min_per_street).to_numpy(),
                          sds=sd.to_numpy() if request.method == "neyman" else None)
        for (district, rows), n in zip(per_district, shares, strict=True):
            target[rows.index] = allocate(
                request.method, rows["population"].to_numpy(), int(n),
                minimum=request.min_per_street,
                sds=rows["sd"].to_numpy() if request.method == "neyman" else None)
    except ValueError as error:
        raise PlanError("total: " + str(error)) from error
    return target


def _pooled_sd(rows: pd.DataFrame) -> float:
    """A district's SD for Neyman: its streets' SDs pooled by population."""
    weights = rows["population"] / rows["population"].sum()
    return float(np.sqrt(np.sum(weights * rows["sd"] ** 2)))


def has_responses(wave: Wave) -> bool:
    """Whether collection has started (then the plan is fixed)."""
    return db.session.scalar(sa.select(Response.id).where(Response.wave_id == wave.id)
                             .limit(1)) is not None


def has_codes(wave: Wave) -> bool:
    """Whether invitation codes were issued for the wave (then the plan is fixed too)."""
    return db.session.scalar(sa.select(InvitationCode.id).where(InvitationCode.wave_id == wave.id)
                             .limit(1)) is not None


def plan_of(wave: Wave) -> SamplePlan | None:
    return db.session.scalar(sa.select(SamplePlan).where(SamplePlan.wave_id == wave.id))


# --------------------------------------------------------------------- progress and precision

@dataclass(frozen=True)
class PlanRow:
    """One district (``street`` None) or street of a plan with the collection so far."""

    district: str
    street: str | None
    name_zh: str
    name_en: str
    population: int
    selected: bool
    inclusion_probability: float | None
    target: int
    valid: int
    half_width: float | None

    @property
    def share(self) -> float | None:
        return self.valid / self.target if self.target else None


def plan_table(wave: Wave, plan: SamplePlan) -> tuple[PlanRow, list[tuple[PlanRow, list[PlanRow]]]]:
    """The city total and, per district, its row and its streets' rows: population, target,
    valid responses so far (after exclusions) and the expected CI half-width."""
    rows = {(r.district_code, r.street_code): r for r in plan.streets}
    result = []
    for district, streets in wave_progress(wave):
        street_rows = []
        for tally in streets:
            planned = rows.get((district.district, tally.street))
            if planned is None:
                continue
            hw = (srs_half_width(planned.population, planned.target, planned.sd)
                  if planned.sd is not None and planned.selected else None)
            street_rows.append(PlanRow(district.district, tally.street, tally.name_zh,
                                       tally.name_en, planned.population, planned.selected,
                                       planned.inclusion_probability, planned.target,
                                       tally.responses - tally.excluded, hw))
        mine = [rows[k] for k in rows if k[0] == district.district]
        result.append((PlanRow(
            district.district, None, district.name_zh, district.name_en,
            sum(r.population for r in mine), any(r.selected for r in mine), None,
            sum(r.target for r in mine), district.responses - district.excluded,
            _district_half_width(mine)), street_rows))
    totals = [row for row, _ in result]
    city_hw = _combined([(r.population, r.half_width) for r in totals])
    city = PlanRow("", None, "全市", "all districts", sum(r.population for r in totals), True,
                   None, sum(r.target for r in totals), sum(r.valid for r in totals), city_hw)
    return city, result


def _district_half_width(rows: list[SamplePlanStreet]) -> float | None:
    drawn = [r for r in rows if r.selected]
    if not drawn or any(r.sd is None for r in drawn):
        return None
    within = stratified_half_width([r.population for r in drawn], [r.target for r in drawn],
                                   [r.sd for r in drawn]) / Z95
    if len(drawn) == len(rows):
        return Z95 * within
    between = rows[0].between_sd
    if between is None:
        return None
    m, big_m = len(drawn), len(rows)
    return Z95 * math.sqrt(within ** 2 + (1 - m / big_m) * between ** 2 / m)


def _combined(parts: list[tuple[int, float | None]]) -> float | None:
    """Districts as strata: z·√(Σ W_h² (hw_h/z)²)."""
    if not parts or any(hw is None for _, hw in parts):
        return None
    total = sum(p for p, _ in parts)
    return Z95 * math.sqrt(sum((p / total) ** 2 * (hw / Z95) ** 2 for p, hw in parts))


def plan_json(wave: Wave, scope: list[str] | None = None) -> dict | None:
    """The plan and its table, JSON-ready (the API's body); ``scope``: the districts the
    caller may see (None: all, with the city line)."""
    plan = plan_of(wave)
    if plan is None:
        return None
    city, districts = plan_table(wave, plan)

    def row(r: PlanRow) -> dict:
        return {"code": r.street or r.district or None, "name": {"zh": r.name_zh, "en": r.name_en},
                "population": r.population, "selected": r.selected,
                "inclusion_probability": r.inclusion_probability, "target": r.target,
                "valid_responses": r.valid, "expected_half_width": r.half_width}
    return {
        "method": plan.method, "total": plan.total, "min_per_street": plan.min_per_street,
        "selection": plan.selection, "streets_per_district": plan.streets_per_district,
        "seed": plan.seed, "sample_design": wave.sample_design,
        "population_source": plan.population_source, "sd_wave": plan.sd_wave_label,
        "city": row(city) if scope is None else None,
        "districts": [{**row(total), "streets": [row(s) for s in streets]}
                      for total, streets in districts if scope is None or total.district in scope],
    }


# ------------------------------------------------------------------------------ invitations

def plan_invitations(wave: Wave, plan: SamplePlan) -> list[tuple[str, str, str]]:
    """Codes for every drawn street up to its target (codes already issued for the street
    count), as (district, street, code); the plain codes exist only in the return value."""
    issued = dict(db.session.execute(
        sa.select(InvitationCode.street_code, sa.func.count())
        .where(InvitationCode.wave_id == wave.id).group_by(InvitationCode.street_code)).all())
    codes = []
    for row in plan.streets:
        missing = row.target - issued.get(row.street_code, 0)
        if row.selected and missing > 0:
            codes += [(row.district_code, row.street_code, code)
                      for code in generate_codes(wave, row.district_code, missing,
                                                 row.street_code)]
    return codes
