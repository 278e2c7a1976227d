"""SPSS .sav and Stata .dta through pyreadstat, with variable and value labels.

Categories (district, street, sex, ...) become integer codes with value labels, as both
packages expect: a numeric code is kept as is (district 310109 stays 310109), other codes are
numbered 1..k in sorted order and the label keeps the original code's meaning.
ReadStat writes a file in one go, so the labelled frame is built whole. Times are handed
over as numbers on the package's own clock with a datetime format: given datetime columns,
pyreadstat would copy the whole frame to convert them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from surveyapp.exports.chunks import export_columns
from surveyapp.exports.codebook import Codebook, Variable

MAX_LABELLED_CODE = 2_147_483_000  # Stata's largest long that may carry a value label
STATA_NAME_LENGTH = 32
STATA_LABEL_LENGTH = 80


@dataclass(frozen=True)
class Clock:
    """How a package stores a date-time: units per second since its epoch, and the format."""

    epoch_seconds: int  # the package's epoch, in seconds before 1970-01-01
    per_second: int
    time_format: str


SPSS_CLOCK = Clock(12_219_379_200, 1, "DATETIME")  # seconds since 1582-10-14
STATA_CLOCK = Clock(315_619_200, 1000, "%tc")  # milliseconds since 1960-01-01


def write_sav(frame, codebook: Codebook, path: Path, *, chunk_rows: int) -> None:
    """``chunk_rows`` is accepted like every writer's, but ReadStat writes the file whole."""
    data, labels, value_labels = labelled_frame(frame, codebook, SPSS_CLOCK)
    pyreadstat.write_sav(data, str(path), file_label=codebook.title, column_labels=labels,
                         variable_value_labels=value_labels, compress=True,
                         variable_format=_time_formats(codebook, SPSS_CLOCK))


def write_dta(frame, codebook: Codebook, path: Path, *, chunk_rows: int) -> None:
    """``chunk_rows`` is accepted like every writer's, but ReadStat writes the file whole."""
    data, labels, value_labels = labelled_frame(frame, codebook, STATA_CLOCK)
    names = stata_names(list(data.columns))
    data.columns = [names[c] for c in data.columns]
    pyreadstat.write_dta(
        data, str(path), file_label=codebook.title[:STATA_LABEL_LENGTH],
        column_labels={names[k]: v[:STATA_LABEL_LENGTH] for k, v in labels.items()},
        variable_value_labels={names[k]: v for k, v in value_labels.items()},
        variable_format={names[k]: v for k, v in _time_formats(codebook, STATA_CLOCK).items()},
    )


def labelled_frame(frame, codebook: Codebook, clock: Clock
                   ) -> tuple[pd.DataFrame, dict[str, str], dict[str, dict[int, str]]]:
    """The frame with categories coded as integers, times on ``clock``, plus column and value
    labels.

    Built column by column on one copy of the data (categories shrink to float codes), which
    keeps the peak near twice the data rather than three times.
    """
    data = export_columns(frame, codebook).reset_index(drop=True)
    labels = {v.name: v.label for v in codebook.variables}
    value_labels: dict[str, dict[int, str]] = {}
    for variable in codebook.variables:
        column = data[variable.name]
        if variable.kind == "category":
            data[variable.name], value_labels[variable.name] = _coded(column, variable)
        elif variable.kind == "number":
            data[variable.name] = pd.to_numeric(column).astype(float)
            if variable.value_labels:
                value_labels[variable.name] = {int(k): v for k, v in variable.value_labels.items()}
        elif variable.kind == "datetime":
            data[variable.name] = _clock_time(column, clock)
        else:
            data[variable.name] = column.astype(object).where(column.notna(), "")
    return data, labels, value_labels


def _time_formats(codebook: Codebook, clock: Clock) -> dict[str, str]:
    return {v.name: clock.time_format for v in codebook.variables if v.kind == "datetime"}


def _clock_time(column: pd.Series, clock: Clock) -> np.ndarray:
    """Times as floats on ``clock`` (NaN for none), whole seconds and fraction kept apart as
    pyreadstat does, so that whole seconds stay exact."""
    times = pd.to_datetime(column, utc=True)
    micros = times.dt.tz_localize(None).to_numpy("datetime64[us]").view(np.int64)
    whole, fraction = np.divmod(micros, 1_000_000)
    values = (whole + clock.epoch_seconds) * float(clock.per_second) + (
        fraction / 1e6 * clock.per_second)
    return np.where(times.isna().to_numpy(), np.nan, values)


def _coded(column: pd.Series, variable: Variable) -> tuple[np.ndarray, dict[int, str]]:
    present = {str(v) for v in column.dropna().unique()}
    values = sorted(present | {str(k) for k in variable.value_labels})
    numeric = all(v.isascii() and v.isdigit() and int(v) <= MAX_LABELLED_CODE for v in values)
    codes = np.array([int(v) for v in values] if numeric else range(1, len(values) + 1), float)
    position = pd.Categorical(column.astype("string"), categories=values).codes
    labels = {int(code): variable.value_labels.get(v, v) for code, v in zip(codes, values)}
    return np.where(position >= 0, codes[np.maximum(position, 0)], np.nan), labels


def stata_names(names: list[str]) -> dict[str, str]:
    """Stata variable names: letters, digits and _, at most 32 characters, unique."""
    result: dict[str, str] = {}
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name)
        base = base if re.match(r"[A-Za-z_]", base) else f"v_{base}"
        candidate, n = base[:STATA_NAME_LENGTH], 1
        while candidate in result.values():
            suffix = f"_{n}"
            candidate, n = base[:STATA_NAME_LENGTH - len(suffix)] + suffix, n + 1
        result[name] = candidate
    return result
