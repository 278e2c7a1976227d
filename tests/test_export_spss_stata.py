"""Our SPSS and Stata writers, checked byte by byte against the formats' documentation and read
back by readers that share none of our code: ReadStat (pyreadstat), pandas' Stata reader and,
where installed, PSPP."""
import shutil
import struct
import subprocess
import zlib

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from surveyapp.exports.codebook import Codebook, Variable
from surveyapp.exports.frame import export_frame
from surveyapp.exports.sav_writer import SYSMIS, ZLIB_BLOCK, compress

LONG_CHINESE = "很长的意见" * 70 + "。"  # 1,053 bytes: five SPSS segments
VERY_LONG = "x" * 2500  # beyond Stata's str2045: a strL
EDGE_NUMBERS = [1.0, -99.0, -100.0, 151.0, 152.0, 0.5, 0.0, -0.0, np.nan, 1e300, -3.25, 2.0**40,
                99.0]
CODEBOOK = Codebook(
    variables=(
        Variable("response_id", "答卷编号 / Response ID", "text"),
        Variable("district", "区 / District", "category", {"310109": "310109 虹口区 / Hongkou"}),
        Variable("submitted_at", "提交时间 (UTC)", "datetime"),
        Variable("value", "数值 / Value", "number", {1: "非常不满意", 99: "不知道"}),
        Variable("comment", "意见建议 / Comment", "text"),
        Variable("weight", "最终权重 / Final weight", "number"),
    ),
    title="Wave 2024 — 测试",
    strata="district", psu=None,
)


def frame(rows: int = 29) -> pd.DataFrame:
    comments = [LONG_CHINESE, VERY_LONG, None, "", "        ", "=1+1", "短", "  leading"]
    return pd.DataFrame({
        "response_id": [f"r{i:04d}" for i in range(rows)],
        "district": (["310109", "310101", None] * rows)[:rows],
        "submitted_at": pd.date_range("2024-05-01 08:00:00.25", periods=rows, freq="17min",
                                      tz="UTC"),
        "value": (EDGE_NUMBERS * rows)[:rows],
        "comment": (comments * rows)[:rows],
        "weight": np.random.default_rng(2).uniform(0, 1000, rows),
    })


def expected_comments(data: pd.DataFrame) -> list[str]:
    return ["" if pd.isna(c) else ("'" + c if c.startswith("=") else c) for c in data["comment"]]


def bits(number: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", number))[0]


def text_bits(text: str) -> int:
    return int.from_bytes(text.ljust(8).encode(), "little")


def test_compression_follows_the_documented_bytecodes():
    """One case: 1.0 -> code 101, system-missing -> 255, 1000.5 -> 253 plus the raw double,
    text "ab" -> 253 plus its 8 bytes, blank text -> 254; then padding code 0."""
    cells = np.array([[bits(1.0), SYSMIS, bits(1000.5), text_bits("ab"), text_bits("")]], "<u8")
    out = compress(cells, np.array([False, False, False, True, True]))
    assert out == (bytes([101, 255, 253, 253, 254, 0, 0, 0]) + struct.pack("<d", 1000.5)
                   + b"ab      ")


def test_compression_starts_a_new_block_after_eight_codes():
    cells = np.array([[bits(500.0 + i) for i in range(9)]], "<u8")
    out = compress(cells, np.zeros(9, bool))
    assert out[:8] == bytes([253] * 8) and len(out) == 8 + 8 * 8 + 8 + 8
    assert out[72:80] == bytes([253, 0, 0, 0, 0, 0, 0, 0])
    assert struct.unpack("<d", out[80:88])[0] == 508.0


def test_deflated_blocks_follow_the_documented_layout(tmp_path):
    """Enough data for two zlib blocks: the header points at the trailer, the trailer lists
    each block's bytecode and file offsets, every block but the last holds 0x3FF000 bytes, and
    the bytes read back in ReadStat."""
    rows = 90_000
    rng = np.random.default_rng(5)
    columns = {f"x{i}": rng.normal(size=rows) for i in range(6)}
    codebook = Codebook(tuple(Variable(n, n, "number") for n in columns), title="blocks",
                        weights=None, strata=None, psu=None)
    path, _ = export_frame(pd.DataFrame(columns), codebook, tmp_path / "w.sav", "sav",
                           chunk_rows=10_000)
    raw = path.read_bytes()
    assert raw[:4] == b"$FL3" and struct.unpack_from("<i", raw, 72)[0] == 2
    header_at = raw.index(struct.pack("<ii", 999, 0)) + 8
    assert struct.unpack_from("<q", raw, header_at)[0] == header_at
    trailer_at, trailer_length = struct.unpack_from("<qq", raw, header_at + 8)
    bias, zero, block_size, blocks = struct.unpack_from("<qqii", raw, trailer_at)
    assert (bias, zero, block_size, blocks) == (-100, 0, ZLIB_BLOCK, 2)
    assert trailer_length == 24 + 24 * blocks and trailer_at + trailer_length == len(raw)
    plain_at, deflated_at = header_at, header_at + 24
    for number in range(blocks):
        entry = struct.unpack_from("<qqii", raw, trailer_at + 24 + 24 * number)
        assert entry[:2] == (plain_at, deflated_at)
        block = zlib.decompress(raw[deflated_at:deflated_at + entry[3]])
        assert len(block) == entry[2] == (ZLIB_BLOCK if number < blocks - 1 else len(block))
        plain_at, deflated_at = plain_at + entry[2], deflated_at + entry[3]
    assert deflated_at == trailer_at
    back, _ = pyreadstat.read_sav(str(path))
    for name, values in columns.items():
        np.testing.assert_array_equal(back[name].to_numpy(), values)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
@pytest.mark.parametrize("chunk_rows", [3, 8, 1000])
def test_values_text_and_times_survive_the_round_trip(fmt, chunk_rows, tmp_path):
    data = frame()
    path, _ = export_frame(data, CODEBOOK, tmp_path / f"w.{fmt}", fmt, chunk_rows=chunk_rows)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    back, meta = reader(str(path), apply_value_formats=False)
    assert meta.number_rows == len(data) and list(back.columns) == CODEBOOK.names
    np.testing.assert_array_equal(back["value"].to_numpy(), data["value"].to_numpy())
    np.testing.assert_array_equal(back["weight"].to_numpy(), data["weight"].to_numpy())
    assert back["response_id"].tolist() == data["response_id"].tolist()
    comments = [c.rstrip(" ") for c in back["comment"]] if fmt == "sav" else list(back["comment"])
    wanted = expected_comments(data)
    assert comments == ([c.rstrip(" ") for c in wanted] if fmt == "sav" else wanted)
    assert back["district"].iloc[:3].tolist()[:2] == [310109, 310101]
    assert np.isnan(back["district"].iloc[2])
    times = pd.to_datetime(back["submitted_at"]).to_numpy("datetime64[ms]")
    np.testing.assert_array_equal(
        times, data["submitted_at"].dt.tz_localize(None).to_numpy("datetime64[ms]"))
    assert meta.variable_value_labels["value"] == {1: "非常不满意", 99: "不知道"}
    assert dict(zip(meta.column_names, meta.column_labels))["comment"] == "意见建议 / Comment"


def test_stata_file_reads_the_same_in_pandas(tmp_path):
    data = frame()
    path, _ = export_frame(data, CODEBOOK, tmp_path / "w.dta", "dta", chunk_rows=5)
    with pd.io.stata.StataReader(path) as reader:
        back = reader.read(convert_categoricals=False)
        labels = reader.variable_labels()
        value_labels = reader.value_labels()
        title = reader.data_label
    assert back["comment"].fillna("").tolist() == expected_comments(data)
    np.testing.assert_array_equal(back["weight"].to_numpy(), data["weight"].to_numpy())
    np.testing.assert_array_equal(back["value"].to_numpy(), data["value"].to_numpy())
    assert labels["district"] == "区 / District" and title == "Wave 2024 — 测试"
    assert value_labels["district"] == {310101: "310101", 310109: "310109 虹口区 / Hongkou"}


def test_spss_names_and_labels_are_cut_to_the_format_limits(tmp_path):
    long_label = "标签" * 100  # 600 bytes: SPSS keeps 255, Stata 80 characters
    codebook = Codebook(variables=(Variable("with", long_label, "number", {1: "值" * 60}),
                                   Variable("2nd", "x", "number")), title="t", strata="with",
                        psu=None, weights=None)
    data = pd.DataFrame({"with": [1.0, 2.0], "2nd": [3.0, 4.0]})
    sav, snippet = export_frame(data, codebook, tmp_path / "w.sav", "sav")
    _, meta = pyreadstat.read_sav(str(sav))
    assert meta.column_names == ["with_1", "v_2nd"]  # WITH is reserved in SPSS
    assert meta.column_labels[0] == "标签" * 42 + "标"  # 85 characters = 255 bytes
    assert meta.variable_value_labels["with_1"][1] == "值" * 40  # 120 bytes
    assert "strata = ~with_1," in snippet.read_text()  # the R snippet uses the file's names
    dta, snippet = export_frame(data, codebook, tmp_path / "w.dta", "dta")
    assert "strata = ~with," in snippet.read_text()
    _, meta = pyreadstat.read_dta(str(dta))
    assert meta.column_names == ["with", "v_2nd"] and meta.column_labels[0] == long_label[:80]


@pytest.mark.skipif(shutil.which("pspp-convert") is None, reason="PSPP is not installed")
def test_pspp_reads_the_spss_file(tmp_path):
    data = frame(12)
    path, _ = export_frame(data, CODEBOOK, tmp_path / "w.sav", "sav", chunk_rows=5)
    out = tmp_path / "w.csv"
    done = subprocess.run(["pspp-convert", str(path), str(out)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert back["response_id"].tolist() == data["response_id"].tolist()
    assert [c.rstrip(" ") for c in back["comment"]] == [
        c.rstrip(" ") for c in expected_comments(data)]
    np.testing.assert_allclose(back["weight"].astype(float), data["weight"], rtol=1e-6)


@pytest.mark.parametrize(("values", "stored_as"), [
    ([-127, 100, np.nan], "int8"),  # 101 is the byte type's missing value
    ([101, -32767], "int16"),
    ([32740, 1], "int16"),
    ([32741, 1], "int32"),
    ([2_147_483_620, -2_147_483_647], "int32"),
    ([2_147_483_621, 1], "double"),
    ([1.5, 2], "double"),
    ([np.nan, np.nan], "double"),
])
def test_stata_whole_numbers_take_the_smallest_type_that_holds_them(values, stored_as, tmp_path):
    """Limits from Stata's dta documentation (byte -127..100, int -32767..32740, long
    -2147483647..2147483620); every value reads back unchanged in ReadStat and pandas."""
    data = pd.DataFrame({"x": np.array(values, float)})
    codebook = Codebook((Variable("x", "x", "number"),), title="t", weights=None, strata=None,
                        psu=None)
    path, _ = export_frame(data, codebook, tmp_path / "w.dta", "dta")
    back, meta = pyreadstat.read_dta(str(path))
    assert meta.readstat_variable_types["x"] == stored_as
    np.testing.assert_array_equal(back["x"].to_numpy(float), data["x"].to_numpy())
    np.testing.assert_array_equal(pd.read_stata(path)["x"].to_numpy(float), data["x"].to_numpy())
