"""Slicing a frame into the codebook's columns, chunk by chunk, with free text made inert."""
from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from surveyapp.exports.cells import neutralise_formulas
from surveyapp.exports.codebook import Codebook


def export_chunks(frame: pd.DataFrame, codebook: Codebook, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The codebook's columns of ``frame`` in slices of ``chunk_rows`` rows (at least one slice)."""
    missing = [name for name in codebook.names if name not in frame.columns]
    if missing:
        raise ValueError(f"columns missing from the data: {', '.join(missing)}")
    text = [v.name for v in codebook.variables if v.kind == "text"]
    for start in range(0, max(len(frame), 1), chunk_rows):
        chunk = frame.iloc[start:start + chunk_rows][codebook.names].copy()
        for name in text:
            chunk[name] = neutralise_formulas(chunk[name])
        yield chunk
