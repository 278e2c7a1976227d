"""Exports cannot carry code: the R snippet escapes every text it embeds, and every text cell
of CSV microdata (free text and string codes such as the wave label) is inert in spreadsheets.
"""
from __future__ import annotations

import csv
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from surveyapp.exports.codebook import Codebook, Variable
from surveyapp.exports.design_snippets import spss_snippet, stata_snippet
from surveyapp.exports.frame import export_frame
from surveyapp.exports.rsnippet import r_snippet
from surveyapp.exports.snippet_syntax import (
    r_comment,
    r_name,
    r_string,
    spss_comment,
    spss_string,
    stata_comment,
    stata_string,
)

# A title that, pasted raw into the snippet's comment line, ran system() when sourced.
HOSTILE_TITLE = 'Wave 2024\nsystem("touch pwned_title")\r\u2028system("touch pwned_cr") # "'
HOSTILE_FILE = 'w"); system("touch pwned_file"); x <- ("\\.csv'

CODEBOOK = Codebook(
    variables=(
        Variable("response_id", "Response ID", "text"),
        Variable("wave", "Survey wave", "category"),
        Variable("district", "District", "category"),
        Variable("street", "Street", "category"),
        Variable("index", "Satisfaction index", "number"),
        Variable("weight", "Final weight", "number"),
        Variable("comment", "Comment", "text"),
    ),
    title=HOSTILE_TITLE,
)


def frame() -> pd.DataFrame:
    rows = 6  # two streets (PSUs) in each of two districts (strata), as svydesign needs
    return pd.DataFrame({
        "response_id": [f"r{i}" for i in range(rows)],
        "wave": ["=1+2"] * rows,
        "district": ["310109", "310101"] * 3,
        "street": ["310109001", "310101001", "310109002", "310101002", "310109001",
                   "310101001"],
        "index": np.linspace(50, 90, rows),
        "weight": np.full(rows, 2.0),
        "comment": ["@SUM(A1)", "-2+3", "fine", None, "\t=1", "+1"],
    })


def test_r_literals_escape_quotes_backslashes_and_line_breaks():
    literal = r_string('a"b\\c\nd\re\u2028f\x00g')
    assert literal == '"a\\"b\\\\c\\u000ad\\u000de\\u2028fg"'
    assert r_comment("t\nsystem('x')\r\u2029y") == "# t system('x')  y"
    assert r_name("index") == "index" and r_name("q_1.a") == "q_1.a"
    assert r_name("if") == "`if`" and r_name("2nd") == "`2nd`" and r_name("a`b") == "`a\\`b`"


def test_a_hostile_title_and_file_name_stay_inside_one_comment_and_one_string():
    benign = r_snippet(Codebook(CODEBOOK.variables, title="Wave"), "w.csv", "csv")
    hostile = r_snippet(CODEBOOK, HOSTILE_FILE, "csv")

    assert hostile.count("\n") == benign.count("\n")  # no line added by the title
    first, *rest = hostile.splitlines()
    assert first.startswith("# Wave 2024 system(")
    assert not any("system(" in line for line in rest if 'read.csv(' not in line)
    assert 'read.csv("w\\"); system(\\"touch pwned_file\\"); x <- (\\"\\\\.csv"' in hostile
    assert "\u2028" not in hostile and "\r" not in hostile


def test_stata_and_spss_literals_cannot_end_early_or_expand_macros():
    assert stata_comment("t\nsvy: mean x /* y */ // z") == "* t svy: mean x / * y * / / / z"
    assert stata_string('w$x`y\'"\'.dta') == '`"w\\$x\\`y\'\'.dta"\''
    assert spss_comment("t.\nGET FILE='x'.") == "* t. GET FILE='x'."
    assert spss_string("it's\n.sav") == "'it''s.sav'"


@pytest.mark.parametrize("snippet", [stata_snippet, spss_snippet])
def test_a_hostile_title_stays_in_one_comment_of_the_stata_and_spss_snippets(snippet):
    benign = snippet(Codebook(CODEBOOK.variables, title="Wave"), "w.dta")
    hostile = snippet(CODEBOOK, "w'; x.dta")

    assert hostile.count("\n") == benign.count("\n")
    assert hostile.splitlines()[0].startswith("* Wave 2024 system(")
    assert not any("system(" in line for line in hostile.splitlines()[1:])


def test_csv_microdata_neutralises_every_text_column_including_the_wave(tmp_path):
    path, _ = export_frame(frame(), CODEBOOK, tmp_path / "w.csv", "csv")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))

    assert {row["wave"] for row in rows} == {"'=1+2"}
    assert [row["comment"] for row in rows] == ["'@SUM(A1)", "'-2+3", "fine", "", "'\t=1", "'+1"]
    assert rows[0]["district"] == "310109"  # codes that are not formulas are left as they are


def test_labelled_formats_keep_category_values_for_their_value_labels(tmp_path):
    import pyreadstat

    path, _ = export_frame(frame(), CODEBOOK, tmp_path / "w.sav", "sav")
    data, _ = pyreadstat.read_sav(str(path), apply_value_formats=True)
    assert set(data["wave"]) == {"=1+2"}
    assert data["comment"].iloc[0] == "'@SUM(A1)"


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs Rscript to source the snippet")
def test_r_sources_the_snippet_of_a_hostile_title_and_file_name_without_running_them(tmp_path):
    data_path = tmp_path / HOSTILE_FILE
    _, snippet = export_frame(frame(), CODEBOOK, data_path, "csv")
    check = tmp_path / "check.R"
    check.write_text(
        f'source({r_string(snippet.name)}, encoding = "UTF-8")\n'
        'stopifnot(nrow(d) == 6, identical(d$wave[1], "\'=1+2"))\n'
        f'stopifnot(identical(eval(parse(text = {r_string(r_string(HOSTILE_TITLE))})), '
        f'{r_string(HOSTILE_TITLE)}))\n'
        'cat("sourced\\n")\n', encoding="utf-8")

    result = subprocess.run(["Rscript", "--vanilla", check.name], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stderr
    assert "sourced" in result.stdout
    assert not list(tmp_path.glob("pwned*"))
