"""Staff pages in the service's own time zone (``BABEL_DEFAULT_TIMEZONE``, Asia/Shanghai).

The database keeps UTC; a city's quality office thinks in local time. A wave typed as opening
"2025-03-01 00:00" must open at midnight where the office is, not at 08:00, and every time a
page shows must read the same way, with its zone named so nobody has to guess. Forms convert
with :func:`from_local`, pages with :func:`format_local` (the ``local_time`` template filter)
and name the zone with :func:`zone_label`. Conversions go through zoneinfo, so a zone with
daylight saving time is handled too.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from surveyapp.models.survey import as_utc

DISPLAY_FORMAT = "%Y-%m-%d %H:%M"
# Chinese readers know their zone as Beijing time, not by its tz database name: (zh, en).
ZONE_NAMES = {"Asia/Shanghai": ("北京时间", "Beijing time")}


class LocalTimeError(ValueError):
    """A wall time the local zone skips (clocks go forward): no moment has it."""


def local_zone() -> ZoneInfo:
    """The configured zone; read per call so a test or another city can configure its own."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def to_local(moment: datetime) -> datetime:
    """A stored moment (aware, or naive UTC as SQLite returns it) in the local zone."""
    return as_utc(moment).astimezone(local_zone())


def from_local(wall: datetime) -> datetime:
    """A local wall time as typed on a form (naive) -> the aware UTC moment to store.

    A time repeated when clocks go back means its first occurrence; a time skipped when they go
    forward is refused rather than silently moved by an hour.
    """
    zone = local_zone()
    moment = wall.replace(tzinfo=zone).astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != wall:
        raise LocalTimeError(f"该时间在 {zone.key} 不存在（时钟拨快）/ "
                             f"{wall:{DISPLAY_FORMAT}} does not exist in {zone.key} "
                             "(clocks go forward)")
    return moment


def format_local(moment: datetime, seconds: bool = False) -> str:
    """'2025-03-01 00:00' in the local zone; where the zone has DST, its offset follows."""
    local = to_local(moment)
    text = local.strftime(DISPLAY_FORMAT + (":%S" if seconds else ""))
    if len(_offsets_this_year(local_zone())) > 1:
        text += " " + utc_offset(local.utcoffset())
    return text


def zone_label(lang: str | None = None) -> str:
    """The zone as pages name it, in both languages or in ``lang`` ("zh"/"en") only.

    '北京时间 Beijing time, UTC+08:00' ('Beijing time, UTC+08:00' for "en"); a zone with DST:
    'Europe/London, UTC+00:00/+01:00'.
    """
    offsets = "/".join(utc_offset(o).removeprefix("UTC" if i else "")
                       for i, o in enumerate(_offsets_this_year(local_zone())))
    return f"{zone_name(lang)}, {offsets}"


def zone_name(lang: str | None = None) -> str:
    """The zone's name without its offset: '北京时间 Beijing time', or one language's."""
    key = local_zone().key
    names = ZONE_NAMES.get(key, (key, key))
    return " ".join(dict.fromkeys(names)) if lang is None else names[lang == "en"]


def utc_offset(offset: timedelta) -> str:
    """'UTC+08:00', 'UTC-03:30'."""
    minutes = round(offset.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _offsets_this_year(zone: ZoneInfo) -> list[timedelta]:
    """Winter and summer offsets (one value for a zone without DST), smallest first."""
    year = datetime.now(UTC).year
    return sorted({datetime(year, month, 1, tzinfo=zone).utcoffset() for month in (1, 7)})
