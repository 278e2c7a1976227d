"""Collection progress of a wave: responses and invitation codes per district and street."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.quality import QualityFlag
from surveyapp.models.survey import InvitationCode, Response, Wave


@dataclass(frozen=True)
class Tally:
    """Counts for one district or street; ``street`` None is the district total."""

    district: str
    street: str | None
    name_zh: str
    name_en: str
    responses: int
    excluded: int
    invitations: int
    invitations_used: int


def wave_progress(wave: Wave) -> list[tuple[Tally, list[Tally]]]:
    """For each district of the wave: its totals and one tally per street (every street listed,
    also those with no response yet, plus a 'street not given' line when needed)."""
    responses = _count(Response.district_code, Response.street_code, Response.wave_id == wave.id)
    excluded = _count(Response.district_code, Response.street_code, Response.wave_id == wave.id,
                      Response.id.in_(sa.select(QualityFlag.response_id).where(QualityFlag.excluded)))
    issued = _count(InvitationCode.district_code, InvitationCode.street_code,
                    InvitationCode.wave_id == wave.id)
    used = _count(InvitationCode.district_code, InvitationCode.street_code,
                  InvitationCode.wave_id == wave.id, InvitationCode.used_at.is_not(None))
    counters = (responses, excluded, issued, used)
    result = []
    for district in wave.districts:
        keys = [(district.code, s.code, s.name_zh, s.name_en) for s in district.streets]
        if any(counter[(district.code, None)] for counter in counters):
            keys.append((district.code, None, "未填街道", "street not given"))
        streets = [Tally(d, s, zh, en, *(counter[(d, s)] for counter in counters))
                   for d, s, zh, en in keys]
        totals = [sum(counter[k] for k in counter if k[0] == district.code) for counter in counters]
        result.append((Tally(district.code, None, district.name_zh, district.name_en, *totals),
                       streets))
    return result


def _count(district_column, street_column, *conditions) -> Counter:
    rows = db.session.execute(
        sa.select(district_column, street_column, sa.func.count())
        .where(*conditions).group_by(district_column, street_column)
    )
    return Counter({(district, street): n for district, street, n in rows})
