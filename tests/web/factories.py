"""Test helpers that build waves, responses and valid form posts from the shipped files.

Every helper commits, because the test client's requests use their own database sessions.
Typical use::

    wave = make_wave()                                   # citizen 2024, Hongkou, open now
    wave = make_wave("2023", districts=["310109", "310110"], open=False)   # closed
    make_responses(wave, 50, seed=1)                     # plausible random responses
    data = form_post(client, wave)                       # a valid POST body for the form
"""
from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app
from werkzeug.serving import make_server

from surveyapp.extensions import db
from surveyapp.models.survey import (
    Answer,
    District,
    QuestionnaireVersion,
    Response,
    Wave,
    as_utc,
    utcnow,
)
from surveyapp.questionnaires import Geography, Questionnaire, load_geography, parse_questionnaire
from surveyapp.services.catalog import questionnaire_of, sync_geography, sync_questionnaire
from surveyapp.services.submission import Submission, submit_response
from surveyapp.services.waves import create_wave

HONGKOU = "310109"


def sync_shipped() -> dict[str, QuestionnaireVersion]:
    """Load the shipped questionnaires and geography into the database; versions by key.

    Does what services.catalog.sync_catalog does, with the files parsed once per test session.
    """
    geographies, questionnaires = _parsed_files(current_app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
    for geography in geographies:
        sync_geography(geography)
    versions = [sync_questionnaire(questionnaire, text) for questionnaire, text in questionnaires]
    db.session.commit()
    return {version.key: version for version in versions}


@lru_cache(maxsize=4)
def _parsed_files(directory: str) -> tuple[tuple[Geography, ...], tuple[tuple[Questionnaire, str], ...]]:
    root = Path(directory)
    geographies = tuple(load_geography(path) for path in sorted((root / "geography").glob("*.yaml")))
    texts = [path.read_text(encoding="utf-8") for path in sorted(root.glob("*.yaml"))]
    paths = sorted(root.glob("*.yaml"))
    return geographies, tuple(
        (parse_questionnaire(text, path.name), text) for path, text in zip(paths, texts)
    )


def make_wave(
    label: str = "2024",
    questionnaire: str = "citizen",
    districts: Iterable[str] = (HONGKOU,),
    mode: str = "open",
    open: bool = True,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    sample_design: str = "district",
    lonely_psu: str = "adjust",
    kiosk: bool = False,
) -> Wave:
    """A wave of a shipped questionnaire: open now (default), or closed a day ago if not ``open``.

    Pass ``opens_at``/``closes_at`` for other windows (e.g. a wave that opens tomorrow), and
    ``sample_design``/``lonely_psu`` for its declared design.
    """
    version = sync_shipped()[questionnaire]
    now = utcnow()
    if opens_at is None:
        opens_at = now - timedelta(days=30 if open else 60)
    if closes_at is None:
        closes_at = now + timedelta(days=30) if open else now - timedelta(days=1)
    wave = create_wave(label, version, districts, opens_at, closes_at, mode, sample_design,
                       lonely_psu, kiosk=kiosk)
    db.session.commit()
    return wave


def questionnaire_for(wave: Wave) -> Questionnaire:
    return questionnaire_of(wave.questionnaire_version)


def random_answers(questionnaire: Questionnaire, rng: random.Random) -> dict[str, int]:
    """A value for every item, mostly in the upper half, sometimes "don't know"."""
    answers = {}
    for item in questionnaire.items:
        scale = questionnaire.scales[item.scale]
        if scale.dont_know and rng.random() < 0.05:
            answers[item.id] = scale.dont_know.value
        else:
            answers[item.id] = rng.choice(scale.values[len(scale.values) // 2:])
    return answers


def random_demographics(questionnaire: Questionnaire, rng: random.Random) -> dict[str, str]:
    return {d.id: rng.choice(d.choices).value for d in questionnaire.demographics
            if d.kind == "choice"}


def make_response(
    wave: Wave,
    district: str | None = None,
    street: str | None = None,
    answers: Mapping[str, int] | None = None,
    seed: int = 0,
    channel: str = "demo",
    language: str = "zh",
    submitted_at: datetime | None = None,
    **demographics: str,
) -> Response:
    """Store one response through the submission service (random but valid by default)."""
    rng = random.Random(seed)
    questionnaire = questionnaire_for(wave)
    district = district or wave.districts[0].code
    if street is None:
        streets = db.session.get(District, district).streets
        street = rng.choice(streets).code if streets else None
    moment = submitted_at or utcnow()
    submission = Submission(
        district=district,
        street=street,
        answers=dict(answers) if answers is not None else random_answers(questionnaire, rng),
        language=language,
        channel=channel,
        duration_seconds=rng.randint(120, 900),
        **{**random_demographics(questionnaire, rng), **demographics},
    )
    response = submit_response(wave, submission, now=inside_window(wave, moment))
    db.session.commit()
    return response


def inside_window(wave: Wave, moment: datetime) -> datetime:
    """``moment`` if the wave is open then, else the middle of its window (closed waves too)."""
    if wave.is_open(moment):
        return moment
    opens, closes = as_utc(wave.opens_at), as_utc(wave.closes_at)
    return opens + (closes - opens) / 2


def make_responses(wave: Wave, count: int, seed: int = 0, **kwargs) -> list[Response]:
    """``count`` random responses spread over the wave's districts and their streets."""
    rng = random.Random(seed)
    codes = [d.code for d in wave.districts]
    return [
        make_response(wave, district=rng.choice(codes), seed=rng.randrange(2**32), **kwargs)
        for _ in range(count)
    ]


def stored_counts() -> tuple[int, int]:
    """(responses, answers) in the database: tests assert bad input leaves these unchanged."""
    responses = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
    answers = db.session.scalar(sa.select(sa.func.count()).select_from(Answer))
    return responses, answers


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields (CSRF token, ticket, code) of a rendered survey form."""
    fields = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def valid_answers(wave: Wave, seed: int = 0, district: str | None = None) -> dict[str, str]:
    """Form fields for a complete valid answer (no hidden fields)."""
    rng = random.Random(seed)
    questionnaire = questionnaire_for(wave)
    district = district or wave.districts[0].code
    street = db.session.get(District, district).streets[0].code
    data = {"district": district, "street": street, "comment": "很好"}
    data.update(random_demographics(questionnaire, rng))
    data.update({f"q_{item}": str(value)
                 for item, value in random_answers(questionnaire, rng).items()})
    return data


def form_post(client, wave: Wave, seed: int = 0, lang: str = "zh", code: str | None = None,
              **overrides: str | None) -> dict[str, str]:
    """GET the form (for CSRF token and ticket), after entering ``code`` if given, and return
    a valid POST body.

    ``overrides`` replace fields; an override of None removes the field.
    """
    page = client.get(f"/s/{wave.id}", query_string={"lang": lang})
    if code:  # the code page posts the code (never in the URL); the form comes back
        page = client.post(f"/s/{wave.id}/code", query_string={"lang": lang},
                           data={**form_fields(page.get_data(as_text=True)), "code": code})
    assert page.status_code == 200, page.status_code
    data = {**form_fields(page.get_data(as_text=True)), **valid_answers(wave, seed)}
    for name, value in overrides.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` from a threaded werkzeug server on a free local port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
