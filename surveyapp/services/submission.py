"""Store one resident's response: whole, once, and only while its wave is open.

The caller (the survey view) validates the answers with the questionnaire's form and then calls
:func:`submit_response`; what it stores goes into the caller's transaction, or on PostgreSQL
into one statement that commits itself when the caller has none under way, so a response is
stored with all its answers, its spent form token and its spent invitation code, or not at all.
"""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import make_transient_to_detached

from surveyapp.extensions import db
from surveyapp.models.survey import Answer, FormToken, InvitationCode, Response, Wave, utcnow
from surveyapp.services.invitations import spend_code

FORM_TOKEN_MAX_AGE = 24 * 3600  # seconds a displayed form stays submittable


class SubmissionRejected(Exception):
    """The response cannot be stored; ``reason`` says why in a word the view maps to a page."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Submission:
    """A validated response as plain values (item id -> raw scale value, don't-know included)."""

    district: str
    answers: dict[str, int]
    language: str
    channel: str
    street: str | None = None
    sex: str | None = None
    age_group: str | None = None
    residence_years: str | None = None
    comment: str | None = None
    duration_seconds: int | None = None
    token: str | None = None
    invitation: InvitationCode | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FormTicket:
    """What a displayed form's signed ticket carries: its one-time token and display time."""

    token: str
    issued_at: datetime


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="survey-form-ticket")


def issue_form_ticket(wave: Wave) -> str:
    """A signed ticket for a freshly displayed form: a random one-time token, the wave, the time.

    Signing lets the server trust the display time (for ``duration_seconds``) without storing
    anything until the response arrives.
    """
    return _serializer().dumps({"w": wave.id, "t": secrets.token_urlsafe(24)})


def read_form_ticket(ticket: str, wave: Wave) -> FormTicket:
    """Check a posted ticket's signature, wave and age; raise SubmissionRejected('ticket')."""
    try:
        payload, issued = _serializer().loads(
            ticket, max_age=FORM_TOKEN_MAX_AGE, return_timestamp=True
        )
    except SignatureExpired as error:
        raise SubmissionRejected("ticket_expired") from error
    except BadSignature as error:
        raise SubmissionRejected("ticket", "bad signature") from error
    if not isinstance(payload, dict) or payload.get("w") != wave.id or not payload.get("t"):
        raise SubmissionRejected("ticket", "ticket belongs to another form")
    return FormTicket(token=str(payload["t"]), issued_at=issued)


def seconds_since(moment: datetime, now: datetime | None = None) -> int:
    return max(0, int(((now or utcnow()) - moment).total_seconds()))


def submit_response(wave: Wave, submission: Submission, now: datetime | None = None) -> Response:
    """Add the response, its answers and its spent token/code to the session (flushed).

    The spent token, the response and its answers are inserted only if the stored wave is open
    at ``now`` (a wave closed since the caller read it takes no response): on PostgreSQL in
    one statement whatever the questionnaire's length (in-process, a submit's CPU 6.4-7.2 ->
    5.5-5.8 ms against three statements), committed by itself when the session had no
    transaction under way (then the response is stored when this returns); elsewhere or with
    an invitation code to spend in one statement each. Core and driver statements, because
    the ORM's unit of work cost a resident's submit more CPU than the rest of the service.
    The returned Response is the stored row, in the session.

    Raises SubmissionRejected with reason 'closed' (wave not open), 'duplicate' (this form was
    already submitted), 'code_used' (invitation spent meanwhile) or 'code_mismatch' (the
    invitation is for another wave or place). On 'duplicate' the session must be rolled back.
    """
    moment = now or utcnow()
    if not wave.is_open(moment):
        raise SubmissionRejected("closed", f"wave {wave.label} is {wave.status(moment)}")
    values = dict(
        id=str(uuid.uuid4()),
        wave_id=wave.id,
        questionnaire_hash=wave.questionnaire_version.content_hash,
        district_code=submission.district,
        street_code=submission.street,
        sex=submission.sex,
        age_group=submission.age_group,
        residence_years=submission.residence_years,
        comment=submission.comment,
        language=submission.language,
        channel=submission.channel,
        submitted_at=moment,
        duration_seconds=submission.duration_seconds,
    )
    if db.session.get_bind().dialect.name == "postgresql" and wave.mode != "invitation":
        _store_in_one_statement(_statement_connection(), wave, values, submission)
    else:
        _store_statement_by_statement(db.session.connection(), wave, values, submission)
    response = Response(**values)
    make_transient_to_detached(response)  # stored already: the session adopts it, no INSERT
    db.session.add(response)
    return response


def _store_statement_by_statement(connection: sa.Connection, wave: Wave, values: dict,
                                  submission: Submission) -> None:
    """The spent token, the spent invitation code, the response and its answers, one statement
    each (SQLite has no INSERT inside a WITH; an invitation's code is spent after the token, so
    a form sent twice is told "received already", not "code used")."""
    if submission.token is not None:
        _spend_form_token(connection, wave, submission.token, values["submitted_at"])
    if wave.mode == "invitation":
        _spend_invitation(wave, submission)
    connection.execute(Response.__table__.insert(), values)
    if submission.answers:
        _insert_answers(connection, values["id"], wave.id, submission.answers)


ANSWER_COLUMNS = "response_id, wave_id, item_id, value"
# PostgreSQL: the answers as two arrays, so four parameters whatever the questionnaire's length
# (psycopg parses a statement of over 50 parameters anew each time) and one plan per connection.
ANSWERS_FROM_ARRAYS = (f"INSERT INTO {Answer.__tablename__} ({ANSWER_COLUMNS}) "
                       "SELECT %s, %s, item, value FROM unnest(%s::varchar[], %s::integer[]) "
                       "AS answered(item, value)")


def _insert_answers(connection: sa.Connection, response_id: str, wave_id: int,
                    answers: dict[str, int]) -> None:
    """A response's answers in one INSERT of driver SQL.

    SQLAlchemy compiles a multi-row ``insert().values([...])`` anew on every call (2.5 ms of
    CPU for 25 answers) and an executemany sends a statement per row; this costs 0.24-0.44 ms."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(ANSWERS_FROM_ARRAYS, (
            response_id, wave_id, list(answers), list(answers.values())))
    else:
        connection.exec_driver_sql(_answer_rows(connection.dialect.paramstyle, len(answers)),
                                   tuple(value for item, answer in answers.items()
                                         for value in (response_id, wave_id, item, answer)))


@lru_cache(maxsize=32)
def _answer_rows(paramstyle: str, rows: int) -> str:
    """INSERT ... VALUES of ``rows`` answers, built once per length."""
    mark = "?" if paramstyle == "qmark" else "%s"
    row = f"({mark}, {mark}, {mark}, {mark})"
    return (f"INSERT INTO {Answer.__tablename__} ({ANSWER_COLUMNS}) VALUES "
            + ", ".join([row] * rows))


def _one_statement() -> str:
    """PostgreSQL: the open check, the spent token, the response and its answers in one
    statement (one round trip; its plan is prepared once per connection). ``opened`` is the
    wave if it is open at ``now`` as stored; with no row there, nothing is inserted."""
    columns = [column.key for column in Response.__table__.columns]
    casts = {column.key: _unsized(column.type) for column in Response.__table__.columns}
    selected = ", ".join("opened.id" if name == "wave_id" else f"%({name})s::{casts[name]}"
                         for name in columns)
    token = FormToken.__table__
    return (
        f"WITH opened AS (SELECT id FROM {Wave.__tablename__} WHERE id = %(wave_id)s "
        "AND opens_at <= %(submitted_at)s AND closes_at > %(submitted_at)s), "
        f"spent AS (INSERT INTO {token.name} (token, wave_id, used_at) "
        "SELECT %(token)s::varchar, id, %(submitted_at)s FROM opened "
        "WHERE %(token)s::varchar IS NOT NULL), "
        f"stored AS (INSERT INTO {Response.__tablename__} ({', '.join(columns)}) "
        f"SELECT {selected} FROM opened RETURNING id, wave_id), "
        f"answered AS (INSERT INTO {Answer.__tablename__} ({ANSWER_COLUMNS}) "
        "SELECT stored.id, stored.wave_id, item, value FROM stored, "
        "unnest(%(items)s::varchar[], %(values)s::integer[]) AS answered(item, value)) "
        "SELECT count(*) FROM stored")


def _unsized(column_type: sa.types.TypeEngine) -> str:
    """The type to cast a parameter to: a string type without its length, which a cast would
    silently cut a longer value to (the column's own check then refuses it)."""
    if isinstance(column_type, sa.String):
        column_type = type(column_type)()
    return column_type.compile(dialect=postgresql.dialect())


STORE_IN_ONE_STATEMENT = _one_statement()


def _statement_connection() -> sa.Connection:
    """The session's connection, in autocommit mode if the session has no transaction under
    way: the one statement is atomic by itself, and BEGIN and COMMIT were two of a submit's
    three round trips to the server (a worker idles through each). Inside a caller's
    transaction the statement joins it, seeing what the caller changed."""
    if db.session().in_transaction():
        return db.session.connection()
    return db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _store_in_one_statement(connection: sa.Connection, wave: Wave, values: dict,
                            submission: Submission) -> None:
    """Store the response with :data:`STORE_IN_ONE_STATEMENT`; a second use of the token fails
    on its primary key (the whole statement with it)."""
    parameters = {**values, "token": submission.token, "items": list(submission.answers),
                  "values": list(submission.answers.values())}
    try:
        stored = connection.exec_driver_sql(STORE_IN_ONE_STATEMENT, parameters).scalar()
    except sa.exc.IntegrityError as error:
        if getattr(getattr(error.orig, "diag", None), "table_name", None) == FormToken.__tablename__:
            raise SubmissionRejected("duplicate", "form token already spent") from error
        raise
    if stored != 1:
        raise SubmissionRejected("closed", f"wave {wave.label} is not open as stored")


def _spend_token_while_open() -> sa.Insert:
    """INSERT the token only if its wave, as stored now, is open at ``now``: the check and
    the spending in one statement (the view may hold a wave read a moment ago)."""
    wave, now = Wave.__table__, sa.bindparam("now", type_=FormToken.__table__.c.used_at.type)
    wave_id = sa.bindparam("wave_id", type_=sa.Integer)
    open_now = sa.exists().where(wave.c.id == wave_id, wave.c.opens_at <= now,
                                 wave.c.closes_at > now)
    row = sa.select(sa.bindparam("token", type_=sa.String), wave_id, now).where(open_now)
    return FormToken.__table__.insert().from_select(["token", "wave_id", "used_at"], row) \
        .execution_options(preserve_rowcount=True)  # an INSERT's count is kept only if asked


SPEND_TOKEN_WHILE_OPEN = _spend_token_while_open()


def _spend_form_token(connection: sa.Connection, wave: Wave, token: str,
                      moment: datetime) -> None:
    """Insert the token; its primary key makes a second insert fail, whether the first was an
    earlier request or a racing one (no SELECT first: the INSERT is the check). No row
    inserted: the wave is not open (any more)."""
    try:
        spent = connection.execute(
            SPEND_TOKEN_WHILE_OPEN, {"token": token, "wave_id": wave.id, "now": moment})
    except sa.exc.IntegrityError as error:
        raise SubmissionRejected("duplicate", "form token already spent") from error
    if spent.rowcount != 1:
        raise SubmissionRejected("closed", f"wave {wave.label} is not open as stored")


def _spend_invitation(wave: Wave, submission: Submission) -> None:
    invitation = submission.invitation
    if invitation is None or invitation.wave_id != wave.id:
        raise SubmissionRejected("code_mismatch", "an invitation code of this wave is required")
    if invitation.district_code != submission.district or (
        invitation.street_code is not None and invitation.street_code != submission.street
    ):
        raise SubmissionRejected("code_mismatch", "the invitation is for another district or street")
    if not spend_code(invitation):
        raise SubmissionRejected("code_used")
