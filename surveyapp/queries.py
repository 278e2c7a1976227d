"""Responses as pandas DataFrames: the one boundary between the database and ``analysis``.

Other modules extend this one rather than writing their own SQL-to-pandas code, so that every
report and export sees the same columns with the same meaning.
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
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


def responses_frame(
    wave_id: int,
    districts: Iterable[str] | None = None,
    item_ids: Iterable[str] | None = None,
    exclude_flagged: bool = True,
    include_comments: bool = False,
) -> pd.DataFrame:
    """One row per response of a wave, then one float column per item id with the raw value.

    Unanswered items are NaN; "don't know" keeps the scale's don't-know code (scoring treats it
    as missing). ``districts`` restricts the rows; ``item_ids`` fixes the item columns and their
    order (default: every item answered in the wave, in sorted order). ``submitted_at`` is UTC.
    ``exclude_flagged`` drops responses an administrator excluded in the data-quality review.
    ``include_comments`` adds the respondents' free text as a last ``comment`` column.
    """
    filters = [Response.wave_id == wave_id]
    if exclude_flagged:
        filters.append(Response.id.not_in(
            sa.select(QualityFlag.response_id).where(QualityFlag.excluded)))
    if districts is not None:
        filters.append(Response.district_code.in_(list(districts)))
    if item_ids is None:
        item_ids = db.session.scalars(
            sa.select(Answer.item_id).distinct()
            .join(Response, Response.id == Answer.response_id).where(*filters))
    items = sorted(item_ids) if not isinstance(item_ids, (list, tuple)) else list(item_ids)
    answers = _answers_pivot(filters, items)
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
        .order_by(Response.submitted_at, Response.id)
    )
    columns = [*RESPONSE_COLUMNS, *items, *(["comment"] if include_comments else [])]
    frame = _fetch_frame(statement, columns)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True, format="ISO8601")
    frame["duration_seconds"] = pd.to_numeric(frame["duration_seconds"]).astype(float)
    for item in items:
        frame[item] = pd.to_numeric(frame[item]).astype(float)
    return frame


def _answers_pivot(filters: list, items: list[str]) -> sa.Subquery:
    """Answers pivoted in SQL to one row per response (columns i0, i1, ... in ``items`` order):
    the database does the reshaping, so a million responses cross the wire as a million rows."""
    return (
        sa.select(Answer.response_id, *(
            sa.func.max(sa.case((Answer.item_id == item, Answer.value))).label(f"i{n}")
            for n, item in enumerate(items)))
        .join(Response, Response.id == Answer.response_id)
        .where(*filters)
        .group_by(Answer.response_id)
        .subquery()
    )


def _fetch_frame(statement: sa.Select, columns: list[str], chunk_rows: int = 100_000
                 ) -> pd.DataFrame:
    """Run ``statement`` on the session's connection through the driver's own cursor.

    Plain driver tuples, turned into a DataFrame chunk by chunk, cost a fraction of ORM rows
    (which matters from ~100k responses on); values come as the driver returns them, so the
    caller converts types (e.g. SQLite gives timestamps as text).
    """
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:  # hash the pivot in memory rather than sort it on disk
        connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    compiled = statement.compile(dialect=connection.dialect,
                                 compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    raw = connection.connection.dbapi_connection
    # on PostgreSQL a server-side cursor streams the rows instead of holding the whole result
    cursor = raw.cursor(name="responses_frame") if postgres else raw.cursor()
    try:
        cursor.execute(str(compiled), params)
        chunks = []
        while rows := cursor.fetchmany(chunk_rows):
            chunks.append(pd.DataFrame(rows, columns=columns))
    finally:
        cursor.close()
    if not chunks:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
    return pd.concat(chunks, ignore_index=True)
