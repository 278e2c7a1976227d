"""The one disclosure policy: which figures may leave the service, and to whom.

Every output a district bureau can reach goes through this module: the report content (and so
the report page, its charts and the PDF, XLSX and CSV files built from it) and the results of
estimate runs over the API. Microdata and free text are for analysts and admins only.

The rule, for a *partition* (the cells of one domain under one published total: the streets of
a district under the district's figure, the districts of the city under the city's figure, the
levels of a run's domain under its ``all`` row, for one outcome of one wave):

1. **Primary suppression.** A cell with fewer than ``threshold`` responses
   (SURVEYAPP_SUPPRESS_BELOW, default 30) is withheld.
2. **Complementary suppression.** The total minus the published cells reveals the responses
   in no published cell: the withheld cells together, plus those without a level (a missing
   domain value). That group must hold at least ``threshold`` responses, or none: while it is
   smaller, the smallest published cell (ties by key) is withheld too. So a single suppressed
   street always takes a second one with it, and two suppressed streets of 11 and 12 take a
   third, until no group under the threshold can be recovered by differencing.
3. **Totals.** A total with fewer than ``threshold`` responses withholds its whole partition.
4. **Changes.** A change between waves is withheld when its cell is withheld in either wave
   (the published side plus the change would give the withheld side).

Who gets what: reports are publications, so 1-4 apply to every reader of a report. In a
district's own report its own row stays (its figure is the headline anyway), and the city mean
is left out whenever another district is withheld. API runs apply 1-4 for bureau callers
(withheld cells keep their count but lose estimate, SE, interval, df and deff, and say
``"suppressed": true``); analysts and admins, who may read the microdata anyway, get full
results. A bureau's runs must select the responses its reports use (recorded exclusions, no
duration cut): two runs differing only in a selection rule would otherwise reveal the few
responses between them by differencing.

Microdata and free text go to analysts and admins only (API; the command line is the server's
operator). Their submission times are cut to the local day by default (``hour`` or ``full`` on
request), since a time to the second with a street and a few demographics singles people out.

Not covered: differencing across two *different* domains of one run (their crossing is never
published, only each margin); dimension and item rows of a district, whose small item counts
come from "don't know" answers, not from a small group; the own district's headline in its own
report, shown whatever its size.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import gettext as _

from surveyapp.choices import TIME_PRECISIONS
from surveyapp.models.accounts import User

if TYPE_CHECKING:  # only annotations: the command line reads this module's constants
    import pandas as pd

MICRODATA_ROLES = ("admin", "analyst")
ALL = "all"  # the level (and domain) of a run's total row, as in services/estimation.py
ESTIMATE_FIELDS = ("estimate", "se", "ci_low", "ci_high", "df", "deff")
CHANGE_FIELDS = ("difference", "se", "ci_low", "ci_high", "p_value", "significant")


class DisclosureRefused(PermissionError):
    """The caller's role may not receive this output; the message says why, in their language."""


def suppress_below() -> int:
    """Cells with fewer responses than this are withheld (SURVEYAPP_SUPPRESS_BELOW)."""
    return int(current_app.config["SURVEYAPP_SUPPRESS_BELOW"])


def withheld(counts: Mapping[str, int], total: int, threshold: int) -> frozenset[str]:
    """The cells of one partition to withhold: primary, then complementary suppression.

    ``counts`` maps each cell to its responses, ``total`` is the responses under the published
    total (at least their sum; the excess has no level and is never published).
    """
    if total < threshold:
        return frozenset(counts)
    out = {key for key, n in counts.items() if n < threshold}
    hidden = total - sum(counts.values()) + sum(counts[key] for key in out)
    published = sorted((n, key) for key, n in counts.items() if key not in out)
    while 0 < hidden < threshold and published:
        n, key = published.pop(0)
        out.add(key)
        hidden += n
    return frozenset(out)


# ----------------------------------------------------------------------------- who


def may_read_microdata(user: User | None) -> bool:
    """Microdata and free text: analysts and admins (``None`` is the server's command line)."""
    return user is None or user.role in MICRODATA_ROLES


def check_microdata(user: User | None) -> None:
    """DisclosureRefused unless ``user`` may receive individual responses."""
    if not may_read_microdata(user):
        raise DisclosureRefused(_(
            "microdata and free-text comments are for analyst and admin accounts only; a "
            "district bureau gets its figures from the reports and from estimate runs"))


def suppresses_runs_for(user: User | None) -> bool:
    """Whether run results given to ``user`` go through the policy (bureau accounts)."""
    return not may_read_microdata(user)


def check_run_selection(user: User | None, policy: str, min_duration_seconds: float | None,
                        *, crosstabs: bool = False) -> list[str]:
    """Problems (path: message) when a bureau's spec selects responses unlike its reports, or
    asks for crosstabs, whose cells count groups of any size (no suppression applies there)."""
    if not suppresses_runs_for(user):
        return []
    problems = []
    if policy != "recorded":
        problems.append("exclusions.policy: " + _(
            "a district bureau's runs use the recorded exclusions, as its reports do; "
            "expected 'recorded'"))
    if min_duration_seconds is not None:
        problems.append("exclusions.min_duration_seconds: " + _(
            "a district bureau's runs keep every response its reports use; leave this out"))
    if crosstabs:
        problems.append("crosstabs: " + _(
            "crosstabs count small groups, so they are for analysts and admins; leave this out"))
    return problems


# ----------------------------------------------------------------------------- run results


def disclosed_results(results: dict, threshold: int) -> dict:
    """A run's results with the policy applied: withheld cells keep ``n`` and lose the rest."""
    rows = results["estimates"]
    hidden = _withheld_cells(rows, threshold)
    estimates = [_blank(row, ESTIMATE_FIELDS) if _cell(row) in hidden else row for row in rows]
    comparisons = [
        _blank(row, CHANGE_FIELDS)
        if {(row["from_wave"], *_key(row)), (row["to_wave"], *_key(row))} & hidden else row
        for row in results["comparisons"]]
    return {**results, "estimates": estimates, "comparisons": comparisons,
            "disclosure": {"suppress_below": threshold, "withheld_cells": len(hidden),
                           "rule": "primary and complementary suppression; see "
                                   "surveyapp/services/disclosure.py"}}


def _key(row: Mapping[str, Any]) -> tuple[str, str, str]:
    return row["outcome"], row["domain"], row["level"]


def _cell(row: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (row["wave"], *_key(row))


def _withheld_cells(rows: Iterable[Mapping[str, Any]], threshold: int) -> set[tuple]:
    """Every (wave, outcome, domain, level) to withhold, partition by partition."""
    totals: dict[tuple[str, str], int] = {}
    partitions: dict[tuple[str, str, str], dict[str, int]] = {}
    for row in rows:
        n = int(row["n"] or 0)
        if row["domain"] == ALL:
            totals[(row["wave"], row["outcome"])] = n
        else:
            partitions.setdefault((row["wave"], row["outcome"], row["domain"]), {})[
                row["level"]] = n
    hidden = {(wave, outcome, ALL, ALL) for (wave, outcome), n in totals.items()
              if n < threshold}
    for (wave, outcome, domain), counts in partitions.items():
        total = totals.get((wave, outcome), sum(counts.values()))
        hidden |= {(wave, outcome, domain, level)
                   for level in withheld(counts, max(total, sum(counts.values())), threshold)}
    return hidden


def _blank(row: Mapping[str, Any], fields: tuple[str, ...]) -> dict:
    return {**row, **dict.fromkeys(fields), "suppressed": True}


# ----------------------------------------------------------------------------- microdata

TIME_COLUMNS = ("submitted_at",)
_FLOOR = {"day": "D", "hour": "h"}


def coarsen_times(frame: pd.DataFrame, precision: str, zone: str) -> pd.DataFrame:
    """``frame`` with its time stamps cut to the local ``day`` or ``hour`` (``full``: as is).

    A submission time to the second, with a street and a few demographics, singles a resident
    out; the day (or hour) keeps what analysts use it for: fieldwork progress, late entries.
    The cut is made in the service's zone, so "day" is the residents' calendar day; the value
    stays a UTC moment, as the codebook says.
    """
    if precision not in TIME_PRECISIONS:
        raise ValueError(f"time precision: expected one of {', '.join(TIME_PRECISIONS)}; "
                         f"got {precision!r}")
    if precision == "full":
        return frame
    frame = frame.copy()
    for column in TIME_COLUMNS:
        if column in frame.columns:
            local = frame[column].dt.tz_convert(zone)
            frame[column] = local.dt.floor(_FLOOR[precision], ambiguous="NaT",
                                           nonexistent="shift_backward").dt.tz_convert("UTC")
    return frame
