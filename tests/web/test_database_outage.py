"""The database going away in the middle of requests (in-process; test_faults.py restarts a
real server under gunicorn).

* an accepted response is never answered with an error: nothing touches the database after
  the commit, so a 303 means stored, and an error means "not stored, send again" (issue 9.4);
* a lost connection gives 503 with a page in both languages (JSON under /api/), never 500;
* GET /healthz checks the database.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from surveyapp.blueprints.errors import release_session
from surveyapp.blueprints.survey_done import COOKIE
from surveyapp.extensions import db
from tests.web.factories import form_post, make_wave, stored_counts


def connection_lost() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))


@contextmanager
def database_down(when=lambda: True):
    """Every statement fails as on a lost connection while ``when()`` is true."""
    def refuse(conn, cursor, statement, parameters, context, executemany):
        if when():
            raise connection_lost()

    sa.event.listen(db.engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", refuse)


def test_nothing_touches_the_database_after_the_commit(client):
    """The redirect is built first: a database lost right after the commit cannot turn a stored
    response into an error page."""
    wave = make_wave()
    data = form_post(client, wave)
    committed = []
    listener = lambda session: committed.append(True)  # noqa: E731
    sa.event.listen(db.session, "after_commit", listener)
    try:
        with database_down(when=lambda: bool(committed)):
            response = client.post(f"/s/{wave.id}", data=data)
    finally:
        sa.event.remove(db.session, "after_commit", listener)

    assert committed and response.status_code == 303
    assert stored_counts()[0] == 1


def test_a_commit_that_fails_stores_nothing_and_can_be_sent_again(client):
    wave = make_wave()
    data = form_post(client, wave)

    def fail(session):
        raise connection_lost()

    sa.event.listen(db.session, "before_commit", fail)
    try:
        refused = client.post(f"/s/{wave.id}", data=data)
    finally:
        sa.event.remove(db.session, "before_commit", fail)

    assert refused.status_code == 503 and stored_counts() == (0, 0)
    assert client.post(f"/s/{wave.id}", data=data).status_code == 303
    assert stored_counts()[0] == 1


def test_a_resent_form_is_refused_by_its_ticket_even_without_the_cookie(client):
    """A browser that lost the 303 (and so the cookie) and sends again stores nothing more."""
    wave = make_wave()
    data = form_post(client, wave)
    assert client.post(f"/s/{wave.id}", data=data).status_code == 303
    client.delete_cookie(COOKIE)

    again = client.post(f"/s/{wave.id}", data=data)

    assert again.status_code == 409 and stored_counts()[0] == 1


@pytest.mark.parametrize("path", ["/", "/s/{wave}", "/s/{wave}/thanks"])
def test_pages_give_503_in_both_languages_while_the_database_is_away(client, path):
    url = path.format(wave=make_wave().id)
    with database_down():
        page = client.get(url)

    text = page.get_data(as_text=True)
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "服务暂时无法连接数据库" in text and "cannot reach its database" in text


def test_a_post_during_the_outage_gives_503_and_stores_nothing(client):
    wave = make_wave()
    data, url = form_post(client, wave), f"/s/{wave.id}"
    with database_down():
        page = client.post(url, data=data)
    assert page.status_code == 503 and stored_counts() == (0, 0)


def test_the_api_answers_503_in_json(client):
    with database_down():
        answer = client.get("/api/v1/waves", headers={"Authorization": "Bearer x" * 3})
    assert answer.status_code == 503
    assert answer.get_json()["message"].startswith("数据库暂时不可用")


def test_healthz_checks_the_database(client):
    ok = client.get("/healthz")
    assert (ok.status_code, ok.get_data(as_text=True)) == (200, "ok\n")
    with database_down():
        assert client.get("/healthz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_a_connection_lost_before_the_teardown_is_released_quietly(app, monkeypatch):
    """The server may close the connection between the view and the teardown's ROLLBACK (a
    database restart): the teardown drops the connection instead of raising after the
    response, which gunicorn would turn into a 500."""
    close = sa.orm.Session.close
    failed = []

    def close_after_restart(session):
        if not failed:
            failed.append(True)
            raise sa.exc.OperationalError("ROLLBACK", {}, Exception("server closed the connection"))
        close(session)

    db.session.execute(sa.text("SELECT 1"))  # a transaction is open on a connection
    monkeypatch.setattr(sa.orm.Session, "close", close_after_restart)
    release_session(None)
    assert failed == [True]
    assert db.session.scalar(sa.text("SELECT 1")) == 1  # the next request gets a connection
