"""What a printed letter or poster says, built by surveyapp.services.invitation_letters."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from surveyapp.questionnaires import Text


@dataclass(frozen=True)
class Notice:
    """What a letter or poster says about the survey: title, place, address and dates."""

    title: Text
    district: Text
    street: Text | None
    survey_url: str
    first_day: date  # local dates: a wave closing at 00:00 on 1 Dec ends on 30 Nov
    last_day: date
    zone: str  # '北京时间 Beijing time, UTC+08:00'


@dataclass(frozen=True)
class Invitation:
    code: str
    url: str  # survey_url with the code after '#'


@dataclass(frozen=True)
class Letters:
    notice: Notice
    invitations: list[Invitation]
