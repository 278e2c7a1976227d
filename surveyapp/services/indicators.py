"""Administrative indicators by district: read an uploaded CSV, check all of it, store it.

A row says "in district D, indicator K has value V" (``310109,product_pass_rate,95.1``); the
optional columns ``unit``, ``direction`` (benefit: higher is better; cost: higher is worse),
``target``, ``source``, ``label_zh`` and ``label_en`` describe the indicator and need be
given on one of its rows only (where given twice they must agree). Every problem is collected
with its line and column, in the reader's language, and an upload with any problem stores
nothing: a composite index must never rest on half a file.
"""
from __future__ import annotations

import csv
import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from surveyapp.extensions import db
from surveyapp.models.indicators import DIRECTIONS, Indicator, IndicatorSet, IndicatorValue
from surveyapp.models.survey import District, Wave

REQUIRED_COLUMNS = ("district", "indicator", "value")
DESCRIBING_COLUMNS = ("unit", "direction", "target", "source", "label_zh", "label_en")
COLUMNS = (*REQUIRED_COLUMNS, *DESCRIBING_COLUMNS)
LIMITS = {"unit": 40, "label_zh": 120, "label_en": 120, "source": 500}
KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
SURVEY_PREFIX = "survey_"  # keys of the survey's own scores (surveyapp.services.composite)
NAME_MAX_LENGTH = 80
MAX_ROWS = 20_000
YEARS = range(1949, 2200)


@dataclass(frozen=True)
class IndicatorProblem:
    """What is wrong, at which CSV line (1 = the header) and column where there is one."""

    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        if self.line is not None and self.column:
            return _("line %(line)d, column %(column)s: %(message)s", line=self.line,
                     column=self.column, message=self.message)
        if self.line is not None:
            return _("line %(line)d: %(message)s", line=self.line, message=self.message)
        if self.column:
            return _("%(column)s: %(message)s", column=self.column, message=self.message)
        return self.message


class IndicatorUploadError(ValueError):
    """The upload was refused; ``problems`` lists every reason (nothing was stored)."""

    def __init__(self, problems: list[IndicatorProblem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class _Draft:
    """An indicator being read: its describing cells (first given wins) and its values."""

    key: str
    cells: dict[str, tuple[str, int]]
    values: dict[str, tuple[float, int]]


def import_indicators(name: str, wave: Wave, year: int | str, text: str,
                      description: str = "", *, is_demo: bool = False) -> IndicatorSet:
    """Check and add an indicator set for ``wave`` (flushed, not committed).

    Raises IndicatorUploadError with every problem; then nothing has been added.
    """
    problems = [*_name_problems(name), *_year_problems(year)]
    drafts, found = _read(text)
    problems.extend(found)
    if not problems:
        problems.extend(_coverage_problems(drafts))
    if problems:
        raise IndicatorUploadError(problems)
    indicator_set = IndicatorSet(name=name.strip(), wave=wave, year=int(year),
                                 description=description, is_demo=is_demo,
                                 indicators=[_indicator(d) for d in drafts.values()])
    db.session.add(indicator_set)
    db.session.flush()
    return indicator_set


def _name_problems(name: str) -> list[IndicatorProblem]:
    field = _("name")
    if not name.strip():
        return [IndicatorProblem(_("a name is required"), column=field)]
    if len(name.strip()) > NAME_MAX_LENGTH:
        return [IndicatorProblem(_("at most %(limit)d characters", limit=NAME_MAX_LENGTH),
                                 column=field)]
    if db.session.scalar(sa.select(IndicatorSet.id).where(IndicatorSet.name == name.strip())):
        return [IndicatorProblem(_("an indicator set named '%(name)s' already exists",
                                   name=name.strip()), column=field)]
    return []


def _year_problems(year: int | str) -> list[IndicatorProblem]:
    text = str(year).strip()
    if text.isascii() and text.isdigit() and int(text) in YEARS:
        return []
    return [IndicatorProblem(_("'%(value)s' is not a year; expected e.g. 2024", value=text),
                             column=_("year"))]


def _read(text: str) -> tuple[dict[str, _Draft], list[IndicatorProblem]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    problems: list[IndicatorProblem] = []
    drafts: dict[str, _Draft] = {}
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        problems.extend(_header_problems(header))
        if problems:
            return {}, problems
        position = {column: header.index(column) for column in COLUMNS if column in header}
        districts = set(db.session.scalars(sa.select(District.code)))
        for cells in reader:
            line = reader.line_num
            if line > MAX_ROWS + 1:
                problems.append(IndicatorProblem(
                    _("more than %(limit)d rows; split the file", limit=MAX_ROWS), line=line))
                break
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                problems.append(IndicatorProblem(
                    _("expected %(expected)d cells, found %(found)d", expected=len(header),
                      found=len(cells)), line=line))
                continue
            row = {column: cells[index].strip() for column, index in position.items()}
            problems.extend(_row_problems(row, line, districts, drafts))
    except csv.Error as error:  # a stray NUL byte, a cell over the csv module's limit
        problems.append(IndicatorProblem(_("not readable as CSV (%(reason)s)", reason=error),
                                         line=reader.line_num))
    if not drafts and not problems:
        problems.append(IndicatorProblem(_("the file has no indicator values")))
    return drafts, problems


def _header_problems(header: list[str]) -> list[IndicatorProblem]:
    problems = []
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        problems.append(IndicatorProblem(
            _("missing column(s) %(columns)s; expected the header %(header)s",
              columns=", ".join(missing), header=",".join(REQUIRED_COLUMNS)), line=1))
    for column in header:
        if column not in COLUMNS:
            problems.append(IndicatorProblem(
                _("unknown column; expected some of %(known)s", known=", ".join(COLUMNS)),
                line=1, column=column or "''"))
        elif header.count(column) > 1:
            problems.append(IndicatorProblem(_("the column is given twice"), line=1,
                                             column=column))
    return list(dict.fromkeys(problems))


def _row_problems(row: dict[str, str], line: int, districts: set[str],
                  drafts: dict[str, _Draft]) -> list[IndicatorProblem]:
    problems = []
    district, key, value = row["district"], row["indicator"], row["value"]
    if district not in districts:
        problems.append(IndicatorProblem(
            _("unknown district '%(value)s'; expected a district code of the geography",
              value=district), line, "district"))
    if not KEY.fullmatch(key) or key.startswith(SURVEY_PREFIX):
        problems.append(IndicatorProblem(
            _("'%(value)s' is not an indicator key; expected lower-case letters, digits and _ "
              "(at most 40, starting with a letter, not with 'survey_')", value=key),
            line, "indicator"))
        return problems
    number = _number(value)
    if number is None:
        problems.append(IndicatorProblem(_("'%(value)s' is not a number", value=value),
                                         line, "value"))
    draft = drafts.setdefault(key, _Draft(key, {}, {}))
    if district in draft.values:
        problems.append(IndicatorProblem(
            _("%(district)s %(indicator)s is given twice (first on line %(first)d)",
              district=district, indicator=key, first=draft.values[district][1]),
            line, "district"))
    elif number is not None and district in districts:
        draft.values[district] = (number, line)
    for column in DESCRIBING_COLUMNS:
        problems.extend(_describing_problems(draft, column, row.get(column, ""), line))
    return problems


def _describing_problems(draft: _Draft, column: str, cell: str, line: int
                         ) -> list[IndicatorProblem]:
    if not cell:
        return []
    if column == "direction" and cell not in DIRECTIONS:
        return [IndicatorProblem(_("'%(value)s' is not a direction; expected benefit (higher is "
                                   "better) or cost (higher is worse)", value=cell),
                                 line, column)]
    if column == "target" and not (_number(cell) or 0) > 0:
        return [IndicatorProblem(_("'%(value)s' is not a positive number", value=cell),
                                 line, column)]
    if column in LIMITS and len(cell) > LIMITS[column]:
        return [IndicatorProblem(_("at most %(limit)d characters", limit=LIMITS[column]),
                                 line, column)]
    if column in draft.cells and draft.cells[column][0] != cell:
        first, first_line = draft.cells[column]
        return [IndicatorProblem(
            _("'%(value)s' differs from '%(first)s' given for %(indicator)s on line "
              "%(line)d", value=cell, first=first, indicator=draft.key, line=first_line),
            line, column)]
    draft.cells.setdefault(column, (cell, line))
    return []


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _coverage_problems(drafts: dict[str, _Draft]) -> list[IndicatorProblem]:
    """Each indicator needs a direction and a value in every district the file covers."""
    problems = []
    covered = sorted({d for draft in drafts.values() for d in draft.values})
    if len(covered) < 3:
        problems.append(IndicatorProblem(
            _("values for %(count)d district(s); an index needs at least 3", count=len(covered)),
            column="district"))
    for draft in drafts.values():
        if "direction" not in draft.cells:
            problems.append(IndicatorProblem(
                _("%(indicator)s: no direction; give benefit or cost on one of its rows",
                  indicator=draft.key), column="direction"))
        missing = [d for d in covered if d not in draft.values]
        if missing:
            problems.append(IndicatorProblem(
                _("%(indicator)s has no value for %(districts)s", indicator=draft.key,
                  districts=", ".join(missing)), column="value"))
    return problems


def _indicator(draft: _Draft) -> Indicator:
    cell = {column: value for column, (value, _line) in draft.cells.items()}
    return Indicator(
        key=draft.key, label_zh=cell.get("label_zh", draft.key),
        label_en=cell.get("label_en", draft.key), unit=cell.get("unit", ""),
        direction=cell["direction"], source=cell.get("source", ""),
        target=float(cell["target"]) if "target" in cell else None,
        values=[IndicatorValue(district_code=district, value=value)
                for district, (value, _line) in sorted(draft.values.items())])


def indicator_sets(wave: Wave | None = None) -> list[IndicatorSet]:
    """Stored sets, newest first (of ``wave`` only, when given)."""
    query = sa.select(IndicatorSet).order_by(IndicatorSet.created_at.desc(),
                                             IndicatorSet.id.desc())
    if wave is not None:
        query = query.where(IndicatorSet.wave_id == wave.id)
    return list(db.session.scalars(query))


def values_by_district(indicator_set: IndicatorSet) -> dict[str, dict[str, float]]:
    """``{indicator key: {district code: value}}``."""
    table: dict[str, dict[str, float]] = defaultdict(dict)
    for indicator in indicator_set.indicators:
        for value in indicator.values:
            table[indicator.key][value.district_code] = value.value
    return dict(table)
