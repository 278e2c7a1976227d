"""Population margins: validate and store known counts, and hand them to raking.

A margin row says "in district D, C people have V = K" (e.g. 310109, sex, F, 391000). Variables
and categories come from the questionnaire's demographic questions, so the margins always match
what respondents could answer. Every problem is reported, with its CSV line, instead of raising.
"""
from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from flask import has_request_context
from flask_babel import gettext

from surveyapp.extensions import db
from surveyapp.models.margins import MarginRow, MarginSet
from surveyapp.models.survey import District
from surveyapp.questionnaires import Questionnaire

CSV_COLUMNS = ("district", "variable", "category", "count")
NAME_MAX_LENGTH = 80
MAX_COUNT = 10**10  # more people than live anywhere: guards the column, flags typos

RakeMargins = dict[tuple[str, ...], dict[tuple[str, ...], int]]


def _(message: str, **values: object) -> str:
    """In a request, the user's language; elsewhere (CLI, demo, tests) the English msgid."""
    return gettext(message, **values) if has_request_context() else message % values


@dataclass(frozen=True)
class MarginInput:
    """One row as given, before validation; ``line`` is its CSV line (None for API input)."""

    district: str
    variable: str
    category: str
    count: str | int
    line: int | None = None


@dataclass(frozen=True)
class MarginProblem:
    """A reason the margins cannot be stored, tied to a CSV line and a field where possible."""

    message: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(_("line %(line)d", line=self.line))
        if self.field:
            where.append(self.field)
        return ": ".join([*where, self.message])


def demographic_categories(questionnaire: Questionnaire) -> dict[str, tuple[str, ...]]:
    """The variables margins may use: the questionnaire's choice demographics and their values."""
    return {
        question.id: tuple(choice.value for choice in question.choices)
        for question in questionnaire.demographics
        if question.kind == "choice"
    }


def parse_margins_csv(text: str) -> tuple[list[MarginInput], list[MarginProblem]]:
    """Read a ``district,variable,category,count`` CSV; structural problems come back, not raised."""
    lines = _RecordLines(text.lstrip("\ufeff"))
    reader = csv.reader(lines)
    rows: list[MarginInput] = []
    problems: list[MarginProblem] = []
    header: list[str] = []
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        missing = [column for column in CSV_COLUMNS if column not in header]
        if missing:
            return [], [MarginProblem(
                _("missing column(s) %(columns)s; expected the header %(header)s",
                  columns=", ".join(missing), header=",".join(CSV_COLUMNS)),
                line=1,
            )]
        position = {column: header.index(column) for column in CSV_COLUMNS}
        for cells in _records(reader, lines):
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) < len(header):
                problems.append(MarginProblem(
                    _("expected %(expected)d cells, found %(found)d",
                      expected=len(header), found=len(cells)),
                    line=line,
                ))
                continue
            rows.append(MarginInput(
                *(cells[position[column]].strip() for column in CSV_COLUMNS), line=line
            ))
    except csv.Error as error:  # a cell over the csv module's limit, or a stray NUL byte
        problems.append(_unreadable_record(lines, header, error))
    return rows, problems


class _RecordLines:
    """The CSV's lines for csv.reader, remembering those of the record being read, so that
    a record the reader refuses can be reported by its first line and its column."""

    def __init__(self, text: str):
        self._lines = io.StringIO(text)
        self.read = 0
        self.record: list[str] = []

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.read += 1
        self.record.append(line)
        return line

    def start_record(self) -> None:
        self.record = []

    @property
    def record_line(self) -> int:
        return self.read - len(self.record) + 1


def _records(reader: Iterator[list[str]], lines: _RecordLines) -> Iterator[list[str]]:
    while True:
        lines.start_record()
        cells = next(reader, None)
        if cells is None:
            return
        yield cells


# One field of the excel dialect: quoted (doubled quotes inside; maybe cut short) or bare.
_CSV_FIELD = re.compile(r'"(?:[^"]+|"")*(?:"|\Z)|[^,\r\n]*')


def _unreadable_record(lines: _RecordLines, header: list[str], error: csv.Error) -> MarginProblem:
    """The problem of a record csv.reader refused: which line, which column, and why."""
    record = "".join(lines.record)
    limit = csv.field_size_limit()
    position, index = 0, 0
    while position <= len(record):
        cell = _CSV_FIELD.match(record, position)
        if len(cell.group()) > limit:
            column = header[index] if index < len(header) else _("column %(number)d",
                                                                   number=index + 1)
            return MarginProblem(_("the cell is longer than %(limit)d characters",
                                   limit=limit), line=lines.record_line, field=column)
        position = cell.end()
        if not record.startswith(",", position):
            break
        position, index = position + 1, index + 1
    return MarginProblem(_("not readable as CSV (%(reason)s)", reason=error),
                         line=lines.record_line)


def validate_margins(
    rows: Iterable[MarginInput], questionnaire: Questionnaire
) -> tuple[list[MarginRow], list[MarginProblem]]:
    """Check every row and the totals; return the valid rows as models and all problems found."""
    known_districts = set(db.session.scalars(sa.select(District.code)))
    variables = demographic_categories(questionnaire)
    valid: list[MarginRow] = []
    problems: list[MarginProblem] = []
    seen: dict[tuple[str, str, str], int | None] = {}
    for row in rows:
        row_problems = _row_problems(row, known_districts, variables)
        key = (row.district, row.variable, row.category)
        if key in seen:
            row_problems.append(MarginProblem(
                _("%(district)s %(variable)s=%(category)s is given twice (first on line %(first)s)",
                  district=row.district, variable=row.variable, category=row.category,
                  first=seen[key] if seen[key] is not None else "?"),
                line=row.line, field="category",
            ))
        seen.setdefault(key, row.line)
        problems.extend(row_problems)
        if not row_problems:
            valid.append(MarginRow(district_code=row.district, variable=row.variable,
                                   category=row.category, count=int(row.count)))
    problems.extend(_coverage_problems(valid, variables))
    problems.extend(_total_problems(valid))
    return valid, problems


def _row_problems(
    row: MarginInput, districts: set[str], variables: dict[str, tuple[str, ...]]
) -> list[MarginProblem]:
    problems = []
    if row.district not in districts:
        problems.append(MarginProblem(
            _("unknown district '%(value)s'; expected a district code of the geography",
              value=row.district),
            line=row.line, field="district",
        ))
    if row.variable not in variables:
        problems.append(MarginProblem(
            _("unknown variable '%(value)s'; expected one of %(known)s",
              value=row.variable, known=", ".join(variables)),
            line=row.line, field="variable",
        ))
    elif row.category not in variables[row.variable]:
        problems.append(MarginProblem(
            _("unknown category '%(value)s' of %(variable)s; expected one of %(known)s",
              value=row.category, variable=row.variable,
              known=", ".join(variables[row.variable])),
            line=row.line, field="category",
        ))
    if not _is_count(row.count):
        problems.append(MarginProblem(
            _("'%(value)s' is not a count; expected a whole number of people from 0 to %(max)d",
              value=row.count, max=MAX_COUNT),
            line=row.line, field="count",
        ))
    return problems


def _is_count(value: str | int) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        if not (value.isdigit() and value.isascii()):
            return False
        value = int(value)
    return isinstance(value, int) and 0 <= value <= MAX_COUNT


def _coverage_problems(
    rows: list[MarginRow], variables: dict[str, tuple[str, ...]]
) -> list[MarginProblem]:
    """Raking needs, for every district, every category of every variable given at all."""
    given: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        given[row.district_code][row.variable].add(row.category)
    used = sorted({row.variable for row in rows})
    problems = []
    for district in sorted(given):
        for variable in used:
            missing = [c for c in variables[variable] if c not in given[district][variable]]
            if missing:
                problems.append(MarginProblem(
                    _("district %(district)s has no count for %(variable)s = %(missing)s",
                      district=district, variable=variable, missing=", ".join(missing)),
                    field=variable,
                ))
    return problems


def _total_problems(rows: list[MarginRow]) -> list[MarginProblem]:
    """Each variable splits the same population, so a district's totals must agree."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        totals[row.district_code][row.variable] += row.count
    problems = []
    for district in sorted(totals):
        by_variable = totals[district]
        if len(set(by_variable.values())) > 1:
            problems.append(MarginProblem(_(
                "district %(district)s: the totals differ between variables (%(totals)s); "
                "each variable must add up to the same population",
                district=district,
                totals=", ".join(f"{v} {n}" for v, n in sorted(by_variable.items())),
            )))
    return problems


def store_margins(
    name: str,
    description: str,
    rows: Iterable[MarginInput],
    questionnaire: Questionnaire,
    *,
    is_demo: bool = False,
) -> tuple[MarginSet | None, list[MarginProblem]]:
    """Validate and add a margin set (flushed, not committed); nothing is added if any problem."""
    return _store(name, description, rows, questionnaire, [], is_demo=is_demo)


def import_margins_csv(
    name: str, description: str, text: str, questionnaire: Questionnaire
) -> tuple[MarginSet | None, list[MarginProblem]]:
    """Parse, validate and store a margins CSV; every problem is returned with its line."""
    rows, problems = parse_margins_csv(text)
    return _store(name, description, rows, questionnaire, problems, is_demo=False)


def _store(
    name: str,
    description: str,
    rows: Iterable[MarginInput],
    questionnaire: Questionnaire,
    problems: list[MarginProblem],
    *,
    is_demo: bool,
) -> tuple[MarginSet | None, list[MarginProblem]]:
    problems = [*problems, *_name_problems(name)]
    valid, row_problems = validate_margins(rows, questionnaire)
    problems.extend(row_problems)
    if not valid and not problems:
        problems.append(MarginProblem(_("no margin rows were given")))
    if problems:
        return None, sorted(problems, key=_problem_order)
    margin_set = MarginSet(name=name, description=description, is_demo=is_demo, rows=valid)
    db.session.add(margin_set)
    db.session.flush()
    return margin_set, []


def _name_problems(name: str) -> list[MarginProblem]:
    if not name.strip():
        return [MarginProblem(_("a name is required"), field="name")]
    if len(name) > NAME_MAX_LENGTH:
        return [MarginProblem(
            _("at most %(limit)d characters", limit=NAME_MAX_LENGTH), field="name"
        )]
    if db.session.scalar(sa.select(MarginSet.id).where(MarginSet.name == name)) is not None:
        return [MarginProblem(
            _("a margin set named '%(name)s' already exists", name=name), field="name"
        )]
    return []


def _problem_order(problem: MarginProblem) -> tuple[bool, int]:
    """Line-bound problems first, in file order; set-wide ones (totals, coverage) after."""
    return (problem.line is None, problem.line or 0)


def rake_margins(margin_set: MarginSet) -> RakeMargins:
    """The set's counts in the form ``SurveyDesign.rake`` takes, one margin per variable:
    ``{("district", "sex"): {("310109", "F"): 391000, ...}, ("district", "age_group"): {...}}``.
    """
    margins: RakeMargins = defaultdict(dict)
    rows = db.session.scalars(
        sa.select(MarginRow)
        .where(MarginRow.margin_set_id == margin_set.id)
        .order_by(MarginRow.variable, MarginRow.district_code, MarginRow.category)
    )
    for row in rows:
        margins[("district", row.variable)][(row.district_code, row.category)] = row.count
    return dict(margins)
