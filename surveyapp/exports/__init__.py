"""Microdata exports of a wave: CSV, Parquet, SPSS .sav and Stata .dta, with labels and an R snippet.

The writers take a DataFrame (one row per response, as ``surveyapp.data.load_responses`` gives)
and a :class:`~surveyapp.exports.codebook.Codebook` that says which columns to write, their
variable labels and value labels, and the design (weights, strata, PSU) the R snippet rebuilds.
CSV and Parquet are written in chunks of rows, so the converted copy never exceeds one chunk;
SPSS and Stata files are written whole (ReadStat cannot append).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from surveyapp.exports.codebook import Codebook
from surveyapp.exports.csv_writer import write_csv
from surveyapp.exports.parquet_writer import write_parquet
from surveyapp.exports.readstat_writer import write_dta, write_sav
from surveyapp.exports.rsnippet import write_r_snippet

FORMATS = ("csv", "parquet", "sav", "dta")
WRITERS = {"csv": write_csv, "parquet": write_parquet, "sav": write_sav, "dta": write_dta}
DEFAULT_CHUNK_ROWS = 100_000


def export_frame(frame: pd.DataFrame, codebook: Codebook, path: str | Path, fmt: str,
                 chunk_rows: int = DEFAULT_CHUNK_ROWS) -> tuple[Path, Path]:
    """Write ``frame`` as ``fmt`` to ``path`` and the R snippet beside it; return both paths."""
    if fmt not in WRITERS:
        raise ValueError(f"format: expected one of {', '.join(FORMATS)}; got {fmt!r}")
    path = Path(path)
    WRITERS[fmt](frame, codebook, path, chunk_rows=chunk_rows)
    return path, write_r_snippet(codebook, path, fmt)
