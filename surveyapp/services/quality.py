"""Data quality: find speeders, straight-liners and duplicates; exclude and re-include, audited.

Rules (applied per wave, over every response including already-excluded ones):

* speeder: completion time below SPEEDER_RATIO (1/3) of the wave's median completion time, once
  the wave has at least MIN_RESPONSES_FOR_MEDIAN timed responses (a median of a handful is noise);
* straight-liner: every answered rated item has the same value, with at least STRAIGHT_MIN_ITEMS
  items answered (a short answer sheet is not a grid);
* duplicate: the same district, street and demographics and identical answers (unanswered items
  included) as an earlier response; the earliest one stays unflagged.

Flags are never deleted. Excluding or re-including a response flips ``excluded`` on its flag and
writes an audit entry with who, when and why; estimation drops responses with an excluded flag.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask_babel import gettext as _

from surveyapp.extensions import db
from surveyapp.models.accounts import User
from surveyapp.models.quality import QualityFlag
from surveyapp.models.survey import Response
from surveyapp.queries import RESPONSE_COLUMNS, responses_frame
from surveyapp.services import audit

SPEEDER_RATIO = 1 / 3
MIN_RESPONSES_FOR_MEDIAN = 10
STRAIGHT_MIN_ITEMS = 5
DUPLICATE_KEYS = ("district", "street", "sex", "age_group", "residence_years")


class QualityError(ValueError):
    """An exclusion request that cannot be carried out; the message names the field."""


@dataclass(frozen=True)
class Finding:
    response_id: str
    kind: str
    detail: str


def kind_name(kind: str) -> str:
    """A flag's kind as a word ("Speeder"); an unknown kind stays as it is."""
    names = {"speeder": _("Speeder"), "straightliner": _("Straight-liner"),
             "duplicate": _("Duplicate"), "manual": _("Excluded by hand")}
    return names.get(kind, kind)


def describe_kind(kind: str) -> str:
    """A kind with the rule and thresholds this module applies: "Speeder: took less than 1/3
    of the wave's median time ..."."""
    ratio = str(Fraction(SPEEDER_RATIO).limit_denominator(100))
    rules = {
        "speeder": _("took less than %(ratio)s of the wave's median time (judged once "
                     "%(count)d responses are timed)", ratio=ratio,
                     count=MIN_RESPONSES_FOR_MEDIAN),
        "straightliner": _("the same answer to every rated item, at least %(count)d "
                           "answered", count=STRAIGHT_MIN_ITEMS),
        "duplicate": _("same district, street, demographics and answers as an earlier "
                       "response (the earliest is kept)"),
        "manual": _("an administrator excluded it and gave the reason"),
    }
    if kind not in rules:
        return kind
    return _("%(name)s: %(rule)s", name=kind_name(kind), rule=rules[kind])


def find_speeders(frame: pd.DataFrame) -> list[Finding]:
    """Responses completed in under a third of the wave's median time."""
    durations = frame["duration_seconds"].dropna()
    if len(durations) < MIN_RESPONSES_FOR_MEDIAN:
        return []
    median = durations.median()
    limit = median * SPEEDER_RATIO
    fast = frame[frame["duration_seconds"] < limit]
    return [Finding(response_id, "speeder",
                    f"{seconds:.0f}s < {limit:.0f}s (1/3 × median {median:.0f}s)")
            for response_id, seconds in zip(fast["response_id"], fast["duration_seconds"])]


def find_straightliners(frame: pd.DataFrame, item_ids: list[str]) -> list[Finding]:
    """Responses giving one and the same answer to every rated item they answered."""
    values = frame[item_ids].to_numpy(dtype=float)
    answered = ~np.isnan(values)
    lowest = np.where(answered, values, np.inf).min(axis=1, initial=np.inf)
    highest = np.where(answered, values, -np.inf).max(axis=1, initial=-np.inf)
    counts = answered.sum(axis=1)
    hits = (lowest == highest) & (counts >= STRAIGHT_MIN_ITEMS)
    return [Finding(response_id, "straightliner", f"{count} items all = {value:g}")
            for response_id, count, value in zip(frame["response_id"][hits], counts[hits],
                                                 lowest[hits])]


def find_duplicates(frame: pd.DataFrame, item_ids: list[str]) -> list[Finding]:
    """Later responses identical, answers and demographics, to an earlier one."""
    if frame.empty:
        return []
    ordered = frame.sort_values(["submitted_at", "response_id"])
    columns = ordered[[*DUPLICATE_KEYS, *item_ids]].astype("string").fillna("<NA>")
    signature = pd.util.hash_pandas_object(columns, index=False)  # one 64-bit hash per row
    first = ordered.groupby(signature, sort=False)["response_id"].transform("first")
    later = ordered["response_id"] != first
    return [Finding(response_id, "duplicate", f"same as {original}")
            for response_id, original in zip(ordered["response_id"][later], first[later])]


def detect(wave_id: int) -> int:
    """Flag the wave's speeders, straight-liners and duplicates; returns how many flags are new.

    Existing flags, and whether they are excluded, are left as they are.
    """
    frame = responses_frame(wave_id, exclude_flagged=False)
    item_ids = [column for column in frame.columns if column not in RESPONSE_COLUMNS]
    findings = [*find_speeders(frame), *find_straightliners(frame, item_ids),
                *find_duplicates(frame, item_ids)]
    known = {tuple(row) for row in db.session.execute(
        sa.select(QualityFlag.response_id, QualityFlag.kind)
        .join(Response, Response.id == QualityFlag.response_id)
        .where(Response.wave_id == wave_id)
    ).all()}
    new = [QualityFlag(response_id=f.response_id, kind=f.kind, detail=f.detail)
           for f in findings if (f.response_id, f.kind) not in known]
    db.session.add_all(new)
    db.session.flush()
    return len(new)


def flags_for_wave(wave_id: int, kind: str | None = None) -> list[tuple[QualityFlag, Response]]:
    """The wave's flags with their responses, for review: by kind, then submission time."""
    query = (sa.select(QualityFlag, Response)
             .join(Response, Response.id == QualityFlag.response_id)
             .where(Response.wave_id == wave_id)
             .order_by(QualityFlag.kind, Response.submitted_at, Response.id))
    if kind:
        query = query.where(QualityFlag.kind == kind)
    return [tuple(row) for row in db.session.execute(query)]


def flag_counts(wave_id: int) -> dict[str, dict[str, int]]:
    """{kind: {"flagged": n, "excluded": m}} for the wave."""
    rows = db.session.execute(
        sa.select(QualityFlag.kind, sa.func.count(),
                  sa.func.sum(sa.case((QualityFlag.excluded, 1), else_=0)))
        .join(Response, Response.id == QualityFlag.response_id)
        .where(Response.wave_id == wave_id)
        .group_by(QualityFlag.kind)
    ).all()
    return {kind: {"flagged": flagged, "excluded": int(excluded or 0)}
            for kind, flagged, excluded in rows}


def set_excluded(flag: QualityFlag, excluded: bool, actor: User | None, reason: str) -> None:
    """Exclude (or re-include) the flagged response, recording who, when and why."""
    reason = (reason or "").strip()
    if not reason:
        raise QualityError("理由：请说明原因 / reason: say why (required)")
    if flag.excluded == excluded:
        return
    flag.excluded = excluded
    audit.record(actor, "response.exclude" if excluded else "response.include",
                 f"response:{flag.response_id}", f"[{flag.kind}] {reason}")
    db.session.flush()


def exclude_flags(flag_ids: Sequence[int], wave_id: int, actor: User | None,
                  reason: str) -> int:
    """Exclude several flagged responses of one wave with one reason; how many changed.

    Everything is checked before anything changes: an unknown flag, one of another wave or
    a missing reason refuses the whole request.
    """
    if not (reason or "").strip():
        raise QualityError(_("reason: say why (required)"))
    wanted = set(flag_ids)
    if not wanted:
        raise QualityError(_("responses: select at least one"))
    flags = db.session.scalars(
        sa.select(QualityFlag).join(Response, Response.id == QualityFlag.response_id)
        .where(QualityFlag.id.in_(wanted), Response.wave_id == wave_id)
        .order_by(QualityFlag.id)).all()
    missing = wanted - {flag.id for flag in flags}
    if missing:
        raise QualityError(_("responses: no flag %(ids)s in this wave",
                             ids=", ".join(map(str, sorted(missing)))))
    changed = [flag for flag in flags if not flag.excluded]
    for flag in changed:
        set_excluded(flag, True, actor, reason)
    return len(changed)


def exclude_manually(response_id: str, wave_id: int, actor: User | None, reason: str) -> QualityFlag:
    """Exclude a response no rule flagged (e.g. a respondent's own report of a mistake)."""
    response = db.session.get(Response, (response_id or "").strip())
    if response is None or response.wave_id != wave_id:
        raise QualityError(f"答卷编号：本波次没有 {response_id} / response id: no such response "
                           "in this wave")
    flag = db.session.scalar(sa.select(QualityFlag).where(
        QualityFlag.response_id == response.id, QualityFlag.kind == "manual"))
    if flag is None:
        flag = QualityFlag(response_id=response.id, kind="manual", detail="", excluded=False)
        db.session.add(flag)
    set_excluded(flag, True, actor, reason)
    return flag
