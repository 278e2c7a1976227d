"""Slicing a frame into the codebook's columns, chunk by chunk, with free text made inert."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd

from surveyapp.exports.cells import neutralise_formulas
from surveyapp.exports.codebook import Codebook

Progress = Callable[[int], None]  # told the rows of each chunk once it has been written


def export_chunks(frame: pd.DataFrame, codebook: Codebook, chunk_rows: int,
                  progress: Progress | None = None) -> Iterator[pd.DataFrame]:
    """The codebook's columns of ``frame`` in slices of ``chunk_rows`` rows (at least one slice).

    ``progress`` hears of a slice when the next one is asked for, that is once it is written.
    """
    for start in range(0, max(len(frame), 1), chunk_rows):
        chunk = export_columns(frame.iloc[start:start + chunk_rows], codebook)
        yield chunk
        if progress is not None:
            progress(len(chunk))


def export_columns(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """A copy of the codebook's columns of ``frame``, free text made formula-safe."""
    missing = [name for name in codebook.names if name not in frame.columns]
    if missing:
        raise ValueError(f"columns missing from the data: {', '.join(missing)}")
    selected = frame[codebook.names]  # a new frame: the caller's data is left as it was
    for variable in codebook.variables:
        if variable.kind == "text":
            selected[variable.name] = neutralise_formulas(selected[variable.name])
    return selected
