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
    rows = db.session.execute(
        sa.select(
            Response.id.label("response_id"),
            Wave.label.label("wave"),
            Response.district_code.label("district"),
            Response.street_code.label("street"),
            Response.sex,
            Response.age_group,
            Response.residence_years,
            Response.language,
            Response.channel,
            Response.submitted_at,
            Response.duration_seconds,
        )
        .join(Wave, Wave.id == Response.wave_id)
        .where(*filters)
        .order_by(Response.submitted_at, Response.id)
    ).all()
    frame = pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS))
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    frame["duration_seconds"] = pd.to_numeric(frame["duration_seconds"]).astype(float)
    answers = _answers_wide(filters)
    columns = sorted(answers.columns) if item_ids is None else list(item_ids)
    answers = answers.reindex(columns=columns)
    frame = frame.join(answers, on="response_id").reset_index(drop=True)
    if include_comments:
        comments = dict(db.session.execute(
            sa.select(Response.id, Response.comment).where(*filters)).all())
        frame["comment"] = frame["response_id"].map(comments)
    return frame


def _answers_wide(filters: list) -> pd.DataFrame:
    """Answers pivoted to one row per response id and one float column per item."""
    rows = db.session.execute(
        sa.select(Answer.response_id, Answer.item_id, Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(*filters)
    ).all()
    long = pd.DataFrame(rows, columns=["response_id", "item_id", "value"])
    wide = long.pivot(index="response_id", columns="item_id", values="value").astype(float)
    wide.columns.name = None
    return wide
