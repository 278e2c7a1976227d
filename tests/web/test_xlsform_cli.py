"""`surveyapp questionnaires export-xlsform / import-xlsform`: a file round trip, and problems
printed at their cells in the terminal's language, with exit status 1."""
import io
import shutil
from pathlib import Path

import openpyxl
import pytest

from surveyapp.cli.questionnaires import questionnaires
from surveyapp.questionnaires import load_questionnaire

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


def test_export_then_import_writes_an_equal_questionnaire(runner, english_terminal, tmp_path):
    source = tmp_path / "government.yaml"
    shutil.copy(QUESTIONNAIRES / "government.yaml", source)
    exported = runner.invoke(questionnaires, [
        "export-xlsform", str(source), "--geography",
        str(QUESTIONNAIRES / "geography" / "shanghai.yaml")])
    assert exported.exit_code == 0, exported.output
    assert exported.output == f"wrote {tmp_path / 'government.xlsx'}\n"
    back = tmp_path / "back.yaml"
    imported = runner.invoke(questionnaires, ["import-xlsform", str(tmp_path / "government.xlsx"),
                                              "-o", str(back)])
    assert imported.exit_code == 0, imported.output
    assert "questionnaire 'government' version 2024.1" in imported.output
    original, again = load_questionnaire(source), load_questionnaire(back)
    assert (again.items, again.dimensions, again.demographics, again.bands, again.title) == (
        original.items, original.dimensions, original.demographics, original.bands,
        original.title)


@pytest.mark.parametrize(("terminal", "expected"), [
    ("en", "ERROR bad.xlsx: sheet survey, row 4, column B: 'P Food' is not a valid id"),
    ("zh", "ERROR bad.xlsx: survey 表第 4 行 B 列: “P Food”不是有效的标识"),
])
def test_import_problems_are_placed_in_the_terminal_language(runner, monkeypatch, tmp_path,
                                                             terminal, expected):
    monkeypatch.setenv("SURVEYAPP_LANG", terminal)
    runner.invoke(questionnaires, ["export-xlsform", str(QUESTIONNAIRES / "citizen.yaml"),
                                   "-o", str(tmp_path / "c.xlsx")])
    workbook = openpyxl.load_workbook(tmp_path / "c.xlsx")
    workbook["survey"]["B4"] = "P Food"
    out = io.BytesIO()
    workbook.save(out)
    (tmp_path / "bad.xlsx").write_bytes(out.getvalue())
    result = runner.invoke(questionnaires, ["import-xlsform", str(tmp_path / "bad.xlsx")])
    assert result.exit_code == 1
    assert result.output.startswith(expected)
    assert not (tmp_path / "bad.yaml").exists()
