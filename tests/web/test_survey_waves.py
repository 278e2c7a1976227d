"""A form page and a POST may use their wave as read a moment ago; storing a response checks
the wave's window as stored (surveyapp.blueprints.survey_waves, services.submission)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa

from surveyapp.blueprints import survey_layouts
from surveyapp.blueprints.survey_waves import forget_waves
from surveyapp.extensions import db
from surveyapp.models.survey import Wave, utcnow
from tests.web.factories import form_post, make_wave, stored_counts


@contextmanager
def statements():
    """The SQL statements the app sends meanwhile (BEGIN is not one: a SELECT starts it)."""
    sent: list[str] = []

    def record(conn, cursor, statement, *args):
        sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def get(client, path: str):
    """A GET in a session of its own, as every request has outside the tests (here the test's
    application context, and so its session, is shared with the client's requests)."""
    db.session.remove()
    return client.get(path)


def close_now(wave: Wave) -> None:
    db.session.execute(sa.update(Wave).where(Wave.id == wave.id)
                       .values(closes_at=utcnow() - timedelta(seconds=1),
                               opens_at=utcnow() - timedelta(days=2)))
    db.session.commit()


def test_a_form_page_shown_again_sends_no_sql(client):
    wave = make_wave()
    assert get(client, f"/s/{wave.id}").status_code == 200
    with statements() as sent:
        page = get(client, f"/s/{wave.id}")
    assert page.status_code == 200 and "提交问卷" in page.get_data(as_text=True)
    assert sent == []


def test_a_kept_wave_builds_a_new_layout(client):
    """The kept row in a new session: the questionnaire's text, never kept, loads when asked."""
    wave = make_wave()
    get(client, f"/s/{wave.id}")
    survey_layouts._layouts.clear()
    page = get(client, f"/s/{wave.id}?lang=en")
    assert page.status_code == 200 and "Submit answers" in page.get_data(as_text=True)


def test_a_post_after_the_wave_closed_is_refused_at_once(client):
    wave = make_wave()
    data = form_post(client, wave, seed=1)
    close_now(wave)
    assert get(client, f"/s/{wave.id}").status_code == 200  # the page, read a moment ago
    before = stored_counts()
    db.session.remove()
    assert client.post(f"/s/{wave.id}", data=data).status_code == 410
    assert stored_counts() == before


def test_the_page_says_closed_once_its_time_is_up(app, client, monkeypatch):
    wave = make_wave()
    get(client, f"/s/{wave.id}")
    close_now(wave)
    monkeypatch.setitem(app.config, "SURVEYAPP_FORM_WAVE_SECONDS", 0)
    assert get(client, f"/s/{wave.id}").status_code == 410


def test_with_no_time_every_page_reads_the_wave(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEYAPP_FORM_WAVE_SECONDS", 0)
    wave = make_wave()
    get(client, f"/s/{wave.id}")
    with statements() as sent:
        get(client, f"/s/{wave.id}")
    assert any("FROM wave" in statement for statement in sent)


def reopen(wave_id: int) -> None:
    db.session.execute(sa.update(Wave).where(Wave.id == wave_id)
                       .values(closes_at=utcnow() + timedelta(days=1)))
    db.session.commit()


def test_a_post_on_a_kept_open_wave_reads_no_wave_row(client):
    wave = make_wave()
    data = form_post(client, wave, seed=2)
    db.session.remove()
    with statements() as sent:
        assert client.post(f"/s/{wave.id}", data=data).status_code == 303
    assert not [statement for statement in sent if statement.lstrip().upper().startswith("SELECT")]
    assert stored_counts()[0] == 1


def test_a_post_to_a_wave_reopened_meanwhile_is_stored(client):
    """The kept row says closed; the wave as stored is open again: the answers are taken."""
    wave = make_wave()
    wave_id, data = wave.id, form_post(client, wave, seed=3)
    close_now(wave)
    forget_waves()
    assert get(client, f"/s/{wave_id}?lang=zh").status_code == 410  # read and kept: closed
    reopen(wave_id)
    db.session.remove()
    assert client.post(f"/s/{wave_id}", data=data).status_code == 303
    assert stored_counts()[0] == 1
