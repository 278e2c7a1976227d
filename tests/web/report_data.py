"""Two waves of responses in Hongkou and Yangpu for the report tests, and the engine's own
figures for them, computed here directly with `analysis` so the reports can be checked against
the engine rather than against hard-coded numbers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from analysis import SurveyDesign
from analysis.scoring import score
from surveyapp.extensions import db
from surveyapp.models.survey import District, Wave, utcnow
from surveyapp.queries import responses_frame
from surveyapp.services.margins import MarginInput, store_margins
from tests.web.factories import HONGKOU, make_response, make_wave, questionnaire_for

YANGPU = "310110"
SEXES = ("male", "female")
AGES = ("18-29", "30-44", "45-59", "60+")
SUPPRESS_BELOW = 10
SHOWN_STREET_RESPONSES = 12  # first Hongkou street: at least SUPPRESS_BELOW
HIDDEN_STREET_RESPONSES = 4  # second Hongkou street: suppressed
# Third Hongkou street: enough responses, but the smallest such street, so it is withheld as
# the complement of the hidden one (else the district figure minus the first would reveal it).
COMPLEMENT_STREET_RESPONSES = 10
EARLIER_RESPONSES = 12  # per district in 2023: both districts published
YANGPU_RESPONSES = 12  # in 2024: published, so neither district hides the other


@dataclass(frozen=True)
class ReportWaves:
    earlier: Wave
    current: Wave
    shown_street: str
    hidden_street: str
    complement_street: str


def _respond(wave: Wave, district: str, street: str | None, count: int, seed: int) -> None:
    for i in range(count):
        make_response(wave, district=district, street=street, seed=seed + i,
                      sex=SEXES[i % 2], age_group=AGES[i % 4])


def make_report_waves() -> ReportWaves:
    """2023 (closed) and 2024 (open), each with Hongkou and Yangpu responses."""
    now = utcnow()
    earlier = make_wave("2023", districts=[HONGKOU, YANGPU], opens_at=now - timedelta(days=400),
                        closes_at=now - timedelta(days=300))
    current = make_wave("2024", districts=[HONGKOU, YANGPU])
    streets = [s.code for s in db.session.get(District, HONGKOU).streets]
    _respond(earlier, HONGKOU, streets[0], EARLIER_RESPONSES, seed=100)
    _respond(earlier, YANGPU, None, EARLIER_RESPONSES, seed=200)
    _respond(current, HONGKOU, streets[0], SHOWN_STREET_RESPONSES, seed=300)
    _respond(current, HONGKOU, streets[1], HIDDEN_STREET_RESPONSES, seed=400)
    _respond(current, HONGKOU, streets[2], COMPLEMENT_STREET_RESPONSES, seed=600)
    _respond(current, YANGPU, None, YANGPU_RESPONSES, seed=500)
    return ReportWaves(earlier, current, streets[0], streets[1], streets[2])


def add_older_wave(label: str, days_ago: int, seed: int) -> Wave:
    """One more closed wave before 2023, with responses in both districts, so that a report
    compares with two earlier waves (one change column each)."""
    now = utcnow()
    wave = make_wave(label, districts=[HONGKOU, YANGPU], opens_at=now - timedelta(days=days_ago),
                     closes_at=now - timedelta(days=days_ago - 60))
    streets = [s.code for s in db.session.get(District, HONGKOU).streets]
    _respond(wave, HONGKOU, streets[0], EARLIER_RESPONSES, seed=seed)
    _respond(wave, YANGPU, None, EARLIER_RESPONSES, seed=seed + 100)
    return wave


def store_test_margins(wave: Wave, name: str = "census-test") -> None:
    """Margins for both districts: every sex and age group, each variable summing alike."""
    rows = []
    for district, people in ((HONGKOU, 760_000), (YANGPU, 1_240_000)):
        rows += [MarginInput(district, "sex", sex, people // 2) for sex in SEXES]
        rows += [MarginInput(district, "age_group", age, people // 4) for age in AGES]
    _, problems = store_margins(name, "test margins", rows, questionnaire_for(wave))
    assert problems == [], problems
    db.session.commit()


def engine_design(wave: Wave, margins: dict | None = None) -> SurveyDesign:
    """The wave's scored responses as the engine's design, raked when ``margins`` are given."""
    questionnaire = questionnaire_for(wave)
    items = [item.id for item in questionnaire.items]
    frame = responses_frame(wave.id, item_ids=items)
    scored = pd.concat([frame, score(frame[items], questionnaire.to_scoring_spec())], axis=1)
    design = SurveyDesign(scored, strata="district", lonely_psu="adjust")
    return design.rake(margins, epsilon=1.0, max_iter=50) if margins else design


def engine_margins() -> dict:
    """The test margins in the form `SurveyDesign.rake` takes."""
    return {
        ("district", "sex"): {(d, s): n // 2 for d, n in ((HONGKOU, 760_000), (YANGPU, 1_240_000))
                              for s in SEXES},
        ("district", "age_group"): {(d, a): n // 4 for d, n in ((HONGKOU, 760_000),
                                                                 (YANGPU, 1_240_000))
                                    for a in AGES},
    }
