"""Invitation responses cannot be linked to their code: the code never travels in a URL, and
nothing stored tells which code admitted which response."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models.survey import InvitationCode, Response
from surveyapp.services.invitations import generate_codes
from tests.conftest import empty_all_tables, test_config
from tests.web.factories import form_post, make_wave

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "surveyapp" / "static"
MIGRATIONS = ROOT / "migrations"
MIGRATION = "e4b7a1c9d2f0"  # invitation_code.used_at: date only


def spend_in_order(client, order: list[int]) -> list[tuple]:
    """Generate two codes of one street, answer with them in ``order``; return what the code
    table holds about use (everything but what generation fixed: id, hash, creation time)."""
    wave = make_wave(mode="invitation", districts=["310109"])
    codes = generate_codes(wave, "310109", 2, street_code="310109001")
    db.session.commit()
    for seed, which in enumerate(order):
        data = form_post(client, wave, seed=seed, code=codes[which], street="310109001")
        assert client.post(f"/s/{wave.id}", data=data).status_code == 303
    generated = {"id", "code_hash", "created_at", "wave_id"}
    columns = [c for c in InvitationCode.__table__.columns if c.name not in generated]
    rows = db.session.execute(sa.select(*columns).order_by(InvitationCode.id)).all()
    return [tuple(row) for row in rows]


def test_the_stored_codes_are_the_same_whichever_code_answered_first(app, client):
    first_then_second = spend_in_order(client, [0, 1])
    assert len(db.session.scalars(sa.select(Response)).all()) == 2
    db.session.remove()
    empty_all_tables()
    second_then_first = spend_in_order(client, [1, 0])

    # If any stored value depended on when (or after which response) a code was spent, the two
    # orders would leave different rows: they leave the same, so no response maps to its code.
    assert first_then_second == second_then_first
    used = db.session.scalars(sa.select(InvitationCode.used_at)).all()
    assert all(type(value) is date for value in used)


def test_no_column_refers_from_a_response_to_a_code_or_back():
    response, code = Response.__table__, InvitationCode.__table__
    assert not [fk for fk in response.foreign_keys if fk.column.table is code]
    assert not [fk for fk in code.foreign_keys if fk.column.table is response]
    assert not any("invitation" in c.name or "code" in c.name for c in response.columns
                   if c.name not in ("district_code", "street_code"))


def test_a_code_in_the_query_string_is_ignored_and_the_code_page_posts(client, app):
    wave = make_wave(mode="invitation", districts=["310109"])
    code = generate_codes(wave, "310109", 1)[0]
    db.session.commit()

    page = client.get(f"/s/{wave.id}", query_string={"code": code})

    html = page.get_data(as_text=True)
    assert page.status_code == 200 and code not in html  # the code page, empty, not the form
    assert '<form method="post"' in html and f'action="/s/{wave.id}/code' in html
    assert "invitation-code.js" in html
    assert db.session.scalar(sa.select(InvitationCode.used_at)) is None
    back = client.get(f"/s/{wave.id}/code?lang=en")  # the code page's language link
    assert back.status_code == 303 and back.location.endswith(f"/s/{wave.id}?lang=en")


def test_the_fragment_script_reads_the_code_after_the_hash_only():
    script = (STATIC / "invitation-code.js").read_text()
    assert "location.hash" in script and "location.search" not in script.split("replaceState")[0]
    assert "replaceState" in script  # and drops it from the address bar


def test_the_migration_keeps_the_date_of_codes_used_before_it(migrated_app, database_url,
                                                              tmp_path):
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade

    before = ScriptDirectory(str(MIGRATIONS)).get_revision(MIGRATION).down_revision
    app = create_app(test_config(database_url, tmp_path))
    with app.app_context():
        # the code is made with today's models, then the schema goes back to before the
        # migration (later migrations' columns go with it) and the code is used at full precision
        wave = make_wave(mode="invitation", districts=["310109"])
        generate_codes(wave, "310109", 1)
        db.session.commit()
        db.session.remove()
        downgrade(revision=before)
        try:
            with db.engine.begin() as conn:
                conn.execute(sa.text("UPDATE invitation_code SET used_at = :moment"),
                             {"moment": "2024-05-01 23:30:00.123456+00:00"})
        finally:
            upgrade()
        try:
            assert db.session.scalar(sa.select(InvitationCode.used_at)) == date(2024, 5, 1)
        finally:
            db.session.remove()
            empty_all_tables()
            db.engine.dispose()
