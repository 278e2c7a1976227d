"""Who may see which district: admins and city analysts see all, a bureau only its own."""
from __future__ import annotations

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.accounts import User
from surveyapp.models.survey import District, Wave, wave_district

CITY_WIDE_ROLES = ("admin", "analyst")


def sees_all_districts(user: User) -> bool:
    return user.role in CITY_WIDE_ROLES


def can_see_district(user: User, district_code: str) -> bool:
    """True when ``user`` may see data about ``district_code``."""
    if sees_all_districts(user):
        return True
    return any(d.code == district_code for d in user.districts)


def visible_districts(user: User) -> list[District]:
    """The districts ``user`` may see, ordered by code."""
    if not sees_all_districts(user):
        return list(user.districts)
    return list(db.session.scalars(sa.select(District).order_by(District.code)))


def waves_by_district(districts: list[District]) -> list[tuple[District, list[Wave]]]:
    """For each district, the waves that cover it, newest first."""
    codes = [d.code for d in districts]
    rows = db.session.execute(
        sa.select(wave_district.c.district_code, Wave)
        .join(Wave, Wave.id == wave_district.c.wave_id)
        .where(wave_district.c.district_code.in_(codes))
        .order_by(Wave.opens_at.desc(), Wave.id.desc())
    ).all()
    by_code: dict[str, list[Wave]] = {code: [] for code in codes}
    for code, wave in rows:
        by_code[code].append(wave)
    return [(d, by_code[d.code]) for d in districts]


def city_waves(user: User) -> list[Wave]:
    """Every wave, newest first, for those who may read the city-wide report; else none."""
    if not sees_all_districts(user):
        return []
    return list(db.session.scalars(sa.select(Wave).order_by(Wave.opens_at.desc(), Wave.id.desc())))


def wave_covers(wave: Wave, district_code: str) -> bool:
    return any(d.code == district_code for d in wave.districts)


def wave_grid(rows: list[tuple[District, list[Wave]]]
              ) -> tuple[list[Wave], list[tuple[District, list[Wave | None]]]]:
    """``rows`` as a district-by-wave grid: every wave any district has, newest first, and for
    each district the wave in each column, or None where the wave does not cover it."""
    unique = {w.id: w for _, waves in rows for w in waves}.values()
    columns = sorted(unique, key=lambda w: (w.opens_at, w.id), reverse=True)
    return columns, [(d, [w if w in waves else None for w in columns]) for d, waves in rows]
