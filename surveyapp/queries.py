"""Responses as pandas DataFrames: the one boundary between the database and ``analysis``.

Other modules extend this one rather than writing their own SQL-to-pandas code, so that every
report and export sees the same columns with the same meaning.
"""
from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.quality import QualityFlag
from surveyapp.models.survey import Answer, Response, Wave

RESPONSE_COLUMNS = (
    "response_id",
    "wave",
    "district",
    "street",
    "sex",
    "age_group",
    "residence_years",
    "language",
    "channel",
    "submitted_at",
    "duration_seconds",
)


# Planner settings for the COPY of responses_frame (measured on a 1M-response wave, 12.7M
# answers): the pivot streams the wave's answers in index order through a GroupAggregate
# (6 s of server time) where the planner would rather hash a million groups (13-15 s: the
# hash table does not fit in the CPU cache); the responses are sorted by id in memory for the
# merge join. Streaming from the index pays only while the index alone answers, that is
# while VACUUM has marked most of ``answer`` all-visible (as autovacuum does once a wave's
# answers stop arriving); straight after a bulk load the same plan would visit the table per
# answer or sort 12.7M ids (26 s), so hashing stays allowed until then.
PIVOT_SETTINGS = {"work_mem": "256MB"}
STREAMING_PIVOT_SETTINGS = {**PIVOT_SETTINGS, "enable_hashagg": "off"}
ALL_VISIBLE_SHARE = 0.8  # of answer's pages, for the streaming plan


def responses_frame(
    wave_id: int,
    districts: Iterable[str] | None = None,
    item_ids: Iterable[str] | None = None,
    exclude_flagged: bool = True,
    include_comments: bool = False,
    submitted_since: datetime | None = None,
) -> pd.DataFrame:
    """One row per response of a wave, in response-id order, then one float column per item id
    with the raw value.

    Unanswered items are NaN; "don't know" keeps the scale's don't-know code (scoring treats it
    as missing). ``districts`` restricts the rows; ``item_ids`` fixes the item columns and their
    order (default: every item answered in the wave, in sorted order). ``submitted_at`` is UTC.
    ``exclude_flagged`` drops responses an administrator excluded in the data-quality review.
    ``include_comments`` adds the respondents' free text as a last ``comment`` column.
    ``submitted_since`` keeps the responses submitted then or later (a wave snapshot's news).
    """
    filters = [Response.wave_id == wave_id]
    if exclude_flagged:
        filters.append(Response.id.not_in(
            sa.select(QualityFlag.response_id).where(QualityFlag.excluded)))
    narrowing = []  # the conditions that narrow the wave's responses, for the pivot too
    if districts is not None:
        narrowing.append(Response.district_code.in_(list(districts)))
    if submitted_since is not None:
        narrowing.append(Response.submitted_at >= submitted_since)
    filters += narrowing
    if item_ids is None:
        item_ids = db.session.scalars(
            sa.select(Answer.item_id).distinct()
            .join(Response, Response.id == Answer.response_id).where(*filters))
    items = sorted(item_ids) if not isinstance(item_ids, (list, tuple)) else list(item_ids)
    answers = _answers_pivot(wave_id, narrowing, items)
    extra = [Response.comment] if include_comments else []
    statement = (
        sa.select(
            Response.id, Wave.label, Response.district_code, Response.street_code, Response.sex,
            Response.age_group, Response.residence_years, Response.language, Response.channel,
            Response.submitted_at, Response.duration_seconds,
            *(answers.c[f"i{n}"] for n in range(len(items))), *extra,
        )
        .join(Wave, Wave.id == Response.wave_id)
        .outerjoin(answers, answers.c.response_id == Response.id)
        .where(*filters)
        .order_by(Response.id)
    )
    columns = [*RESPONSE_COLUMNS, *items, *(["comment"] if include_comments else [])]
    types = dict.fromkeys(columns, pa.string())
    types.update(dict.fromkeys(["duration_seconds", *items], pa.float64()),
                 submitted_at=pa.timestamp("us", tz="UTC"))
    return _typed(_fetch_frame(statement, types), items)


def no_responses(item_ids: list[str], include_comments: bool = False) -> pd.DataFrame:
    """``responses_frame``'s frame when no response matches: its columns, no rows."""
    columns = [*RESPONSE_COLUMNS, *item_ids, *(["comment"] if include_comments else [])]
    return _typed(_empty_frame(columns), item_ids)


def _typed(frame: pd.DataFrame, items: list[str]) -> pd.DataFrame:
    """The times and numbers of a fetched frame as their types (SQLite gives times as text)."""
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True, format="ISO8601")
    frame["duration_seconds"] = pd.to_numeric(frame["duration_seconds"]).astype(float)
    for item in items:
        frame[item] = pd.to_numeric(frame[item]).astype(float)
    return frame


def _answers_pivot(wave_id: int, narrowing: list, items: list[str]) -> sa.Subquery:
    """Answers pivoted in SQL to one row per response (columns i0, i1, ... in ``items`` order):
    the database does the reshaping, so a million responses cross the wire as a million rows.

    The wave's answers come from ``answer`` alone (its covering index in response-id order, so
    PostgreSQL can aggregate them as they stream instead of hashing a million groups); the
    outer join to the filtered responses drops excluded ones, and only ``narrowing`` (a
    district filter, a submission time) narrows the answers here, so that a district's export
    or a snapshot's news does not pivot the whole wave.
    """
    statement = (
        sa.select(Answer.response_id, *(
            sa.func.max(Answer.value).filter(Answer.item_id == item).label(f"i{n}")
            for n, item in enumerate(items)))
        .where(Answer.wave_id == wave_id)
        .group_by(Answer.response_id)
    )
    if narrowing:
        statement = statement.where(Answer.response_id.in_(
            sa.select(Response.id).where(Response.wave_id == wave_id, *narrowing)))
    return statement.subquery()


def _fetch_frame(statement: sa.Select, types: dict[str, pa.DataType],
                 chunk_rows: int = 100_000) -> pd.DataFrame:
    """Run ``statement`` on the session's connection, below the ORM.

    PostgreSQL sends the rows as CSV through ``COPY`` and Arrow parses them (a third of the
    CPU of reading driver tuples) into the Arrow ``types`` (column name -> type, in order);
    SQLite gives plain driver tuples, turned into a DataFrame chunk by chunk, so the caller
    still converts types (SQLite gives times as text).
    """
    columns = list(types)
    connection = db.session.connection()
    compiled = statement.compile(dialect=connection.dialect,
                                 compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    if connection.dialect.name == "postgresql":
        return _copy_frame(connection, str(compiled), params, types)
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        chunks = []
        while rows := cursor.fetchmany(chunk_rows):
            chunks.append(pd.DataFrame(rows, columns=columns))
    finally:
        cursor.close()
    if not chunks:
        return _empty_frame(columns)
    return pd.concat(chunks, ignore_index=True)


def _copy_frame(connection: sa.Connection, sql: str, params, types: dict[str, pa.DataType]
                ) -> pd.DataFrame:
    """``COPY (sql) TO STDOUT`` as CSV into one buffer, parsed by Arrow's multi-threaded reader.

    In PostgreSQL's CSV a NULL is an empty unquoted field and an empty string is ``""``, which
    the parse options keep apart.
    """
    buffer = io.BytesIO()
    raw = connection.connection.dbapi_connection
    with raw.cursor() as cursor:
        before = _set_local(cursor, _pivot_settings(cursor))
        with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
            for block in copy:
                buffer.write(block)
        _set_local(cursor, before)  # the rest of the transaction plans as it did
    if not buffer.getbuffer().nbytes:
        return _empty_frame(list(types))
    table = pa_csv.read_csv(
        pa.py_buffer(buffer.getbuffer()),
        read_options=pa_csv.ReadOptions(column_names=list(types)),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),  # free text may hold them
        convert_options=pa_csv.ConvertOptions(
            column_types=types,
            strings_can_be_null=True, quoted_strings_can_be_null=False))
    del buffer  # the text, before pandas copies the table
    return table.to_pandas()


def _pivot_settings(cursor) -> dict[str, str]:
    """Streaming settings when the visibility map covers most of ``answer``, else the default
    plan's (see ``PIVOT_SETTINGS``)."""
    cursor.execute("SELECT relallvisible::float8 / greatest(relpages, 1) FROM pg_class "
                   "WHERE oid = 'answer'::regclass")
    visible = cursor.fetchone()[0]
    return STREAMING_PIVOT_SETTINGS if visible >= ALL_VISIBLE_SHARE else PIVOT_SETTINGS


def _set_local(cursor, settings: dict[str, str]) -> dict[str, str]:
    """``SET LOCAL`` each setting (undone at the end of the transaction); returns the old values."""
    before = {}
    for name, value in settings.items():
        cursor.execute("SELECT current_setting(%s), set_config(%s, %s, true)",
                       (name, name, value))
        before[name] = cursor.fetchone()[0]
    return before


def _empty_frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
