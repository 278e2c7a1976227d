"""A wave pinned to a margin set keeps its published weighting when newer margins arrive.

The resolution rule (`choose_margins`): an explicit set wins, else the wave's pin, else the
newest set that fits. The admin page pins and clears pins (audited); the report cache follows.
"""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog
from surveyapp.models.margins import MarginSet
from surveyapp.services.margins import MarginInput, store_margins
from surveyapp.services.report_cache import cached_report, data_version, report_document
from surveyapp.services.reporting import report_inputs
from surveyapp.services.wave_results import PinnedMarginsError, analyse_wave
from surveyapp.services.waves import WaveError, pin_margin_set
from tests.reports.sample import csv_zip
from tests.web.factories import HONGKOU, questionnaire_for
from tests.web.report_data import AGES, SEXES, YANGPU, engine_design, make_report_waves
from tests.web.staff_fixtures import login_as, make_user, staff_client

POPULATION = {HONGKOU: 760_000, YANGPU: 1_240_000}


@pytest.fixture
def waves(app):
    return make_report_waves()


def store_set(wave, name: str, female_share: float, districts=(HONGKOU, YANGPU)) -> MarginSet:
    """A margin set whose sex split (``female_share``) makes its weighting recognisable."""
    rows = []
    for district in districts:
        people = POPULATION[district]
        female = round(people * female_share)
        rows += [MarginInput(district, "sex", "female", female),
                 MarginInput(district, "sex", "male", people - female)]
        rows += [MarginInput(district, "age_group", age, people // 4) for age in AGES]
    margin_set, problems = store_margins(name, "test", rows, questionnaire_for(wave))
    assert problems == [], problems
    db.session.commit()
    return margin_set


def targets(female_share: float) -> dict:
    """``store_set``'s counts as `SurveyDesign.rake` takes them, in the service's order
    (variables by name: raking stops within one person, so the order shows in the digits)."""
    sex, age = {}, {}
    for district, people in POPULATION.items():
        female = round(people * female_share)
        sex[(district, "female")], sex[(district, "male")] = female, people - female
        age.update({(district, a): people // 4 for a in AGES})
    assert set(SEXES) == {"female", "male"}
    return {("district", "age_group"): age, ("district", "sex"): sex}


def hongkou_index(results) -> float:
    return float(results.scores["index"].at[HONGKOU, "estimate"])


def test_a_pinned_set_is_used_even_when_a_newer_set_exists(waves):
    old = store_set(waves.current, "census-2023", 0.3)
    pin_margin_set(waves.current, old)
    db.session.commit()
    store_set(waves.current, "census-2024", 0.7)  # newer: the automatic choice

    results = analyse_wave(waves.current)

    assert results.weighting.margin_set == "census-2023"
    expected = engine_design(waves.current, targets(0.3)).mean("index", by="district")
    assert hongkou_index(results) == pytest.approx(expected.at[HONGKOU, "estimate"], rel=1e-9)


def test_clearing_the_pin_restores_the_automatic_choice(waves):
    old = store_set(waves.current, "census-2023", 0.3)
    store_set(waves.current, "census-2024", 0.7)
    pin_margin_set(waves.current, old)
    assert pin_margin_set(waves.current, None) == "census-2023 -> automatic"
    db.session.commit()

    assert analyse_wave(waves.current).weighting.margin_set == "census-2024"


def test_an_explicit_set_overrides_the_pin(waves):
    old = store_set(waves.current, "census-2023", 0.3)
    store_set(waves.current, "census-2024", 0.7)
    pin_margin_set(waves.current, old)
    db.session.commit()

    assert analyse_wave(waves.current, "census-2024").weighting.margin_set == "census-2024"


def test_each_wave_of_a_report_uses_its_own_pin_unless_margins_are_named(waves):
    old = store_set(waves.current, "census-2023", 0.3)
    new = store_set(waves.current, "census-2024", 0.7)
    pin_margin_set(waves.earlier, old)
    pin_margin_set(waves.current, new)
    db.session.commit()

    inputs = report_inputs(waves.current)
    (earlier,) = inputs.earlier
    assert inputs.current.weighting.margin_set == "census-2024"
    assert earlier.weighting.margin_set == "census-2023"
    expected = engine_design(waves.earlier, targets(0.3)).mean("index", by="district")
    assert hongkou_index(earlier) == pytest.approx(expected.at[HONGKOU, "estimate"], rel=1e-9)

    explicit = report_inputs(waves.current, "census-2024")
    assert {r.weighting.margin_set for r in (explicit.current, *explicit.earlier)} == {
        "census-2024"}


def test_a_pin_that_no_longer_fits_is_an_error_naming_wave_and_set(waves):
    partial = store_set(waves.current, "hongkou-only", 0.5, districts=(HONGKOU,))
    store_set(waves.current, "census-2024", 0.5)  # would fit: must not be used silently
    waves.current.margin_set = partial  # e.g. pinned before Yangpu joined the wave
    db.session.commit()

    with pytest.raises(PinnedMarginsError) as raised:
        analyse_wave(waves.current)
    message = str(raised.value)
    assert "wave 2024" in message and "'hongkou-only'" in message and YANGPU in message


def test_pinning_a_set_that_lacks_a_district_is_refused(waves):
    partial = store_set(waves.current, "hongkou-only", 0.5, districts=(HONGKOU,))
    with pytest.raises(WaveError, match=f"margins: .*'hongkou-only'.*{YANGPU}"):
        pin_margin_set(waves.current, partial)
    assert waves.current.margin_set_id is None


def test_the_report_cache_does_not_serve_a_report_of_the_old_pin(waves):
    old = store_set(waves.current, "census-2023", 0.3)
    new = store_set(waves.current, "census-2024", 0.7)
    pin_margin_set(waves.current, old)
    db.session.commit()
    before_version = data_version(waves.current)
    before = report_document(waves.current, HONGKOU, "en", "csv")
    assert cached_report(waves.current, HONGKOU, "en").method.weighting.margin_set == \
        "census-2023"

    pin_margin_set(waves.current, new)
    db.session.commit()

    assert data_version(waves.current) != before_version
    after = report_document(waves.current, HONGKOU, "en", "csv")
    assert after != before
    tables = b"".join(csv_zip(after).values())  # the CSV edition is a zip of tables
    assert b"census-2024" in tables and b"census-2023" not in tables
    assert cached_report(waves.current, HONGKOU, "en").method.weighting.margin_set == \
        "census-2024"


def test_pinning_an_earlier_wave_changes_the_current_reports_version(waves):
    old = store_set(waves.current, "census-2023", 0.3)
    before = data_version(waves.current)
    pin_margin_set(waves.earlier, old)
    db.session.commit()
    assert data_version(waves.current) != before


# ------------------------------------------------------------------------------ the admin page

def admin_post(client, url: str, data: dict):
    page = client.get("/admin/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=True)


def margin_entries() -> list[tuple[str, str, str, str]]:
    return [(e.actor_name, e.action, e.target, e.reason) for e in db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "wave.margins").order_by(AuditLog.id))]


def test_admin_pins_and_clears_a_wave_s_margins(app, waves):
    margin_set = store_set(waves.current, "census-2023", 0.3)
    client = staff_client(app)
    login_as(client, make_user("admin", username="chen"))
    db.session.commit()
    page = client.get("/admin/").get_data(as_text=True)
    assert "权重边际 Margins" in page and "census-2023" in page

    url = f"/admin/waves/{waves.current.id}/margins"
    page = admin_post(client, url, {"margin_set": str(margin_set.id)}).get_data(as_text=True)
    assert "census-2023" in page
    db.session.expire_all()
    assert waves.current.margin_set_id == margin_set.id
    assert f'<option value="{margin_set.id}" selected>' in client.get("/admin/").get_data(
        as_text=True)

    admin_post(client, url, {"margin_set": ""})
    db.session.expire_all()
    assert waves.current.margin_set_id is None
    target = f"wave:{waves.current.id}"
    assert margin_entries() == [("chen", "wave.margins", target, "automatic -> census-2023"),
                                ("chen", "wave.margins", target, "census-2023 -> automatic")]


def test_a_rejected_pin_changes_nothing(app, waves):
    good = store_set(waves.current, "census-2023", 0.3)
    partial = store_set(waves.current, "hongkou-only", 0.5, districts=(HONGKOU,))
    pin_margin_set(waves.current, good)
    db.session.commit()
    client = staff_client(app)
    login_as(client, make_user("admin", username="chen"))
    db.session.commit()
    url = f"/admin/waves/{waves.current.id}/margins"

    refused = admin_post(client, url, {"margin_set": str(partial.id)}).get_data(as_text=True)
    assert "hongkou-only" in refused and YANGPU in refused
    admin_post(client, url, {"margin_set": "999999"})  # not a set
    assert client.post(url, data={"margin_set": ""}).status_code == 400  # no CSRF token

    db.session.expire_all()
    assert waves.current.margin_set_id == good.id
    assert margin_entries() == []


@pytest.mark.parametrize("role", ["bureau", "analyst"])
def test_only_admins_may_pin(app, waves, role):
    margin_set = store_set(waves.current, "census-2023", 0.3)
    client = staff_client(app)
    login_as(client, make_user(role, [HONGKOU] if role == "bureau" else []))
    db.session.commit()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get("/auth/login").get_data(as_text=True)).group(1)
    response = client.post(f"/admin/waves/{waves.current.id}/margins",
                           data={"margin_set": str(margin_set.id), "csrf_token": token})
    assert response.status_code == 403
    db.session.expire_all()
    assert waves.current.margin_set_id is None and margin_entries() == []


def test_a_pinned_set_cannot_be_deleted_on_postgresql(waves, backend):
    """ON DELETE RESTRICT: the set behind published numbers stays (SQLite here runs without
    foreign-key enforcement, so only PostgreSQL can show it)."""
    if backend != "postgresql":
        pytest.skip("SQLite does not enforce foreign keys in this app")
    margin_set = store_set(waves.current, "census-2023", 0.3)
    pin_margin_set(waves.current, margin_set)
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.delete(MarginSet).where(MarginSet.id == margin_set.id))
        db.session.flush()
    db.session.rollback()
