"""Export writers on a plain DataFrame: read each file back and check labels, values and rows."""
import codecs
import csv
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest

from surveyapp.exports import FORMATS, csv_writer
from surveyapp.exports.codebook import Codebook, Variable
from surveyapp.exports.dta_writer import stata_names
from surveyapp.exports.frame import export_frame

CODEBOOK = Codebook(
    variables=(
        Variable("response_id", "答卷编号 / Response ID", "text"),
        Variable("district", "区 / District", "category",
                 {"310109": "310109 虹口区 / Hongkou", "310101": "310101 黄浦区 / Huangpu"}),
        Variable("street", "街道/镇 / Street or town", "category",
                 {"310109001": "310109001 欧阳路街道 / Ouyanglu"}),
        Variable("sex", "性别 / Sex", "category", {"F": "女 / Female", "M": "男 / Male"}),
        Variable("submitted_at", "提交时间 (UTC)", "datetime"),
        Variable("q1", "产品质量满意度 / Product quality", "number",
                 {1: "非常不满意 / Very dissatisfied", 5: "非常满意 / Very satisfied",
                  99: "不知道 / Don't know"}),
        Variable("index", "满意度指数 (0-100)", "number"),
        Variable("weight", "最终权重 / Final weight", "number"),
        Variable("comment", "意见建议 / Comment", "text"),
    ),
    title="Wave 2024",
)


def frame(rows: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "response_id": [f"r{i:03d}" for i in range(rows)],
        "district": ["310109", "310101"] * (rows // 2) + ["310109"] * (rows % 2),
        "street": ["310109001"] * rows,
        "sex": (["F", "M", None] * rows)[:rows],
        "submitted_at": pd.date_range("2024-05-01", periods=rows, freq="h", tz="UTC"),
        "q1": ([1.0, 5.0, 99.0, np.nan] * rows)[:rows],
        "index": rng.uniform(50, 100, rows),
        "weight": rng.uniform(100, 300, rows),
        "comment": (["=HYPERLINK(\"http://x\")", "很好", None, "+1", "@SUM(A1)", "ok", "-2"]
                    * rows)[:rows],
        "not_exported": 1,
    })


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_keeps_rows_weights_and_neutralises_formulas(fmt, tmp_path):
    data = frame()
    path, snippet = export_frame(data, CODEBOOK, tmp_path / f"wave.{fmt}", fmt, chunk_rows=3)
    back = read_back(path, fmt)
    assert list(back.columns) == CODEBOOK.names
    assert len(back) == len(data)
    np.testing.assert_allclose(back["weight"].to_numpy(float), data["weight"], rtol=1e-12)
    np.testing.assert_allclose(back["index"].to_numpy(float), data["index"], rtol=1e-12)
    comments = back["comment"].fillna("").tolist()
    assert comments[0] == "'=HYPERLINK(\"http://x\")" and comments[1] == "很好"
    assert comments[3] == "'+1" and comments[4] == "'@SUM(A1)" and comments[6] == "'-2"
    text = snippet.read_text()
    assert snippet.name == f"wave.{fmt}.R" and f'"wave.{fmt}"' in text
    assert "svydesign(ids = ~street, strata = ~district, weights = ~weight" in text


def read_back(path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path, encoding="utf-8-sig", dtype={"district": str, "street": str},
                           keep_default_na=False, na_values=[""])
    if fmt == "parquet":
        return pq.read_table(path).to_pandas()
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    return reader(str(path))[0]


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_carry_bilingual_labels(fmt, tmp_path):
    path, _ = export_frame(frame(), CODEBOOK, tmp_path / f"wave.{fmt}", fmt)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    data, meta = reader(str(path), apply_value_formats=False)
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert labels["district"] == "区 / District"
    assert labels["q1"] == "产品质量满意度 / Product quality"
    values = meta.variable_value_labels
    assert values["district"][310109] == "310109 虹口区 / Hongkou"  # numeric codes stay as is
    assert values["sex"] == {1: "女 / Female", 2: "男 / Male"}
    assert values["q1"][99] == "不知道 / Don't know"
    assert data["district"].iloc[0] == 310109 and data["sex"].iloc[0] == 1
    assert np.isnan(data["sex"].iloc[2])
    assert data["submitted_at"].iloc[1] == pd.Timestamp("2024-05-01 01:00:00")


def test_parquet_is_written_in_row_groups_with_labels(tmp_path):
    path, _ = export_frame(frame(7), CODEBOOK, tmp_path / "wave.parquet", "parquet", chunk_rows=3)
    parquet = pq.ParquetFile(path)
    assert parquet.metadata.num_row_groups == 3
    field = parquet.schema_arrow.field("district")
    assert field.metadata[b"label"].decode() == "区 / District"
    assert json.loads(field.metadata[b"value_labels"])["310109"] == "310109 虹口区 / Hongkou"
    design = json.loads(parquet.schema_arrow.metadata[b"surveyapp.design"])
    assert design == {"weights": "weight", "strata": "district", "psu": "street", "fpc": None,
                      "lonely_psu": "fail", "street_strata": None}


def test_empty_frame_still_writes_a_header(tmp_path):
    path, _ = export_frame(frame(0), CODEBOOK, tmp_path / "wave.csv", "csv")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle)) == [CODEBOOK.names]


def test_csv_times_are_iso_utc_and_starts_with_a_bom(tmp_path):
    path, _ = export_frame(frame(2), CODEBOOK, tmp_path / "wave.csv", "csv")
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[1]["submitted_at"] == "2024-05-01T01:00:00Z" and rows[1]["sex"] == "M"


def test_csv_chunks_written_side_by_side_make_the_one_thread_file(tmp_path, monkeypatch):
    """Chunks turned into CSV on several threads are written in order, the header once: the
    same bytes as one chunk after another."""
    monkeypatch.setattr(csv_writer, "CSV_THREADS", 1)
    alone, _ = export_frame(frame(23), CODEBOOK, tmp_path / "alone.csv", "csv", chunk_rows=3)
    monkeypatch.setattr(csv_writer, "CSV_THREADS", 4)
    threaded, _ = export_frame(frame(23), CODEBOOK, tmp_path / "threaded.csv", "csv",
                               chunk_rows=3)
    assert threaded.read_bytes() == alone.read_bytes()
    with open(threaded, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == CODEBOOK.names and len(rows) == 24
    assert [row[0] for row in rows[1:]] == [f"r{i:03d}" for i in range(23)]


def test_missing_column_and_unknown_format_are_named(tmp_path):
    with pytest.raises(ValueError, match="columns missing from the data: weight"):
        export_frame(frame().drop(columns="weight"), CODEBOOK, tmp_path / "w.csv", "csv")
    with pytest.raises(ValueError, match="format: expected one of csv, parquet, sav, dta"):
        export_frame(frame(), CODEBOOK, tmp_path / "w.xls", "xls")


def test_stata_names_are_valid_and_unique():
    long = "dim_" + "x" * 40
    names = stata_names([long, long + "y", "2nd", "a-b"])
    assert names[long] == long[:32] and names[long + "y"] == long[:30] + "_1"
    assert names["2nd"] == "v_2nd" and names["a-b"] == "a_b"


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_writer_reports_the_rows_of_every_chunk_it_wrote(fmt, tmp_path):
    written: list[int] = []
    export_frame(frame(20), CODEBOOK, tmp_path / f"wave.{fmt}", fmt, chunk_rows=8,
                 progress=written.append)
    assert written == [8, 8, 4]
