"""Write a questionnaire as an XLSForm workbook (see surveyapp.xlsform for the mapping)."""
from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _

from surveyapp.questionnaires import Demographic, Questionnaire, Scale, Text
from surveyapp.xlsform.columns import (
    BANDS,
    CHOICES,
    COMMENT,
    DEFAULT_LANGUAGE,
    INTRO,
    LENGTH_CONSTRAINT,
    SETTINGS,
    SURVEY,
    label_column,
)

SURVEY_COLUMNS = ("type", "name", label_column("zh"), label_column("en"), "required",
                  "constraint", "choice_filter", "reverse", "weight")
CHOICE_COLUMNS = ("list_name", "name", label_column("zh"), label_column("en"), "district")
SETTINGS_COLUMNS = ("form_id", "version", "form_title", "form_title_en", "default_language")
BAND_COLUMNS = ("lower", "upper", label_column("zh"), label_column("en"))


class ExportError(ValueError):
    """The questionnaire cannot be laid out as an XLSForm; the message says why."""


def write_xlsform(questionnaire: Questionnaire, districts: Iterable[Any]) -> bytes:
    """The .xlsx bytes of ``questionnaire``; ``districts`` (code, name, streets) fill the
    district and street lists, which the questionnaire takes from the geography."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheets = {SURVEY: SURVEY_COLUMNS, CHOICES: CHOICE_COLUMNS, SETTINGS: SETTINGS_COLUMNS,
              BANDS: BAND_COLUMNS}
    rows = {SURVEY: _survey_rows(questionnaire), CHOICES: _choice_rows(questionnaire, districts),
            SETTINGS: [_settings_row(questionnaire)], BANDS: _band_rows(questionnaire)}
    workbook.remove(workbook.active)
    for name, columns in sheets.items():
        sheet = workbook.create_sheet(name)
        sheet.append(columns)
        for row in rows[name]:
            sheet.append([row.get(column, "") for column in columns])
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _labels(text: Text, column: str = "label") -> dict[str, str]:
    return {label_column("zh", column): text.zh, label_column("en", column): text.en}


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def _survey_rows(questionnaire: Questionnaire) -> list[dict[str, Any]]:
    rows = [{"type": "note", "name": INTRO, **_labels(questionnaire.intro)}]
    rows += _item_rows(questionnaire)
    lists = _demographic_lists(questionnaire)
    for demographic in questionnaire.demographics:
        row = {"type": f"select_one {lists[demographic.id]}", "name": demographic.id,
               **_labels(demographic.text), "required": _yes(demographic.required)}
        if demographic.kind == "street":
            row["choice_filter"] = "district=${district}"
        rows.append(row)
    if questionnaire.comment is not None:
        rows.append({"type": "text", "name": COMMENT, **_labels(questionnaire.comment.text),
                     "constraint": LENGTH_CONSTRAINT.format(questionnaire.comment.max_length)})
    return rows


def _item_rows(questionnaire: Questionnaire) -> list[dict[str, Any]]:
    """Items in their order, each dimension's run wrapped in its group (dimension order)."""
    rows: list[dict[str, Any]] = []
    seen: list[str] = []
    current = None
    for item in questionnaire.items:
        if item.dimension != current and current is not None:
            rows.append({"type": "end_group"})
        if item.dimension != current and item.dimension is not None:
            if item.dimension in seen:
                raise ExportError(_("items of dimension '%(id)s' are not consecutive; an "
                                    "XLSForm group holds them together", id=item.dimension))
            seen.append(item.dimension)
            dimension = questionnaire.dimension(item.dimension)
            rows.append({"type": "begin_group", "name": dimension.id, **_labels(dimension.name),
                         "weight": dimension.weight})
        current = item.dimension
        rows.append({"type": f"select_one {item.scale}", "name": item.id, **_labels(item.text),
                     "required": _yes(item.required), "reverse": _yes(item.reverse)})
    if current is not None:
        rows.append({"type": "end_group"})
    if seen != [dimension.id for dimension in questionnaire.dimensions]:
        raise ExportError(_("the dimensions' items are not in the dimensions' order; an "
                            "XLSForm records the order of the groups only"))
    return rows


def _demographic_lists(questionnaire: Questionnaire) -> dict[str, str]:
    """A list name per demographic: its id, unless a scale already has that name."""
    return {d.id: d.id if d.id not in questionnaire.scales else f"{d.id}_choices"
            for d in questionnaire.demographics}


def _choice_rows(questionnaire: Questionnaire, districts: Iterable[Any]) -> list[dict[str, Any]]:
    rows = [row for scale in questionnaire.scales.values() for row in _scale_rows(scale)]
    lists = _demographic_lists(questionnaire)
    for demographic in questionnaire.demographics:
        rows += _demographic_rows(demographic, lists[demographic.id], districts)
    return rows


def _scale_rows(scale: Scale) -> list[dict[str, Any]]:
    points = [*scale.points, *([scale.dont_know] if scale.dont_know else [])]
    return [{"list_name": scale.id, "name": point.value, **_labels(point.label)}
            for point in points]


def _demographic_rows(demographic: Demographic, list_name: str,
                      districts: Iterable[Any]) -> list[dict[str, Any]]:
    if demographic.kind == "district":
        return [{"list_name": list_name, "name": d.code, **_labels(d.name)} for d in districts]
    if demographic.kind == "street":
        return [{"list_name": list_name, "name": s.code, **_labels(s.name), "district": d.code}
                for d in districts for s in d.streets]
    return [{"list_name": list_name, "name": c.value, **_labels(c.label)}
            for c in demographic.choices]


def _settings_row(questionnaire: Questionnaire) -> dict[str, Any]:
    return {"form_id": questionnaire.id, "version": questionnaire.version,
            "form_title": questionnaire.title.zh, "form_title_en": questionnaire.title.en,
            "default_language": DEFAULT_LANGUAGE}


def _band_rows(questionnaire: Questionnaire) -> list[dict[str, Any]]:
    return [{"lower": band.lower, "upper": band.upper, **_labels(band.label)}
            for band in questionnaire.bands]
