"""SPSS .sav and Stata .dta through pyreadstat, with variable and value labels.

Categories (district, street, sex, ...) become integer codes with value labels, as both
packages expect: a numeric code is kept as is (district 310109 stays 310109), other codes are
numbered 1..k in sorted order and the label keeps the original code's meaning.
ReadStat writes a file in one go, so the labelled frame is built whole.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyreadstat

from surveyapp.exports.chunks import export_chunks
from surveyapp.exports.codebook import Codebook, Variable

MAX_LABELLED_CODE = 2_147_483_000  # Stata's largest long that may carry a value label
STATA_NAME_LENGTH = 32
STATA_LABEL_LENGTH = 80


def write_sav(frame, codebook: Codebook, path: Path, *, chunk_rows: int) -> None:
    data, labels, value_labels = labelled_frame(frame, codebook, chunk_rows)
    pyreadstat.write_sav(data, str(path), file_label=codebook.title, column_labels=labels,
                         variable_value_labels=value_labels, compress=True)


def write_dta(frame, codebook: Codebook, path: Path, *, chunk_rows: int) -> None:
    data, labels, value_labels = labelled_frame(frame, codebook, chunk_rows)
    names = stata_names(list(data.columns))
    data.columns = [names[c] for c in data.columns]
    pyreadstat.write_dta(
        data, str(path), file_label=codebook.title[:STATA_LABEL_LENGTH],
        column_labels={names[k]: v[:STATA_LABEL_LENGTH] for k, v in labels.items()},
        variable_value_labels={names[k]: v for k, v in value_labels.items()},
    )


def labelled_frame(frame, codebook: Codebook, chunk_rows: int
                   ) -> tuple[pd.DataFrame, dict[str, str], dict[str, dict[int, str]]]:
    """The frame with categories coded as integers, plus column and value labels."""
    data = pd.concat(list(export_chunks(frame, codebook, chunk_rows)), ignore_index=True)
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
            data[variable.name] = pd.to_datetime(column, utc=True).dt.tz_localize(None)
        else:
            data[variable.name] = column.astype(object).where(column.notna(), "")
    return data, labels, value_labels


def _coded(column: pd.Series, variable: Variable) -> tuple[pd.Series, dict[int, str]]:
    values = sorted(set(column.dropna().astype(str)) | {str(k) for k in variable.value_labels})
    numeric = all(v.isascii() and v.isdigit() and int(v) <= MAX_LABELLED_CODE for v in values)
    codes = {v: int(v) for v in values} if numeric else {v: i for i, v in enumerate(values, 1)}
    labels = {codes[v]: variable.value_labels.get(v, v) for v in values}
    return column.astype(object).map(codes).astype(float), labels


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
