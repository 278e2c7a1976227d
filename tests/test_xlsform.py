"""XLSForm import and export: lossless round trip, a valid XLSForm for pyxform, a KoboToolbox-
style workbook imported, and every problem placed at its sheet, row and column."""
from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import openpyxl
import pytest
from pyxform.xls2xform import convert

from surveyapp.questionnaires import (
    DEFAULT_BANDS,
    Band,
    Questionnaire,
    QuestionnaireError,
    Text,
    load_geography,
    load_questionnaire,
)
from surveyapp.xlsform.reader import read_xlsform
from surveyapp.xlsform.writer import write_xlsform

QUESTIONNAIRE_DIR = Path(__file__).resolve().parent.parent / "questionnaires"
SHIPPED = ["citizen.yaml", "government.yaml", "public_service.yaml"]
DISTRICTS = load_geography(QUESTIONNAIRE_DIR / "geography" / "shanghai.yaml").districts


def exported(name: str) -> bytes:
    return write_xlsform(load_questionnaire(QUESTIONNAIRE_DIR / name), DISTRICTS)


def content(questionnaire: Questionnaire) -> Questionnaire:
    """The questionnaire without the identity of the file it came from."""
    return dataclasses.replace(questionnaire, content_hash="", source_name="")


def problems_of(data: bytes) -> list[str]:
    with pytest.raises(QuestionnaireError) as caught:
        read_xlsform(data, "form.xlsx")
    return caught.value.problems


def edited(data: bytes, changes: dict[str, dict[str, object]]) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for sheet, cells in changes.items():
        for coordinate, value in cells.items():
            workbook[sheet][coordinate] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("name", SHIPPED)
def test_export_then_import_gives_an_equal_questionnaire(name):
    questionnaire, text = read_xlsform(exported(name), "back.xlsx")
    assert content(questionnaire) == content(load_questionnaire(QUESTIONNAIRE_DIR / name))
    assert read_xlsform(exported(name), "again.xlsx")[1].splitlines()[1:] == \
        text.splitlines()[1:]  # the stored YAML is deterministic


@pytest.mark.parametrize("name", SHIPPED)
def test_export_is_a_form_pyxform_converts(name, tmp_path):
    path = tmp_path / "form.xlsx"
    path.write_bytes(exported(name))
    result = convert(xlsform=str(path))
    questionnaire = load_questionnaire(QUESTIONNAIRE_DIR / name)
    assert f'id="{questionnaire.id}"' in result.xform
    assert 'lang="English (en)"' in result.xform and questionnaire.items[0].text.en in result.xform
    assert "instance('street')/root/item[district= /data/district ]" in result.xform
    assert result.warnings == []


def test_export_lays_out_the_sheets_as_xlsform():
    workbook = openpyxl.load_workbook(io.BytesIO(exported("citizen.yaml")))
    survey = [[cell.value for cell in row] for row in workbook["survey"].iter_rows()]
    assert survey[0][:5] == ["type", "name", "label::Chinese (zh)", "label::English (en)",
                             "required"]
    assert survey[1][:2] == ["note", "intro"]
    assert survey[2][:4] == ["begin_group", "product", "产品质量", "Product quality"]
    assert survey[3][:2] == ["select_one sat10", "p_food"]
    street = next(row for row in survey if row[1] == "street")
    assert street[6] == "district=${district}"
    choices = [[cell.value for cell in row] for row in workbook["choices"].iter_rows()]
    sat10 = [row[1] for row in choices if row[0] == "sat10"]
    assert sat10 == [*range(1, 11), 99]  # points lowest first, then don't-know
    assert ["street", "310109001", "欧阳路街道", "Ouyanglu", "310109"] in choices
    settings = [cell.value for cell in workbook["settings"][2]]
    assert settings[:2] == ["citizen", "2024.1"]


def kobo_workbook() -> bytes:
    """A form as KoboToolbox's Excel export writes it: metadata rows, $kuid and hint columns,
    TRUE/FALSE cells, 'begin group', id_string, a range question and a 1-5 + 99 list."""
    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(["type", "name", "label::Chinese (zh)", "label::English (en)",
                   "hint::Chinese (zh)", "required", "parameters", "$kuid"])
    rows = [
        ["start", "start"], ["end", "end"],
        ["note", "intro", "您好，请花两分钟。", "Hello, two minutes please."],
        ["begin group", "service", "服务", "Service"],
        ["select_one sat", "s_wait", "等候时间", "Waiting time", "提示", True],
        ["range", "s_staff", "工作人员", "Staff", "", False, "start=0 end=10 step=1"],
        ["end group"],
        ["select_one sat", "overall_q", "总体满意度", "Overall", "", "TRUE"],
        ["select_one sex", "sex", "性别", "Sex", "", True],
        ["text", "comment", "意见", "Comments"],
    ]
    for index, row in enumerate(rows):
        survey.append(row + [""] * (7 - len(row)) + [f"k{index}"])
    choices = workbook.create_sheet("choices")
    choices.append(["list_name", "name", "label::Chinese (zh)", "label::English (en)"])
    for value in range(1, 6):
        choices.append(["sat", value, f"{value}分", f"{value} points"])
    choices.append(["sat", 99, "不了解", "Don't know"])
    choices.append(["sex", "male", "男", "Male"])
    choices.append(["sex", "female", "女", "Female"])
    settings = workbook.create_sheet("settings")
    settings.append(["form_title", "form_title_en", "id_string", "version", "default_language"])
    settings.append(["窗口服务评价", "Counter service", "counter", 3, "Chinese (zh)"])
    bands = workbook.create_sheet("bands")
    bands.append(["lower", "upper", "label::Chinese (zh)", "label::English (en)"])
    bands.append([0, 60, "不满意", "Dissatisfied"])
    bands.append([60, 100, "满意", "Satisfied"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_a_kobotoolbox_workbook_imports():
    questionnaire, _text = read_xlsform(kobo_workbook(), "kobo.xlsx")
    assert (questionnaire.id, questionnaire.version) == ("counter", "3")
    assert questionnaire.title.en == "Counter service"
    assert [item.id for item in questionnaire.items] == ["s_wait", "s_staff", "overall_q"]
    assert questionnaire.overall_item == "overall_q"
    assert [item.required for item in questionnaire.items] == [True, False, True]
    sat = questionnaire.scales["sat"]
    assert (sat.values, sat.dont_know.value) == ((1, 2, 3, 4, 5), 99)
    assert questionnaire.scale_of("s_staff").values == tuple(range(11))
    assert questionnaire.dimensions[0].name.zh == "服务"
    assert [c.value for c in questionnaire.demographic("sex").choices] == ["male", "female"]
    assert questionnaire.comment.max_length == 500
    assert questionnaire.intro.en == "Hello, two minutes please."


def test_every_problem_is_placed_at_its_sheet_row_and_column():
    data = edited(exported("citizen.yaml"), {
        "survey": {"A4": "select_one sat100", "B5": "Bad Id", "E6": "maybe"},
        "choices": {"B3": "x"},
        "bands": {"A2": 95},
    })
    assert problems_of(data) == [  # in workbook order, one per cell
        ("form.xlsx: sheet survey, row 4, column A: choice list 'sat100' is not in the choices "
         "sheet"),
        ("form.xlsx: sheet survey, row 5, column B: 'Bad Id' is not a valid id (lower-case "
         "letter, then a-z, 0-9 or _; at most 40)"),
        "form.xlsx: sheet survey, row 6, column E: 'maybe' is not yes or no",
        "form.xlsx: sheet choices, row 3, column B: expected an integer, got a string",
        "form.xlsx: sheet bands, row 1: no band covers 90-95",
    ]


def test_a_missing_translation_is_placed_at_its_cell():
    data = edited(exported("government.yaml"), {"survey": {"D4": None}})
    assert problems_of(data) == [("form.xlsx: sheet survey, row 4, column D: expected a "
                                 "non-empty string, got nothing (null)")]


def test_unsupported_question_types_and_structure_are_reported():
    data = edited(exported("citizen.yaml"), {"survey": {"A5": "integer", "A8": "begin_group"}})
    problems = problems_of(data)
    assert problems[0].startswith("form.xlsx: sheet survey, row 5, column A: type 'integer' "
                                  "has no place")
    assert "form.xlsx: sheet survey, row 8, column A: groups cannot be nested: a group is a " \
           "dimension" in problems


def test_the_bands_sheet_carries_the_questionnaires_own_bands():
    document = load_questionnaire(QUESTIONNAIRE_DIR / "citizen.yaml")
    national = dataclasses.replace(document, bands=(
        Band(80, 100, Text("满意", "Satisfied")), Band(60, 80, Text("比较满意", "Fairly satisfied")),
        Band(0, 60, Text("不满意", "Dissatisfied"))))
    data = write_xlsform(national, DISTRICTS)
    rows = list(openpyxl.load_workbook(io.BytesIO(data))["bands"].iter_rows(values_only=True))
    assert rows[1:] == [(80, 100, "满意", "Satisfied"), (60, 80, "比较满意", "Fairly satisfied"),
                        (0, 60, "不满意", "Dissatisfied")]
    assert read_xlsform(data, "form.xlsx")[0].bands == national.bands


def test_without_a_bands_sheet_the_default_bands_apply():
    workbook = openpyxl.load_workbook(io.BytesIO(exported("citizen.yaml")))
    del workbook["bands"]
    out = io.BytesIO()
    workbook.save(out)
    assert read_xlsform(out.getvalue(), "form.xlsx")[0].bands == DEFAULT_BANDS


def test_missing_sheets_and_columns_are_named():
    workbook = openpyxl.load_workbook(io.BytesIO(exported("citizen.yaml")))
    del workbook["choices"]
    out = io.BytesIO()
    workbook.save(out)
    assert problems_of(out.getvalue()) == [
        "form.xlsx: sheet choices: the workbook has no 'choices' sheet"]
    renamed = edited(exported("citizen.yaml"), {"settings": {"D1": "title_english"}})
    assert problems_of(renamed) == ["form.xlsx: sheet settings, row 1: no 'form_title_en' column"]


def test_a_file_that_is_no_workbook_is_one_clear_problem():
    assert problems_of(b"schema_version: 1\n") == [
        ("form.xlsx: not an Excel workbook (.xlsx); save the XLSForm as .xlsx and upload it "
        "again")]
