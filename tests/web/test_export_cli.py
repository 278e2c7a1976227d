"""`surveyapp export` end to end: each format read back with its labels, weights and rows."""
import time

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest

from surveyapp.cli.export import export
from surveyapp.cli.tokens import token
from surveyapp.data import load_responses
from surveyapp.extensions import db
from surveyapp.models.accounts import User
from surveyapp.models.runs import ApiToken
from surveyapp.services.tokens import token_hash
from tests.web.analyst_fixtures import MARGINS, POPULATION, add_responses

COMMENTS = ("=1+1 很好", "@SUM(A1)", "普通意见")


def read(path, fmt):
    if fmt == "csv":
        return pd.read_csv(path, encoding="utf-8-sig", dtype={"district": str, "street": str}), None
    if fmt == "parquet":
        return pq.read_table(path).to_pandas(), None
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    return reader(str(path), apply_value_formats=False)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "sav", "dta"])
def test_export_each_format_with_weights_labels_and_snippet(world, runner, tmp_path, fmt):
    out = tmp_path / f"wave2024.{fmt}"
    result = runner.invoke(export, ["--wave", "2024", "--format", fmt, "--output", str(out),
                                    "--margins", MARGINS])
    assert result.exit_code == 0, result.output
    assert "wrote 40 responses" in result.output
    data, meta = read(out, fmt)
    expected = load_responses("2024", margins=MARGINS)
    assert len(data) == 40 and "comment" not in data.columns
    np.testing.assert_allclose(np.sort(data["weight"].to_numpy(float)),
                               np.sort(expected["weight"].to_numpy()), rtol=1e-12)
    assert data["weight"].sum() == pytest.approx(POPULATION * expected["district"].nunique())
    np.testing.assert_allclose(data["index"].to_numpy(float), expected["index"], rtol=1e-12)
    snippet = (tmp_path / f"wave2024.{fmt}.R").read_text()
    # the wave's declared design (the factories' default: stratified by district)
    assert "svydesign(ids = ~1, strata = ~district, weights = ~weight" in snippet
    assert 'options(survey.lonely.psu = "adjust")' in snippet
    if meta is not None:
        labels = dict(zip(meta.column_names, meta.column_labels))
        assert labels["weight"] == "最终权重 / Final weight"
        assert labels["dim_product"].startswith("产品质量 / Product quality")
        assert meta.variable_value_labels["district"][310109] == "310109 虹口区 / Hongkou"
        assert meta.variable_value_labels["sex"] == {1: "女 / Female", 2: "男 / Male"}  # sorted codes
        assert set(data["district"]) <= {310109.0, 310110.0}


def test_export_in_the_app_the_console_script_builds(world, pageless_runner, tmp_path):
    """`surveyapp export` builds its app without the web parts (create_app(web=False))."""
    from flask import current_app

    assert not current_app.blueprints
    out = tmp_path / "wave2024.parquet"
    result = pageless_runner.invoke(export, ["--wave", "2024", "--format", "parquet",
                                             "--output", str(out), "--margins", MARGINS])
    assert result.exit_code == 0, result.output
    assert "wrote 40 responses" in result.output and len(read(out, "parquet")[0]) == 40


def test_english_labels_and_comments_made_safe(world, runner, tmp_path):
    add_responses(world.waves["2024"], 3, seed=5, comments=COMMENTS)
    out = tmp_path / "w.sav"
    result = runner.invoke(export, ["--wave", "2024", "--format", "sav", "--output", str(out),
                                    "--lang", "en", "--include-comments"])
    assert result.exit_code == 0, result.output
    data, meta = pyreadstat.read_sav(str(out))
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert labels["district"] == "District" and labels["comment"] == "Comment (free text)"
    comments = set(data["comment"]) - {""}
    assert comments == {"'=1+1 很好", "'@SUM(A1)", "普通意见"}
    assert (data["weight"] == 1).all() and len(data) == 43


def test_export_errors_are_clear(world, runner, english_terminal, tmp_path):
    result = runner.invoke(export, ["--wave", "1999", "--format", "csv", "--output",
                                    str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "unknown wave '1999'" in result.output
    result = runner.invoke(export, ["--wave", "2024", "--format", "xls", "--output", "x"])
    assert result.exit_code == 2 and "'xls' is not one of" in result.output
    result = runner.invoke(export, ["--wave", "2024", "--format", "csv", "--output",
                                    str(tmp_path / "x.csv"), "--margins", "nope"])
    assert result.exit_code == 1 and "unknown margin set 'nope'" in result.output


def test_export_errors_are_in_chinese_by_default(world, runner, plain_terminal, tmp_path):
    result = runner.invoke(export, ["--wave", "1999", "--format", "csv", "--output",
                                    str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "waves[0]: 未知的测评批次 '1999'" in result.output
    result = runner.invoke(export, ["--wave", "2024", "--format", "csv", "--output",
                                    str(tmp_path / "x.csv"), "--margins", "nope"])
    assert result.exit_code == 1
    assert "weighting.margins: 未知的边际分布表 'nope'；现有：census-test" in result.output


def test_token_create_prints_the_token_once_and_stores_only_its_hash(app, runner):
    db.session.add(User(username="ana", password_hash="unused", role="analyst"))
    db.session.commit()
    result = runner.invoke(token, ["create", "--user", "ana"])
    assert result.exit_code == 0, result.output
    text = result.stdout.strip()
    stored = db.session.query(ApiToken).one()
    assert text.startswith("sa_") and stored.token_hash == token_hash(text)
    unknown = runner.invoke(token, ["create", "--user", "bob"], env={"SURVEYAPP_LANG": "zh"})
    assert unknown.exit_code == 1 and "--user: 未知用户 'bob'" in unknown.output
    assert runner.invoke(token, ["revoke", str(stored.id)]).exit_code == 0
    assert "revoked" in runner.invoke(token, ["list"]).output


def test_a_long_export_says_what_it_is_doing_then_shows_a_bar(world, runner, tmp_path,
                                                             monkeypatch, plain_terminal):
    """With the one-second grace period at zero, the stage line and the row bar both show,
    on standard error and in the terminal's language, and the file is still written."""
    monkeypatch.setattr("surveyapp.cli.progress.STAGE_DELAY", 0.0)
    monkeypatch.setattr("surveyapp.exports.wave.load_responses", slow(load_responses))
    out = tmp_path / "w.csv"
    result = runner.invoke(export, ["--wave", "2024", "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "正在读取答卷并计算权重…" in result.stderr and "写入中" in result.stderr
    assert "/40 " in result.stderr and "wrote 40 responses" in result.stdout  # 40 rows to write


def slow(function):
    """``function`` taking a little longer than the stage line's timer (set to 0 s)."""
    def wrapped(*args, **kwargs):
        time.sleep(0.2)
        return function(*args, **kwargs)
    return wrapped
