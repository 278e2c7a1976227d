"""A wave's declared sample design, turned into the arguments of ``analysis.SurveyDesign``.

Each wave records how its sample was drawn (``Wave.sample_design`` and ``Wave.lonely_psu``),
chosen when it is created. Reports, ``surveyapp estimate`` and API runs (unless their spec
names a design of its own), ``load_responses`` and the exports' R snippets all take their
design from :func:`design_for_wave`, so one wave publishes one set of numbers on every path.

The declared designs (``SAMPLE_DESIGNS``):

``district``
    A stratified sample by district (quotas per district), each response its own unit:
    strata = district. What reports have always used; the default.
``district_street``
    Districts as strata with every street of each district covered as a stratum inside it
    (as Hongkou's surveys of all 8 streets): strata = district/street, each response its
    own unit.
``street_psu``
    Streets sampled as primary units within district strata, residents sampled within the
    sampled streets: two stages, psu = [street, response], the first stage's fpc being the
    number of streets the geography lists for the district (its frame count), the second
    with replacement (the street's number of residents is not known: an infinite fpc, as
    ``fpc = ~streets + Inf`` in R).

A wave with a sampling plan (surveyapp.services.plans) declares one of the street designs
and its weights: each response's design weight is 1/π(street) x the street's adult population
/ the street's valid responses, π the street's inclusion probability in the plan (1 when every
street is covered). Streets drawn by PPS have unequal π within a district, which an fpc
column cannot express, so their first stage is taken as drawn with replacement (no fpc: the
usual Hansen-Hurwitz approximation, slightly conservative); streets drawn by SRS keep the
frame-count fpc. A response from a street the plan did not draw is refused.

The lonely-PSU rule (``LONELY_PSU_RULES``, R's ``survey.lonely.psu``) says what a stratum with
a single unit contributes; under "fail" such a stratum is refused here, before any estimate,
with a message naming the wave and the stratum.

Street estimates. A street estimate never comes from a design in which the street is the
primary unit; :meth:`PreparedDesign.for_domain` gives it a within-street variance instead.
Why: with streets as PSUs a street domain is one PSU, and its linearised total is exactly zero
(a domain mean's influence values sum to zero over the domain), so the between-PSU term
vanishes. Without an fpc the standard error is 0 (the 1e-15 of issue 9); with a first-stage
fpc only the second stage scaled by n1/N1 remains, too small by that factor. A street
estimate is about the residents of that street, a population fixed once the street is in
the sample; the only sampling variation left is which of its residents answered. That is the
variance of a design stratified by street (inside the original strata) with the responses
as units - the variance R gives a certainty PSU (first-stage fpc 1) in the two-stage design -
and is what ``for_domain`` builds: the PSU joins the strata and the next stage's units (the
responses) become the units. District and city estimates keep the full declared design.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analysis.design import SurveyDesign
from surveyapp.choices import DEFAULT_LONELY_PSU
from surveyapp.extensions import db
from surveyapp.models.plans import SamplePlan
from surveyapp.models.survey import Wave
from surveyapp.services.declared_design import (
    DeclaredDesign,
    DesignError,
    both,
    street_frame_counts,
)

# Columns prepare_design adds to the responses (exported with them, so R rebuilds the design).
DESIGN_WEIGHT = "design_weight"  # base weights: equal, or a plan's; raking does the rest
STREET_STRATUM = "district_street"  # "<district>/<street>": streets as strata inside districts
STREET_FRAME_COUNT = "streets_in_district"  # the first stage's fpc: streets in the frame
RESIDENT_FPC = "residents_in_street"  # the second stage's fpc: unknown, so infinite
RESPONSE_UNIT = "response_id"

@dataclass(frozen=True)
class DesignArguments:
    """Column names for ``SurveyDesign``: strata, PSU stages, fpc per stage, lonely rule."""

    strata: str | None
    psu: tuple[str, ...] = ()
    fpc: tuple[str, ...] = ()
    lonely_psu: str = DEFAULT_LONELY_PSU

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``SurveyDesign`` (without ``weights``)."""
        def stages(names: tuple[str, ...]) -> str | list[str] | None:
            return None if not names else names[0] if len(names) == 1 else list(names)
        return {"strata": self.strata, "psu": stages(self.psu), "fpc": stages(self.fpc),
                "lonely_psu": self.lonely_psu}


@dataclass(frozen=True)
class PreparedDesign:
    """The responses with the columns the design needs, and the design's arguments.

    ``source`` is "wave" (the wave's declared design) or "spec" (an estimate spec's own).
    """

    wave_label: str
    frame: pd.DataFrame
    arguments: DesignArguments
    declared: DeclaredDesign
    source: str = "wave"

    def survey_design(self) -> SurveyDesign:
        """The unweighted design (equal base weights), ready for raking."""
        return SurveyDesign(self.frame, weights=DESIGN_WEIGHT, **self.arguments.kwargs())

    def for_domain(self, domain: str | None) -> PreparedDesign:
        """The design for estimates by ``domain``: itself, unless ``domain`` is the first-stage
        PSU; then that PSU joins the strata and the next stage's units are the units (the
        street rule in this module's docstring)."""
        args = self.arguments
        if domain is None or not args.psu or args.psu[0] != domain:
            return self
        column = (STREET_STRATUM if (args.strata, domain) == ("district", "street") else
                  f"{args.strata}/{domain}" if args.strata else domain)
        if args.strata and column not in self.frame:
            self.frame[column] = _joined(self.frame[args.strata], self.frame[domain])
        psu, fpc = args.psu[1:], args.fpc[1:]
        if psu == (RESPONSE_UNIT,) and fpc in ((), (RESIDENT_FPC,)):
            psu, fpc = (), ()  # responses with replacement: the same as no PSU
        local = replace(args, strata=column, psu=psu, fpc=fpc)
        _check_lonely(self.frame, local, self.wave_label)
        return replace(self, arguments=local)

    def note(self) -> dict[str, Any]:
        """JSON-ready: where the design came from and what it is (for run results)."""
        note: dict[str, Any] = {"source": self.source, "declared": self.declared.kind,
                                "declared_lonely_psu": self.declared.lonely_psu}
        note.update(self.arguments.kwargs())
        return note


def design_for_wave(wave: Wave, frame: pd.DataFrame, override: Any = None) -> PreparedDesign:
    """The one way to a wave's design: its declared design, or ``override`` (a spec's
    ``surveyapp.specs.Design``) when given. Adds the design's columns to ``frame`` in place;
    raises DesignError when the design does not fit the data."""
    declared = DeclaredDesign.of(wave)
    if override is not None:
        arguments = DesignArguments(override.strata, (override.psu,) if override.psu else (),
                                    (), override.lonely_psu)
        frame[DESIGN_WEIGHT] = 1.0
        _check_lonely(frame, arguments, wave.label)
        return PreparedDesign(wave.label, frame, arguments, declared, "spec")
    counts = (street_frame_counts(set(frame["district"].unique()))
              if declared.kind == "street_psu" else {})
    plan = db.session.scalar(sa.select(SamplePlan).where(SamplePlan.wave_id == wave.id))
    prepared = prepare_design(frame, declared, wave_label=wave.label, street_counts=counts)
    return prepared if plan is None else _with_plan(prepared, plan)


def _with_plan(prepared: PreparedDesign, plan: SamplePlan) -> PreparedDesign:
    """The plan's design weights on the responses and, for PPS streets, no first-stage fpc."""
    frame = prepared.frame
    streets = {row.street_code: row for row in plan.streets if row.selected}
    unplanned = sorted(set(frame["street"].dropna()) - set(streets))
    if unplanned:
        raise DesignError(both(
            f"测评批次{prepared.wave_label}：街道{unplanned[0]}不在抽样方案抽中的街道中",
            f"wave {prepared.wave_label}: street {unplanned[0]} was not drawn by the wave's "
            "sampling plan; expected responses from drawn streets only"))
    size = frame.groupby("street")["street"].transform("size")
    population = frame["street"].map({k: r.population for k, r in streets.items()})
    pi = frame["street"].map({k: r.inclusion_probability for k, r in streets.items()})
    frame[DESIGN_WEIGHT] = (population / size / pi).astype(float)
    if plan.selection != "pps":
        return prepared
    return replace(prepared, arguments=replace(prepared.arguments, fpc=()))


def prepare_design(frame: pd.DataFrame, declared: DeclaredDesign, *, wave_label: str,
                   street_counts: Mapping[str, int] | None = None) -> PreparedDesign:
    """``declared`` on ``frame`` (columns district, street, response_id): adds the design's
    columns in place and checks the fit. ``street_counts``: streets per district in the
    frame (the geography), needed by "street_psu"."""
    frame[DESIGN_WEIGHT] = 1.0
    if declared.kind == "district":
        arguments = DesignArguments("district", lonely_psu=declared.lonely_psu)
    else:
        _check_streets_known(frame, declared, wave_label)
        frame[STREET_STRATUM] = _joined(frame["district"], frame["street"])
        if declared.kind == "district_street":
            arguments = DesignArguments(STREET_STRATUM, lonely_psu=declared.lonely_psu)
        else:
            frame[STREET_FRAME_COUNT] = _frame_counts(frame, street_counts or {}, wave_label)
            frame[RESIDENT_FPC] = np.inf
            arguments = DesignArguments("district", ("street", RESPONSE_UNIT),
                                        (STREET_FRAME_COUNT, RESIDENT_FPC), declared.lonely_psu)
    _check_lonely(frame, arguments, wave_label)
    return PreparedDesign(wave_label, frame, arguments, declared)


def _check_streets_known(frame: pd.DataFrame, declared: DeclaredDesign, wave_label: str) -> None:
    missing = frame.loc[frame["street"].isna(), "district"]
    if len(missing):
        district = str(missing.iloc[0])
        raise DesignError(both(
            f"测评批次{wave_label}：区{district}有{int((missing == district).sum())}份答卷没有街道；"
            f"抽样设计{declared.kind}要求每份答卷都有街道（或为本批次选择 district 设计）",
            f"wave {wave_label}: {int((missing == district).sum())} responses of district "
            f"{district} have no street; design {declared.kind} expects every response to "
            "name its street (or design district for the wave)"))


def _frame_counts(frame: pd.DataFrame, counts: Mapping[str, int], wave_label: str) -> pd.Series:
    sampled = frame.groupby("district", sort=True)["street"].nunique()
    for district, n in sampled.items():
        total = counts.get(district, 0)
        if total == 0:
            raise DesignError(both(
                f"测评批次{wave_label}：区{district}缺少街道总数（地理文件中没有其街道），"
                "设计street_psu的有限总体校正需要它",
                f"wave {wave_label}: district {district} has no frame count of streets (the "
                "geography lists none); design street_psu expects it for the fpc"))
        if n > total:
            raise DesignError(both(
                f"测评批次{wave_label}：区{district}的答卷来自{n}个街道，多于地理文件中的{total}个",
                f"wave {wave_label}: responses of district {district} come from {n} streets, "
                f"more than the {total} of its frame (geography); expected at most {total}"))
    return frame["district"].map(dict(counts)).astype(float)


def _check_lonely(frame: pd.DataFrame, arguments: DesignArguments, wave_label: str) -> None:
    """Under rule "fail", DesignError naming the first stratum with a single unit (at either
    stage) that is not a certainty unit (all of its stratum's frame sampled)."""
    if arguments.lonely_psu != "fail" or frame.empty:
        return
    rows = pd.Series(np.arange(len(frame)), index=frame.index)
    strata = frame[arguments.strata] if arguments.strata else pd.Series("", index=frame.index)
    levels = [(strata, frame[arguments.psu[0]] if arguments.psu else rows,
               frame[arguments.fpc[0]] if arguments.fpc else None)]
    if len(arguments.psu) == 2:
        inner = _joined(strata, frame[arguments.psu[0]])
        levels.append((inner, frame[arguments.psu[1]],
                       frame[arguments.fpc[1]] if len(arguments.fpc) == 2 else None))
    for stage, (stratum, unit, fpc) in enumerate(levels, start=1):
        units = unit.groupby(stratum, sort=True).nunique()
        lonely = units[units == 1]
        if fpc is not None:
            size = fpc.groupby(stratum, sort=True).first()
            lonely = lonely[size.reindex(lonely.index) != 1]  # 1 of 1: a certainty unit
        if len(lonely):
            _raise_lonely(wave_label, str(lonely.index[0]) or "(all)", stage, arguments)


def _raise_lonely(wave_label: str, stratum: str, stage: int, arguments: DesignArguments) -> None:
    units_en = "responses" if stage == 2 or not arguments.psu else f"{arguments.psu[0]}s"
    units_zh = "份答卷" if units_en == "responses" else "个初级抽样单位"
    raise DesignError(both(
        f"测评批次{wave_label}：层{stratum}（第{stage}阶段）只有1个单位；单一单位规则为fail，"
        f"每层至少需要2{units_zh}，或为本批次选择其他规则（如 adjust）",
        f"wave {wave_label}: stratum {stratum} (stage {stage}) has a single unit under the "
        f"lonely-PSU rule fail; expected at least 2 {units_en} per stratum, or another rule "
        "(e.g. adjust) for the wave"))


def _joined(outer: pd.Series, inner: pd.Series) -> pd.Series:
    return outer.astype(str) + "/" + inner.astype(str)
