"""A small two-wave, two-district world for the estimate, export, data and API tests."""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.survey import Answer, District, Response, Wave, as_utc
from surveyapp.services.margins import MarginInput, demographic_categories, store_margins
from tests.web.factories import make_wave, questionnaire_for, random_answers, random_demographics

HONGKOU, YANGPU = "310109", "310110"
DISTRICTS = (HONGKOU, YANGPU)
MARGINS = "census-test"
PER_WAVE = 40
# Population shares that differ from the factories' uniform draws, so raking moves weights.
SEX_SHARES = {"male": 0.3, "female": 0.7}
POPULATION = 100_000


@dataclass
class World:
    waves: dict[str, Wave]
    margins: str = MARGINS


def build_world(per_wave: int = PER_WAVE) -> World:
    """Waves 2023 (closed) and 2024 (open) of the citizen survey, responses and margins."""
    waves = {
        "2023": make_wave("2023", districts=DISTRICTS, open=False),
        "2024": make_wave("2024", districts=DISTRICTS),
    }
    add_responses(waves["2023"], per_wave, seed=23)
    add_responses(waves["2024"], per_wave, seed=24)
    questionnaire = questionnaire_for(waves["2024"])
    rows = []
    for district in DISTRICTS:
        for variable, values in demographic_categories(questionnaire).items():
            if variable not in ("sex", "age_group"):
                continue
            shares = [SEX_SHARES[v] for v in values] if variable == "sex" else [
                1 / len(values)] * len(values)
            counts = [round(POPULATION * s) for s in shares]
            counts[0] += POPULATION - sum(counts)
            rows += [MarginInput(district, variable, v, n) for v, n in zip(values, counts)]
    _, problems = store_margins(MARGINS, "test", rows, questionnaire)
    assert not problems, problems
    db.session.commit()
    return World(waves)


def add_responses(wave: Wave, count: int, seed: int, comments: tuple[str, ...] = ()) -> list[str]:
    """``count`` random valid responses in one bulk insert (the factories' values, but fast).

    The first responses get ``comments`` as their free text. Returns the new response ids.
    """
    rng = random.Random(seed)
    questionnaire = questionnaire_for(wave)
    streets = {d.code: [s.code for s in db.session.get(District, d.code).streets]
               for d in wave.districts}
    start = as_utc(wave.opens_at) + timedelta(hours=1)
    responses, answers = [], []
    for i in range(count):
        district = rng.choice(sorted(streets))
        response_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        responses.append({
            "id": response_id, "wave_id": wave.id,
            "questionnaire_hash": wave.questionnaire_version.content_hash,
            "district_code": district, "street_code": rng.choice(streets[district]),
            "comment": comments[i] if i < len(comments) else None,
            "language": rng.choice(["zh", "en"]), "channel": "web",
            "submitted_at": start + timedelta(minutes=i),
            "duration_seconds": rng.randint(120, 900), **random_demographics(questionnaire, rng)})
        answers += [{"response_id": response_id, "wave_id": wave.id, "item_id": item,
                     "value": value}
                    for item, value in random_answers(questionnaire, rng).items()]
    db.session.execute(sa.insert(Response), responses)
    db.session.execute(sa.insert(Answer), answers)
    db.session.commit()
    return [r["id"] for r in responses]


@pytest.fixture
def world(app) -> World:
    return build_world()
