"""The export as SPSS and Stata see it: numeric codes with value labels, fixed-width text, times
as numbers on each package's clock, converted a chunk of rows at a time.

Categories (district, street, sex, ...) become integer codes with value labels, as both
packages expect: a numeric code is kept as is (district 310109 stays 310109), other codes are
numbered 1..k in sorted order and the label keeps the original code's meaning. The coding and
every text column's width are fixed from the whole frame first, because both file formats
declare them before the data; the data is then converted chunk by chunk, so the converted copy
never exceeds one chunk.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from surveyapp.exports.cells import neutralise_formulas
from surveyapp.exports.chunks import Progress, export_columns
from surveyapp.exports.codebook import Codebook, Variable

MAX_LABELLED_CODE = 2_147_483_000  # Stata's largest long that may carry a value label


@dataclass(frozen=True)
class Clock:
    """How a package stores a date-time: units per second since its epoch."""

    epoch_seconds: int  # the package's epoch, in seconds before 1970-01-01
    per_second: int


SPSS_CLOCK = Clock(12_219_379_200, 1)  # seconds since 1582-10-14
STATA_CLOCK = Clock(315_619_200, 1000)  # milliseconds since 1960-01-01


@dataclass(frozen=True)
class Column:
    """One output column: a number (float64, NaN for missing) or text of ``width`` bytes."""

    name: str
    label: str
    kind: str  # "number", "category", "datetime" or "text", as in the codebook
    value_labels: dict[int, str] = field(default_factory=dict)
    width: int = 0  # UTF-8 bytes of the longest text; 0 for numbers
    whole_range: tuple[int, int] | None = None  # (min, max) when every value is a whole number

    @property
    def is_text(self) -> bool:
        return self.kind == "text"


@dataclass(frozen=True)
class LabelledData:
    """A frame's export columns with their coding, ready to be converted chunk by chunk."""

    frame: pd.DataFrame
    codebook: Codebook
    columns: tuple[Column, ...]
    codings: dict[str, tuple[list[str], np.ndarray]]  # category -> (sorted values, codes)

    @property
    def rows(self) -> int:
        return len(self.frame)

    def chunks(self, chunk_rows: int, clock: Clock, pad: int, progress: Progress | None = None
               ) -> Iterator[list[np.ndarray]]:
        """Per chunk, one array per column: float64 for numbers, (rows, width) uint8 for text
        padded with the byte ``pad``; ``progress`` hears of each chunk once it is written."""
        for start in range(0, self.rows, chunk_rows):
            chunk = export_columns(self.frame.iloc[start:start + chunk_rows], self.codebook)
            yield [self._convert(chunk[c.name], c, clock, pad) for c in self.columns]
            if progress is not None:
                progress(len(chunk))

    def _convert(self, values: pd.Series, column: Column, clock: Clock, pad: int) -> np.ndarray:
        if column.kind == "category":
            categories, codes = self.codings[column.name]
            # each value's place among the categories, -1 for missing or unknown: what
            # pd.Categorical(...).codes gives, 30x faster on Arrow strings
            strings = pa.array(values.astype("string"))
            position = pc.index_in(strings, value_set=pa.array(categories, strings.type)
                                   ).fill_null(-1).to_numpy()
            return np.where(position >= 0, codes[np.maximum(position, 0)], np.nan)
        if column.kind == "datetime":
            return clock_time(values, clock)
        if column.is_text:
            return fixed_width_bytes(values, column.width, pad)
        return pd.to_numeric(values).to_numpy(dtype=float, na_value=np.nan)


def labelled_data(frame: pd.DataFrame, codebook: Codebook) -> LabelledData:
    """Fix the categories' codes and the text widths from the whole frame."""
    export_columns(frame.iloc[:0], codebook)  # names any missing column before the work starts
    columns, codings = [], {}
    for variable in codebook.variables:
        values = frame[variable.name]
        if variable.kind == "category":
            categories, codes, labels = _coding(values, variable)
            codings[variable.name] = (categories, codes)
            columns.append(Column(variable.name, variable.label, "category", labels,
                                  whole_range=whole_range(codes)))
        elif variable.kind == "text":
            columns.append(Column(variable.name, variable.label, "text",
                                  width=text_width(neutralise_formulas(values))))
        else:
            labels = {int(k): v for k, v in variable.value_labels.items()}
            numbers = (None if variable.kind == "datetime" else
                       whole_range(pd.to_numeric(values).to_numpy(dtype=float, na_value=np.nan)))
            columns.append(Column(variable.name, variable.label, variable.kind, labels,
                                  whole_range=numbers))
    return LabelledData(frame, codebook, tuple(columns), codings)


def whole_range(values: np.ndarray) -> tuple[int, int] | None:
    """(min, max) of the values present when all are whole numbers (None otherwise, or when
    none is present): lets a format store them in fewer bytes."""
    present = values[~np.isnan(values)]
    if not present.size or not np.isfinite(present).all() or not np.array_equal(
            present, np.round(present)):
        return None
    return int(present.min()), int(present.max())


def _coding(values: pd.Series, variable: Variable) -> tuple[list[str], np.ndarray, dict[int, str]]:
    present = {str(v) for v in values.dropna().unique()}
    categories = sorted(present | {str(k) for k in variable.value_labels})
    numeric = all(v.isascii() and v.isdigit() and int(v) <= MAX_LABELLED_CODE for v in categories)
    codes = np.array([int(v) for v in categories] if numeric else range(1, len(categories) + 1),
                     float)
    labels = {int(code): variable.value_labels.get(v, v) for code, v in zip(codes, categories)}
    return categories, codes, labels


def clock_time(values: pd.Series, clock: Clock) -> np.ndarray:
    """Times as floats on ``clock`` (NaN for none); whole seconds and their fraction are kept
    apart so that whole seconds stay exact."""
    times = pd.to_datetime(values, utc=True)
    micros = times.dt.tz_localize(None).to_numpy("datetime64[us]").view(np.int64)
    whole, fraction = np.divmod(micros, 1_000_000)
    result = (whole + clock.epoch_seconds) * float(clock.per_second) + (
        fraction / 1e6 * clock.per_second)
    return np.where(times.isna().to_numpy(), np.nan, result)


def text_width(values: pd.Series) -> int:
    """The longest value's length in UTF-8 bytes (at least 1: no format has empty text)."""
    lengths = pc.binary_length(_utf8(values))
    return max(1, pc.max(lengths).as_py() or 0)


def fixed_width_bytes(values: pd.Series, width: int, pad: int) -> np.ndarray:
    """UTF-8 text as a (rows, width) byte matrix, each row padded with ``pad``; missing values
    are empty. Copies the bytes in one scatter rather than value by value."""
    text = pc.fill_null(_utf8(values), "")
    offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1, text.offset * 4)
    data = np.frombuffer(text.buffers()[2] or b"", np.uint8)[offsets[0]:offsets[-1]]
    lengths = np.diff(offsets)
    if lengths.size and lengths.max() > width:
        raise ValueError(f"text of {lengths.max()} bytes is longer than its column ({width})")
    out = np.full((len(text), width), pad, np.uint8)
    starts = np.arange(len(text), dtype=np.int64) * width - (offsets[:-1] - offsets[0])
    out.reshape(-1)[np.arange(data.size) + np.repeat(starts, lengths)] = data
    return out


def _utf8(values: pd.Series) -> pa.Array:
    text = pa.array(values.astype("string"), type=pa.string(), from_pandas=True)
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text


def truncate_utf8(text: str, limit: int) -> bytes:
    """``text`` in UTF-8, cut to at most ``limit`` bytes without splitting a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore").encode("utf-8")


def variable_names(names: Iterable[str], max_length: int, reserved: Iterable[str] = ()
                   ) -> dict[str, str]:
    """Names both packages accept: letters, digits and _, starting with a letter, at most
    ``max_length`` characters, unique (ignoring case) and not a ``reserved`` word."""
    taken = {word.lower() for word in reserved}
    result: dict[str, str] = {}
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name)
        base = base if re.match(r"[A-Za-z]", base) else f"v_{base}"
        candidate, n = base[:max_length], 1
        while candidate.lower() in taken:
            suffix = f"_{n}"
            candidate, n = base[:max_length - len(suffix)] + suffix, n + 1
        taken.add(candidate.lower())
        result[name] = candidate
    return result
