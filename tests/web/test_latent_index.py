"""The latent index service, `surveyapp index` and GET /api/v1/waves/<label>/latent-index on a
demo wave of two districts (correlated answers, as the demo generates them)."""
from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest
import sqlalchemy as sa

from analysis.latent_index import latent_index
from surveyapp.blueprints.api_openapi import openapi_document
from surveyapp.cli.index import index
from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog, User
from surveyapp.models.survey import District, Wave, utcnow
from surveyapp.reports.latent_section import page_view
from surveyapp.services import latent_index as service
from surveyapp.services.catalog import sync_catalog
from surveyapp.services.demo import (
    DemoWorld,
    build_demo_wave,
    demo_districts,
    demo_waves,
    ensure_demo_margins,
)
from surveyapp.services.reporting import build_district_report
from surveyapp.services.tokens import create_token
from surveyapp.services.wave_results import CITY, analyse_wave

PER_DISTRICT = 130


@pytest.fixture
def wave(app):
    sync_catalog(app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
    districts = demo_districts()[:2]
    spec = demo_waves(utcnow())[1]
    build_demo_wave(spec, DemoWorld(7, [d.code for d in districts]), districts, PER_DISTRICT,
                    np.random.default_rng(7))
    ensure_demo_margins(districts)
    db.session.commit()
    return db.session.scalar(sa.select(Wave).where(Wave.label == spec.label))


def token_for(username: str, role: str, districts=()) -> str:
    db.session.add(User(username=username, password_hash="unused", role=role,
                        districts=[db.session.get(District, c) for c in districts]))
    db.session.flush()
    token = create_token(username)[1]
    db.session.commit()
    return token


def test_city_and_districts_with_replicate_standard_errors(wave, monkeypatch):
    monkeypatch.setattr(service, "REPLICATES", 30)
    results = analyse_wave(wave)
    assert results.weighting.weighted
    found = service.wave_latent_index(results)
    codes = [d.code for d in wave.districts]
    assert set(found.areas) == {CITY, *codes} and found.unavailable == {}
    city = found.areas[CITY]
    assert 50 < city.index < 100 and 0 < city.se < 2 and city.replicates == 30
    # the same figures straight from analysis, with the same replicates of the raked design
    replicates = results.design.replicate("bootstrap", replicates=30, seed=service.SEED)
    blocks, overall = service.model_of(results.questionnaire)
    direct = latent_index(results.frame, replicates, blocks, overall)
    assert direct.index == pytest.approx(city.index, rel=1e-12)
    assert direct.se == pytest.approx(city.se, rel=1e-12)
    assert set(blocks) == {"product", "service", "housing"}
    body = found.as_dict(codes[0])
    jsonschema.validate(body, {"$ref": "#/components/schemas/LatentIndex",
                               "components": openapi_document()["components"]})
    assert [row["dimension"] for row in body["dimensions"]] == ["product", "service", "housing"]
    assert sum(row["weight"] for row in body["dimensions"]) == pytest.approx(1)


def test_too_few_responses_give_the_reason(wave, monkeypatch):
    monkeypatch.setattr(service, "MIN_RESPONSES", 10_000)
    found = service.wave_latent_index(analyse_wave(wave), [CITY])
    assert found.areas == {} and "10000" in found.unavailable[CITY]
    body = found.as_dict(CITY)
    assert body["available"] is False and "fewer than" in body["reason"]


def test_api_roles(app, wave, monkeypatch):
    monkeypatch.setattr(service, "REPLICATES", 20)
    own, other = (d.code for d in wave.districts)
    analyst = token_for("ana", "analyst")
    bureau = token_for("own-bureau", "bureau", [own])
    client = app.test_client()
    url = f"/api/v1/waves/{wave.label}/latent-index"

    def get(token, query=""):
        return client.get(url + query, headers={"Authorization": f"Bearer {token}"})

    city = get(analyst)
    assert city.status_code == 200 and city.json["available"] and city.json["area"] == "city"
    assert get(bureau).status_code == 403  # the city-wide figures are for analysts
    assert get(bureau, f"?district={other}").status_code == 403
    mine = get(bureau, f"?district={own}")
    assert mine.status_code == 200 and mine.json["area"] == own
    assert get(analyst, "?district=999999").status_code == 404
    assert client.get("/api/v1/waves/nope/latent-index",
                      headers={"Authorization": f"Bearer {analyst}"}).status_code == 404
    assert get(analyst, "?margins=no-such-set").status_code == 422
    db.session.expire_all()
    entries = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "download.run")).all()
    assert [e.actor_name for e in entries] == ["ana", "own-bureau"]
    assert "statistic=latent_index" in entries[0].reason


def test_cli_table_and_json(app, wave, runner, monkeypatch):
    monkeypatch.setattr(service, "REPLICATES", 20)
    own = wave.districts[0].code
    table = runner.invoke(index, ["--wave", wave.label, "--questionnaire", "citizen"])
    assert table.exit_code == 0, table.output
    assert "quadrant" in table.output and "bootstrap (20 replicates" in table.output
    out = runner.invoke(index, ["--wave", wave.label, "--district", own,
                              "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["area"] == own
    bad = runner.invoke(index, ["--wave", wave.label, "--district", "999999"])
    assert bad.exit_code != 0 and "999999" in bad.output


def test_district_report_carries_the_section_and_its_chart(app, wave, monkeypatch):
    monkeypatch.setattr(service, "REPLICATES", 20)
    own = wave.districts[0].code
    report = build_district_report(wave, own, "en")
    section = report.latent_index
    assert section is not None and section.unavailable is None and section.replicates == 20
    assert section.chart_id in {c.id for c in report.charts}
    expected = service.wave_latent_index(analyse_wave(wave), [own]).areas[own]
    assert section.index == pytest.approx(expected.index, rel=1e-12)
    text = page_view(report)
    assert [row[0] for row in text["rows"]] == [
        "Product quality", "Public service and management quality",
        "Housing and infrastructure quality"]
