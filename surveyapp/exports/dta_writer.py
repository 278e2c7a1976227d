"""Stata .dta files (format 118, Stata 14 and later, UTF-8) with variable and value labels,
written a chunk of rows at a time.

The layout follows Stata's "dta_118" description: tagged sections, then the data as
fixed-width rows (whole numbers in the smallest of byte, int and long that holds the column,
the rest as doubles), long text as strLs, value-label tables at the end. Rows are encoded with
numpy per chunk; pyreadstat converted cell by cell and pandas' writer holds several copies of
the whole frame. The section map at the top holds file offsets that are known only once the
data is written, so it is filled in at the end.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from surveyapp.exports.chunks import Progress
from surveyapp.exports.codebook import Codebook
from surveyapp.exports.labelled import (
    STATA_CLOCK,
    Column,
    labelled_data,
    truncate_utf8,
    variable_names,
)

MAX_NAME = 32
MAX_LABEL_CHARACTERS = 80
MAX_STR = 2045  # longer text is stored as strL
TYPE_STRL = 32768


@dataclass(frozen=True)
class NumberType:
    """A Stata storage type: its code, numpy dtype, the range it holds and its missing value."""

    code: int
    dtype: str
    low: float
    high: float
    missing: float  # Stata's "." in this type
    display: str


# Whole numbers go in the smallest type that holds them (item answers and most codes in one
# byte, a third of the file); anything else stays a double, so no value changes.
BYTE = NumberType(65530, "<i1", -127, 100, 101, "%8.0g")
INT = NumberType(65529, "<i2", -32767, 32740, 32741, "%8.0g")
LONG = NumberType(65528, "<i4", -2_147_483_647, 2_147_483_620, 2_147_483_621, "%12.0g")
DOUBLE = NumberType(65526, "<f8", -np.inf, np.inf,
                    struct.unpack("<d", struct.pack("<Q", 0x7FE0000000000000))[0], "%10.0g")
NAME_BYTES, FORMAT_BYTES, LABEL_BYTES = 129, 57, 321
GSO_UTF8 = 130  # a strL holding text with a terminating NUL
SECTIONS = ("stata_dta", "map", "variable_types", "varnames", "sortlist", "formats",
            "value_label_names", "variable_labels", "characteristics", "data", "strls",
            "value_labels", "/stata_dta", "eof")


def write_dta(frame, codebook: Codebook, path: Path, *, chunk_rows: int,
              progress: Progress | None = None) -> None:
    """Write ``frame``'s codebook columns to ``path``."""
    data = labelled_data(frame, codebook)
    columns = data.columns
    names = stata_names([c.name for c in columns])
    offsets: dict[str, int] = {}
    with open(path, "wb") as out:
        def mark(section: str, content: bytes) -> None:
            offsets[section] = out.tell()
            out.write(f"<{section}>".encode() + content + f"</{section}>".encode())

        offsets["stata_dta"] = 0
        out.write(b"<stata_dta>" + _header(codebook.title, len(columns), data.rows))
        mark("map", bytes(8 * len(SECTIONS)))
        mark("variable_types", b"".join(struct.pack("<H", _type_code(c)) for c in columns))
        mark("varnames", b"".join(_fixed(names[c.name], NAME_BYTES) for c in columns))
        mark("sortlist", bytes(2 * (len(columns) + 1)))
        mark("formats", b"".join(_fixed(_display_format(c), FORMAT_BYTES) for c in columns))
        mark("value_label_names", b"".join(
            _fixed(names[c.name] if c.value_labels else "", NAME_BYTES) for c in columns))
        mark("variable_labels", b"".join(_fixed(_label(c.label), LABEL_BYTES) for c in columns))
        mark("characteristics", b"")
        offsets["data"] = out.tell()
        out.write(b"<data>")
        strls = []
        chunks = data.chunks(chunk_rows, STATA_CLOCK, 0, progress)
        for number, arrays in enumerate(chunks):
            rows, long_text = _rows(columns, arrays, number * chunk_rows)
            out.write(rows)
            strls.append(long_text)
        out.write(b"</data>")
        mark("strls", b"".join(strls))
        mark("value_labels", b"".join(
            _value_label_table(names[c.name], c.value_labels) for c in columns if c.value_labels))
        offsets["/stata_dta"] = out.tell()
        out.write(b"</stata_dta>")
        offsets["eof"] = out.tell()
        out.seek(offsets["map"] + len(b"<map>"))
        out.write(struct.pack(f"<{len(SECTIONS)}Q", *(offsets[s] for s in SECTIONS)))


def stata_names(names: list[str]) -> dict[str, str]:
    """Stata variable names: letters, digits and _, at most 32 characters, unique."""
    return variable_names(names, MAX_NAME)


def _header(title: str, variables: int, rows: int) -> bytes:
    label = truncate_utf8(title[:MAX_LABEL_CHARACTERS], 320)
    stamp = datetime.now().strftime("%d %b %Y %H:%M").encode()
    return (b"<header><release>118</release><byteorder>LSF</byteorder>"
            + b"<K>" + struct.pack("<H", variables) + b"</K>"
            + b"<N>" + struct.pack("<Q", rows) + b"</N>"
            + b"<label>" + struct.pack("<H", len(label)) + label + b"</label>"
            + b"<timestamp>" + struct.pack("<B", len(stamp)) + stamp + b"</timestamp>"
            + b"</header>")


def number_type(column: Column) -> NumberType:
    """The smallest type holding every value of a numeric column exactly."""
    if column.whole_range is not None:
        low, high = column.whole_range
        for candidate in (BYTE, INT, LONG):
            if candidate.low <= low and high <= candidate.high:
                return candidate
    return DOUBLE


def _type_code(column: Column) -> int:
    if not column.is_text:
        return number_type(column).code
    return column.width if column.width <= MAX_STR else TYPE_STRL


def _display_format(column: Column) -> str:
    if column.is_text:
        return f"%{min(column.width, MAX_STR)}s" if column.width <= MAX_STR else "%9s"
    if column.kind == "datetime":
        return "%tc"
    return number_type(column).display


def _label(text: str) -> str:
    return text[:MAX_LABEL_CHARACTERS]


def _fixed(text: str, size: int) -> bytes:
    """NUL-terminated UTF-8 in a field of ``size`` bytes."""
    return truncate_utf8(text, size - 1).ljust(size, b"\0")


def _rows(columns: tuple[Column, ...], arrays: list[np.ndarray], first_row: int
          ) -> tuple[bytes, bytes]:
    """One chunk as fixed-width rows, plus the strL objects its long text needs."""
    fields, values, long_text = [], [], []
    for number, (column, array) in enumerate(zip(columns, arrays), start=1):
        field = f"c{number}"
        if not column.is_text:
            kind = number_type(column)
            fields.append((field, kind.dtype))
            values.append(np.where(np.isnan(array), kind.missing, array).astype(kind.dtype))
        elif column.width <= MAX_STR:
            fields.append((field, f"S{column.width}"))
            values.append(np.ascontiguousarray(array).view(f"S{column.width}").reshape(-1))
        else:
            keys, objects = _strls(array, number, first_row)
            fields.append((field, "<u8"))
            values.append(keys)
            long_text.append(objects)
    rows = np.empty(len(arrays[0]) if arrays else 0, dtype=np.dtype(fields))
    for (field, _), array in zip(fields, values):
        rows[field] = array
    return rows.tobytes(), b"".join(long_text)


def _strls(text: np.ndarray, variable: int, first_row: int) -> tuple[np.ndarray, bytes]:
    """(v, o) keys for a strL column, and one GSO object per non-empty value.

    In format 118 a key is v (the variable, 1-based) in the low 2 bytes and o (the
    observation, 1-based) in the high 6; an empty value is key 0 and has no object.
    """
    keys = np.zeros(text.shape[0], "<u8")
    objects = []
    for row, value in enumerate(text):
        content = value.tobytes().rstrip(b"\0")
        if content:
            observation = first_row + row + 1
            keys[row] = variable + (observation << 16)
            objects.append(b"GSO" + struct.pack("<IQBI", variable, observation, GSO_UTF8,
                                                len(content) + 1) + content + b"\0")
    return keys, b"".join(objects)


def _value_label_table(name: str, labels: dict[int, str]) -> bytes:
    """A value-label table: offsets into NUL-terminated texts, then the values."""
    values = sorted(labels)
    texts = [truncate_utf8(labels[v], 32_000) + b"\0" for v in values]
    starts = np.concatenate([[0], np.cumsum([len(t) for t in texts])[:-1]]).astype(int)
    table = struct.pack(f"<ii{len(values)}i{len(values)}i", len(values), sum(map(len, texts)),
                        *starts, *values) + b"".join(texts)
    return (b"<lbl>" + struct.pack("<i", len(table)) + _fixed(name, NAME_BYTES) + b"\0" * 3
            + table + b"</lbl>")
