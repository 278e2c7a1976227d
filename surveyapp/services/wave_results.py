"""A wave analysed for reporting: weighted estimates of every score, city-wide and by district.

One analysis serves every report of the wave (16 district reports and the city report share it):
responses are loaded after exclusions and scored as the analyst tools do
(`surveyapp.services.estimation.load_wave`), weighted by raking to population margins, and every
score is estimated for each district and the whole city in one grouped pass per score.

The design is the wave's declared sample design (surveyapp.services.sample_design, the same
function `surveyapp estimate` uses), raked on district x sex and district x age group; street
estimates use that module's street design (never the street as the PSU). Without usable
margins the estimates are unweighted and the reason is kept for the report to show.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analysis import SurveyDesign
from surveyapp.extensions import db
from surveyapp.models.margins import MarginSet
from surveyapp.models.quality import QualityFlag
from surveyapp.models.survey import QuestionnaireVersion, Response, Wave, as_utc
from surveyapp.questionnaires import Questionnaire
from surveyapp.services.declared_design import DeclaredDesign
from surveyapp.services.estimation import load_wave, margin_targets
from surveyapp.services.sample_design import PreparedDesign, design_for_wave
from surveyapp.specs import SpecError

CITY = "(city)"
RAKE_EPSILON = 1.0  # R's default: one person of the margins' counts
RAKE_MAX_ITER = 50


@dataclass(frozen=True)
class WeightingOutcome:
    """Which margins weighted the wave and how the raking went; ``reason`` when unweighted."""

    margin_set: str | None
    reason: str | None
    targets: dict
    converged: bool | None = None
    iterations: int | None = None
    misfit: float | None = None

    @property
    def weighted(self) -> bool:
        return self.margin_set is not None


@dataclass(frozen=True)
class WaveInfo:
    """The wave's facts a report needs, detached from the database session (results are
    cached between requests)."""

    id: int
    label: str
    questionnaire_key: str
    opens_at: datetime
    closes_at: datetime
    districts: tuple[str, ...]
    design: DeclaredDesign = DeclaredDesign()

    @classmethod
    def of(cls, wave: Wave) -> WaveInfo:
        return cls(wave.id, wave.label, wave.questionnaire_version.key, as_utc(wave.opens_at),
                   as_utc(wave.closes_at), tuple(d.code for d in wave.districts),
                   DeclaredDesign.of(wave))


@dataclass(frozen=True)
class WaveResults:
    """Estimates of one wave: ``scores[column]`` is indexed by district code plus ``CITY``.

    Columns of each table: estimate, se, ci_low, ci_high, df, deff, n (as `SurveyDesign.mean`).
    ``streets`` holds the index by street code; ``frame`` the scored responses with ``weight``.
    ``design`` is the weighted design behind the estimates (for analyses that need more than
    means, such as replicate refits of the latent index).
    """

    wave: WaveInfo
    questionnaire: Questionnaire
    frame: pd.DataFrame
    weighting: WeightingOutcome
    scores: dict[str, pd.DataFrame]
    streets: pd.DataFrame
    excluded: dict[str, int]
    design: SurveyDesign | None = None


class PinnedMarginsError(ValueError):
    """The margin set a wave is pinned to no longer fits it (districts missing, rake fails).

    An error rather than a fallback: a pinned wave's published numbers must not change
    silently to another set's weighting.
    """


@dataclass(frozen=True)
class MarginChoice:
    """Which margin set weights a wave and why: ``source`` is "explicit" (asked for by name),
    "pinned" (the wave's own set) or "automatic" (``name`` None: the newest set that fits)."""

    name: str | None
    source: str


def choose_margins(wave: Wave, margins: str | None = None) -> MarginChoice:
    """The one rule for a wave's margins: an explicit name wins, else the wave's pinned set,
    else the automatic choice (the newest fitting set, official before demo)."""
    if margins:
        return MarginChoice(margins, "explicit")
    if wave.margin_set is not None:
        return MarginChoice(wave.margin_set.name, "pinned")
    return MarginChoice(None, "automatic")


def analyse_wave(wave: Wave, margins: str | None = None) -> WaveResults:
    """Load, score, weight and estimate ``wave``; ``margins`` names a margin set to use.

    The set is chosen by `choose_margins`. An explicit or pinned set must fit (SpecError,
    ValueError or PinnedMarginsError otherwise); the automatic choice falls back to unweighted
    estimates, with the reason, when no set fits.
    """
    choice = choose_margins(wave, margins)
    data = load_wave(wave)
    frame = data.frame
    if frame.empty:
        raise ValueError(f"测评批次{wave.label}没有可报告的有效答卷 / wave {wave.label}: no "
                         "responses to report on (after exclusions)")
    prepared = design_for_wave(wave, frame)
    try:
        design, weighting = _weight(prepared.survey_design(), frame, choice.name)
    except ValueError as exc:  # SpecError too
        if choice.source != "pinned":
            raise
        detail = "; ".join(getattr(exc, "problems", None) or [str(exc)])
        raise PinnedMarginsError(
            f"测评批次{wave.label}固定的权重边际{choice.name}不再适用，请在管理页面更改或取消固定 / "
            f"wave {wave.label}: its pinned margin set {choice.name!r} no longer fits ({detail}); "
            "pin another set or clear the pin on the admin page") from exc
    frame = frame.assign(weight=design.weights)
    columns = ["index", "overall", *(f"dim_{d.id}" for d in data.questionnaire.dimensions),
               *(f"item_{i.id}" for i in data.questionnaire.items)]
    scores = {column: _by_district(design, column) for column in columns if column in frame}
    streets = (_street_design(prepared, design, weighting).mean("index", by="street")
               if frame["street"].notna().any() else pd.DataFrame())
    return WaveResults(WaveInfo.of(wave), data.questionnaire, frame, weighting, scores, streets,
                       _excluded_counts(wave), design)


def _street_design(prepared: PreparedDesign, design: SurveyDesign, weighting: WeightingOutcome
                   ) -> SurveyDesign:
    """The design for street estimates: ``design`` unless streets are its PSUs; then the
    within-street design of sample_design, raked to the same targets (same weights)."""
    local = prepared.for_domain("street")
    if local is prepared:
        return design
    if not weighting.weighted:
        return local.survey_design()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as in _weight: convergence is shown in the method
        return local.survey_design().rake(weighting.targets, epsilon=RAKE_EPSILON,
                                          max_iter=RAKE_MAX_ITER)


def _by_district(design: SurveyDesign, column: str) -> pd.DataFrame:
    table = design.mean(column, by="district")
    whole = design.mean(column)
    table.loc[CITY] = [getattr(whole, name) for name in table.columns]
    return table


def _weight(design: SurveyDesign, frame: pd.DataFrame, requested: str | None
            ) -> tuple[SurveyDesign, WeightingOutcome]:
    districts = set(frame["district"].unique())
    candidates = [requested] if requested else [s.name for s in ranked_margin_sets()]
    reasons = []
    for name in candidates:
        try:
            targets = margin_targets(name, (), districts)
        except SpecError as exc:
            if requested:
                raise
            reasons.append(f"{name}: {exc}")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # non-convergence is shown in the method section
                raked = design.rake(targets, epsilon=RAKE_EPSILON, max_iter=RAKE_MAX_ITER)
        except ValueError as exc:  # e.g. a target category nobody in the sample belongs to
            if requested:
                raise
            reasons.append(f"{name}: {exc}")
            continue
        info = raked.rake_info
        return raked, WeightingOutcome(name, None, targets, bool(info.converged),
                                       int(info.iterations), float(info.misfit))
    reason = "; ".join(reasons) if reasons else "no margin set uploaded"
    return design, WeightingOutcome(None, reason, {})


def ranked_margin_sets() -> list[MarginSet]:
    """Margin sets in the order the automatic choice tries them: official before demo,
    newest first (also the order the admin page offers them for pinning)."""
    return list(db.session.scalars(
        sa.select(MarginSet).order_by(MarginSet.is_demo, MarginSet.created_at.desc(),
                                      MarginSet.id.desc())))


def _excluded_counts(wave: Wave) -> dict[str, int]:
    """Responses excluded in the data-quality review, by district."""
    rows = db.session.execute(
        sa.select(Response.district_code, sa.func.count(sa.distinct(Response.id)))
        .join(QualityFlag, QualityFlag.response_id == Response.id)
        .where(Response.wave_id == wave.id, QualityFlag.excluded)
        .group_by(Response.district_code)
    ).all()
    return {district: int(count) for district, count in rows}


def earlier_waves(wave: Wave) -> list[Wave]:
    """Waves of the same questionnaire that opened before ``wave``, the most recent first."""
    key = wave.questionnaire_version.key
    return list(db.session.scalars(
        sa.select(Wave)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Wave.questionnaire_version_id)
        .where(QuestionnaireVersion.key == key, Wave.opens_at < wave.opens_at)
        .order_by(Wave.opens_at.desc(), Wave.id.desc())
    ))


def achieved_margins(results: WaveResults) -> pd.DataFrame:
    """Each raking target with the weighted count achieved: district, variable, category,
    target, achieved."""
    rows = []
    frame = results.frame
    for (_, variable), targets in results.weighting.targets.items():
        sums = frame.groupby(["district", variable])["weight"].sum()
        for (district, category), target in targets.items():
            rows.append((district, variable, category, float(target),
                         float(sums.get((district, category), np.nan))))
    return pd.DataFrame(rows, columns=["district", "variable", "category", "target", "achieved"])
