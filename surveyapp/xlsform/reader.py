"""Read an XLSForm workbook into questionnaire YAML, every problem placed at its cell.

The workbook is turned into the YAML document of questionnaires/README.md while remembering
which cell each value came from; the usual validator then checks that document, and each of
its problems (``items[3].scale: ...``) is reported at the cell it came from ("sheet survey,
row 7, column C: ..."). The YAML text is what gets stored and hashed, as for an uploaded file.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import yaml
from flask_babel import gettext as _

from surveyapp.questionnaires import (
    DEMOGRAPHIC_IDS,
    SCHEMA_VERSION,
    Problem,
    Questionnaire,
    QuestionnaireError,
    parse_questionnaire,
)
from surveyapp.xlsform.columns import (
    BANDS,
    CHOICES,
    COMMENT,
    INTRO,
    LENGTH_PATTERN,
    SETTINGS,
    SURVEY,
    TRANSLATED,
)

SHEET_ORDER = (SURVEY, CHOICES, SETTINGS, BANDS)
# Without a bands sheet (or with no rows in it) the questionnaire gets the default band table
# (surveyapp.questionnaires.DEFAULT_BANDS), as a YAML file without ``bands`` does.
OPTIONAL_SHEETS = (BANDS,)
MAX_ROWS = 5000  # per sheet: a questionnaire has dozens; this bounds a hostile upload
DEFAULT_COMMENT_LENGTH = 500  # a Kobo text question has no length limit; ours needs one
# Metadata a KoboToolbox form records by itself; they ask the resident nothing.
METADATA_TYPES = frozenset({"start", "end", "today", "deviceid", "subscriberid", "simserial",
                            "phonenumber", "username", "email", "audit", "start-geopoint"})
_PARAMETER = re.compile(r"(\w+)\s*=\s*(-?\d+)")
_TRUE = {"yes", "true", "true()", "1"}
_FALSE = {"", "no", "false", "false()", "0"}


@dataclass(frozen=True)
class Cell:
    sheet: str
    row: int | None = None
    column: str | None = None

    def describe(self) -> str:
        if self.row is None:
            return _("sheet %(sheet)s", sheet=self.sheet)
        if self.column is None:
            return _("sheet %(sheet)s, row %(row)d", sheet=self.sheet, row=self.row)
        return _("sheet %(sheet)s, row %(row)d, column %(column)s", sheet=self.sheet,
                 row=self.row, column=self.column)

    def order(self) -> tuple[int, int, int, str]:
        """Workbook order: sheet, row, then column (A before B, Z before AA)."""
        column = self.column or ""
        return (SHEET_ORDER.index(self.sheet) if self.sheet in SHEET_ORDER else -1,
                self.row or 0, len(column), column)


@dataclass
class _Row:
    number: int
    values: dict[str, Any]

    def get(self, column: str) -> Any:
        return self.values.get(column)

    def text(self, column: str) -> str:
        value = self.values.get(column)
        return "" if value is None else str(value).strip()


@dataclass
class _Sheet:
    name: str
    letters: dict[str, str]  # column name (label::zh for label::Chinese (zh)) -> letter
    rows: list[_Row]



@dataclass
class _Reader:
    source: str
    located: list[tuple[Cell, str]] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)

    def problem(self, cell: Cell, reason: str) -> None:
        self.located.append((cell, reason))

    @property
    def problems(self) -> list[Problem]:
        """One problem per cell (the first found: later ones share its cause), in workbook
        order, so a sheet reads top to bottom."""
        first: dict[Cell, str] = {}
        for cell, reason in self.located:
            first.setdefault(cell, reason)
        return [Problem(self.source, cell.describe(), reason)
                for cell, reason in sorted(first.items(), key=lambda entry: entry[0].order())]

    def at(self, path: str, sheet: _Sheet, row: _Row, column: str | None = None) -> None:
        """Remember where ``path`` came from; a column the sheet lacks is at its header row."""
        if column is not None and column not in sheet.letters:
            self.cells[path] = Cell(sheet.name, 1)
        else:
            self.cells[path] = Cell(sheet.name, row.number, sheet.letters.get(column))

    def texts(self, path: str, sheet: _Sheet, row: _Row, column: str = "label") -> dict:
        """``{zh, en}`` from the row's translated columns, each cell remembered."""
        self.at(path, sheet, row, f"{column}::zh")
        for lang in ("zh", "en"):
            self.at(f"{path}.{lang}", sheet, row, f"{column}::{lang}")
        return {lang: row.get(f"{column}::{lang}") for lang in ("zh", "en")}


def read_xlsform(data: bytes, source_name: str) -> tuple[Questionnaire, str]:
    """The questionnaire an .xlsx XLSForm defines and the YAML text to store for it.

    Raises QuestionnaireError listing every problem, each at its sheet, row and column.
    """
    reader = _Reader(source_name)
    sheets = _load_sheets(reader, data)
    if reader.problems:
        raise QuestionnaireError(reader.problems)
    _check_columns(reader, sheets)
    if reader.problems:
        raise QuestionnaireError(reader.problems)
    document = _document(reader, sheets)
    text = f"# {source_name} (XLSForm)\n" + yaml.safe_dump(
        document, allow_unicode=True, sort_keys=False, width=100)
    try:
        questionnaire = parse_questionnaire(text, source_name)
    except QuestionnaireError as error:  # reported with the sheet's own problems, at once
        for problem in error.details:
            reader.problem(_cell_of(reader, problem.path), problem.reason)
    if reader.problems:
        raise QuestionnaireError(reader.problems)
    return questionnaire, text


def _cell_of(reader: _Reader, path: str) -> Cell:
    """The cell a validator path came from (or the nearest enclosing one's)."""
    while path and path not in reader.cells:
        path = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", path) if re.search(r"[.\[]", path) else ""
    return reader.cells.get(path, Cell(SURVEY))


# --------------------------------------------------------------------------- the workbook


def _load_sheets(reader: _Reader, data: bytes) -> dict[str, _Sheet]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        # what openpyxl raises for a file that is no workbook, or one with parts missing
        raise QuestionnaireError([Problem(reader.source, "", _(
            "not an Excel workbook (.xlsx); save the XLSForm as .xlsx and upload it again"))]) \
            from None
    sheets = {}
    names = {name.strip().lower(): name for name in workbook.sheetnames}
    for wanted in SHEET_ORDER:
        if wanted not in names and wanted in OPTIONAL_SHEETS:
            continue
        if wanted not in names:
            reader.problem(Cell(wanted), _("the workbook has no '%(sheet)s' sheet",
                                           sheet=wanted))
            continue
        sheets[wanted] = _read_sheet(reader, workbook[names[wanted]], wanted)
    workbook.close()
    return sheets


def _read_sheet(reader: _Reader, worksheet: Any, name: str) -> _Sheet:
    from openpyxl.utils import get_column_letter

    rows = worksheet.iter_rows(min_row=1, min_col=1, values_only=True)
    columns = {index: _column_name(value)
               for index, value in enumerate(next(rows, ()), start=1) if _column_name(value)}
    letters = {column: get_column_letter(index) for index, column in columns.items()}
    sheet = _Sheet(name, letters, [])
    for number, cells in enumerate(rows, start=2):
        values = {columns[index]: _cell_value(value) for index, value in enumerate(cells, 1)
                  if index in columns and _cell_value(value) is not None}
        if not values:
            continue
        if len(sheet.rows) >= MAX_ROWS:
            reader.problem(Cell(name, number), _("more than %(count)d rows", count=MAX_ROWS))
            break
        sheet.rows.append(_Row(number, values))
    return sheet


def _column_name(value: Any) -> str:
    """'type', 'label::zh' for 'label::Chinese (zh)'; '' for an empty header cell."""
    text = "" if value is None else str(value).strip()
    match = TRANSLATED.fullmatch(text)
    if match:
        code = (match["code"] or match["bare"]).lower().split("-")[0]
        return f"{match['column'].lower()}::{code}"
    return text.lower()


def _cell_value(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --------------------------------------------------------------------------- the document


def _document(reader: _Reader, sheets: dict[str, _Sheet]) -> dict[str, Any]:
    lists = _choice_lists(sheets[CHOICES])
    document: dict[str, Any] = {"schema_version": SCHEMA_VERSION, **_settings(reader, sheets)}
    survey = _Survey(reader, sheets[SURVEY], sheets[CHOICES], lists)
    survey.read()
    document |= survey.parts()
    if BANDS in sheets and sheets[BANDS].rows:
        document["bands"] = _bands(reader, sheets[BANDS])
    return document


REQUIRED_COLUMNS = {
    SURVEY: ("type", "name", "label::zh", "label::en"),
    CHOICES: ("list_name", "name", "label::zh", "label::en"),
    SETTINGS: ("form_id", "version", "form_title", "form_title_en"),
    BANDS: ("lower", "upper", "label::zh", "label::en"),
}
_SPELLED = {"label::zh": "label::Chinese (zh)", "label::en": "label::English (en)"}


def _check_columns(reader: _Reader, sheets: dict[str, _Sheet]) -> None:
    """Missing columns are found before anything is read, each once at its sheet's header."""
    for name, columns in REQUIRED_COLUMNS.items():
        if name not in sheets:  # an optional sheet left out
            continue
        present = set(sheets[name].letters) | ({"form_id"} if name == SETTINGS and
                                               "id_string" in sheets[name].letters else set())
        for column in columns:
            if column not in present:
                reader.problem(Cell(name, 1), _("no '%(column)s' column",
                                                column=_SPELLED.get(column, column)))


def _settings(reader: _Reader, sheets: dict[str, _Sheet]) -> dict[str, Any]:
    sheet = sheets[SETTINGS]
    if not sheet.rows:
        reader.problem(Cell(SETTINGS, 2), _("no settings row (form_id, version, form_title, "
                                            "form_title_en)"))
        return {}
    row = sheet.rows[0]
    id_column = "form_id" if "form_id" in sheet.letters else "id_string"
    reader.at("id", sheet, row, id_column)
    reader.at("version", sheet, row, "version")
    reader.at("title", sheet, row, "form_title")
    reader.at("title.zh", sheet, row, "form_title")
    reader.at("title.en", sheet, row, "form_title_en")
    version = row.get("version")
    return {"id": row.get(id_column), "version": version if isinstance(version, int | None)
            else str(version),
            "title": {"zh": row.get("form_title"), "en": row.get("form_title_en")}}


def _choice_lists(sheet: _Sheet) -> dict[str, list[_Row]]:
    lists: dict[str, list[_Row]] = {}
    for row in sheet.rows:
        lists.setdefault(row.text("list_name"), []).append(row)
    return lists


def _bands(reader: _Reader, sheet: _Sheet) -> list[dict[str, Any]]:
    bands = []
    for index, row in enumerate(sheet.rows):
        path = f"bands[{index}]"
        reader.at(path, sheet, row)
        reader.at(f"{path}.lower", sheet, row, "lower")
        reader.at(f"{path}.upper", sheet, row, "upper")
        bands.append({"lower": row.get("lower"), "upper": row.get("upper"),
                      "label": reader.texts(f"{path}.label", sheet, row)})
    reader.cells["bands"] = Cell(BANDS, 1)
    return bands


def _flag(reader: _Reader, sheet: _Sheet, row: _Row, column: str) -> bool:
    value = row.get(column)
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text not in _TRUE | _FALSE:
        reader.problem(Cell(sheet.name, row.number, sheet.letters.get(column)),
                       _("'%(value)s' is not yes or no", value=value))
    return text in _TRUE


class _Survey:
    """Walks the survey sheet once, building items, dimensions, demographics and the rest."""

    def __init__(self, reader: _Reader, sheet: _Sheet, choices: _Sheet,
                 lists: dict[str, list[_Row]]):
        self.reader, self.sheet, self.choices, self.lists = reader, sheet, choices, lists
        self.items: list[dict[str, Any]] = []
        self.dimensions: list[dict[str, Any]] = []
        self.demographics: list[dict[str, Any]] = []
        self.scales: dict[str, dict[str, Any]] = {}
        self.intro: dict[str, Any] | None = None
        self.comment: dict[str, Any] | None = None
        self.group: _Row | None = None

    def read(self) -> None:
        for row in self.sheet.rows:
            self._row(row)
        if self.group is not None:
            self._problem(self.group, "type", _("begin_group without its end_group"))
        if self.intro is None:
            self.reader.problem(Cell(SURVEY), _("no note named 'intro' (the introduction "
                                                "residents read first)"))

    def parts(self) -> dict[str, Any]:
        overall = next((item["id"] for item in self.items if "dimension" not in item), None)
        parts = {"intro": self.intro, "scales": list(self.scales.values()),
                 "dimensions": self.dimensions, "items": self.items, "overall_item": overall,
                 "demographics": self.demographics}
        if overall is not None:
            self.reader.cells["overall_item"] = self.reader.cells[
                f"items[{[i['id'] for i in self.items].index(overall)}].id"]
        return parts | ({"comment": self.comment} if self.comment else {})

    def _problem(self, row: _Row, column: str, reason: str) -> None:
        self.reader.problem(Cell(SURVEY, row.number, self.sheet.letters.get(column)), reason)

    def _row(self, row: _Row) -> None:
        kind, _space, argument = re.sub(r"\s+", " ", row.text("type")).partition(" ")
        if kind in ("begin", "end") and argument:  # "begin group" is the older spelling of begin_group
            kind, argument = f"{kind}_{argument}", ""
        name = row.text("name")
        if kind in METADATA_TYPES:
            return
        if kind == "begin_group":
            self._begin_group(row)
        elif kind == "end_group":
            if self.group is None:
                self._problem(row, "type", _("end_group without a begin_group"))
            self.group = None
        elif kind == "note" and name == INTRO:
            self.intro = self.reader.texts(INTRO, self.sheet, row)
        elif kind == "text" and name == COMMENT:
            self._comment(row)
        elif kind == "select_one" and name in DEMOGRAPHIC_IDS:
            self._demographic(row, argument.strip())
        elif kind == "select_one":
            self._item(row, argument.strip())
        elif kind == "range":
            self._item(row, self._range_scale(row))
        else:
            self._problem(row, "type", _(
                "type '%(type)s' has no place in a surveyapp questionnaire (rated select_one "
                "or range items in groups, the demographics sex, age_group, district, street "
                "and residence_years, a note 'intro' and a text 'comment')",
                type=row.text("type")))

    def _begin_group(self, row: _Row) -> None:
        if self.group is not None:
            self._problem(row, "type", _("groups cannot be nested: a group is a dimension"))
        self.group = row
        path = f"dimensions[{len(self.dimensions)}]"
        self.reader.at(path, self.sheet, row)
        self.reader.at(f"{path}.id", self.sheet, row, "name")
        self.reader.at(f"{path}.weight", self.sheet, row, "weight")
        dimension = {"id": row.get("name"), "name": self.reader.texts(f"{path}.name", self.sheet,
                                                                      row)}
        if row.get("weight") is not None:
            dimension["weight"] = row.get("weight")
        self.dimensions.append(dimension)

    def _item(self, row: _Row, scale: str | None) -> None:
        path = f"items[{len(self.items)}]"
        self.reader.at(path, self.sheet, row)
        self.reader.at(f"{path}.id", self.sheet, row, "name")
        for key in ("scale", "dimension"):
            self.reader.at(f"{path}.{key}", self.sheet, row, "type")
        self.reader.at(f"{path}.required", self.sheet, row, "required")
        self.reader.at(f"{path}.reverse", self.sheet, row, "reverse")
        item = {"id": row.get("name"), "text": self.reader.texts(f"{path}.text", self.sheet, row),
                "scale": scale}
        if self.group is not None:
            item["dimension"] = self.group.get("name")
        item["required"] = _flag(self.reader, self.sheet, row, "required")
        item["reverse"] = _flag(self.reader, self.sheet, row, "reverse")
        self.items.append(item)
        if scale is not None and scale not in self.scales and scale in self.lists:
            self.scales[scale] = self._scale(scale)
        elif scale is not None and scale not in self.lists:
            self._problem(row, "type", _("choice list '%(list)s' is not in the choices sheet",
                                         list=scale))

    def _scale(self, list_name: str) -> dict[str, Any]:
        """Points lowest first; a last choice that breaks the run is the don't-know answer."""
        path = f"scales[{len(self.scales)}]"
        rows = self.lists[list_name]
        self.reader.cells[path] = self.reader.cells[f"{path}.id"] = Cell(
            CHOICES, rows[0].number, self.choices.letters.get("list_name"))
        self.reader.cells[f"{path}.points"] = self.reader.cells[path]
        points = [self._point(row, f"{path}.points[{index}]") for index, row in enumerate(rows)]
        values = [point["value"] for point in points]
        scale: dict[str, Any] = {"id": list_name, "points": points}
        if len(values) > 2 and isinstance(values[-1], int) and isinstance(values[-2], int) \
                and values[-1] != values[-2] + 1:
            scale["dont_know"] = points.pop()
            self.reader.cells[f"{path}.dont_know"] = self.reader.cells.pop(
                f"{path}.points[{len(points)}]")
            for key in ("value", "label", "label.zh", "label.en"):
                self.reader.cells[f"{path}.dont_know.{key}"] = self.reader.cells.pop(
                    f"{path}.points[{len(points)}].{key}")
        return scale

    def _point(self, row: _Row, path: str) -> dict[str, Any]:
        self.reader.at(path, self.choices, row)
        self.reader.at(f"{path}.value", self.choices, row, "name")
        value = row.get("name")
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            value = int(value)
        return {"value": value, "label": self.reader.texts(f"{path}.label", self.choices, row)}

    def _range_scale(self, row: _Row) -> str | None:
        """A range question's scale: its integer steps, each labelled by its number."""
        parameters = dict(_PARAMETER.findall(row.text("parameters")))
        start, end = int(parameters.get("start", 1)), int(parameters.get("end", 10))
        if parameters.get("step", "1") != "1" or end <= start:
            self._problem(row, "parameters", _("a range needs start < end and step=1"))
            return None
        scale_id = f"range_{start}_{end}".replace("-", "m")
        self.lists.setdefault(scale_id, [])
        self.scales.setdefault(scale_id, {"id": scale_id, "points": [
            {"value": value, "label": {"zh": str(value), "en": str(value)}}
            for value in range(start, end + 1)]})
        self.reader.cells.setdefault(f"scales[{len(self.scales) - 1}]",
                                     Cell(SURVEY, row.number, self.sheet.letters.get("parameters")))
        return scale_id

    def _demographic(self, row: _Row, list_name: str) -> None:
        path = f"demographics[{len(self.demographics)}]"
        self.reader.at(path, self.sheet, row)
        self.reader.at(f"{path}.id", self.sheet, row, "name")
        self.reader.at(f"{path}.kind", self.sheet, row, "type")
        self.reader.at(f"{path}.choices", self.sheet, row, "type")
        name = row.text("name")
        kind = name if name in ("district", "street") else "choice"
        entry = {"id": name, "kind": kind,
                 "text": self.reader.texts(f"{path}.text", self.sheet, row),
                 "required": _flag(self.reader, self.sheet, row, "required")}
        if kind == "choice":
            if list_name not in self.lists:
                self._problem(row, "type", _("choice list '%(list)s' is not in the choices "
                                             "sheet", list=list_name))
            entry["choices"] = [self._choice(choice, f"{path}.choices[{index}]")
                                for index, choice in enumerate(self.lists.get(list_name, []))]
        self.demographics.append(entry)

    def _choice(self, row: _Row, path: str) -> dict[str, Any]:
        self.reader.at(path, self.choices, row)
        self.reader.at(f"{path}.value", self.choices, row, "name")
        value = row.get("name")
        return {"value": None if value is None else str(value),
                "label": self.reader.texts(f"{path}.label", self.choices, row)}

    def _comment(self, row: _Row) -> None:
        self.reader.at(COMMENT, self.sheet, row)
        self.reader.at(f"{COMMENT}.max_length", self.sheet, row, "constraint")
        constraint = row.text("constraint")
        match = LENGTH_PATTERN.fullmatch(constraint)
        if constraint and not match:
            self._problem(row, "constraint", _("expected string-length(.) <= N (the longest "
                                               "comment, in characters)"))
        self.comment = {"text": self.reader.texts(f"{COMMENT}.text", self.sheet, row),
                        "max_length": int(match[1]) if match else DEFAULT_COMMENT_LENGTH}

