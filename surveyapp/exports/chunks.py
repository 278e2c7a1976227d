"""Slicing a frame into the codebook's columns, chunk by chunk, with free text made inert."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd

from surveyapp.exports.cells import neutralise_formulas
from surveyapp.exports.codebook import Codebook

Progress = Callable[[int], None]  # told the rows of each chunk once it has been written
INERT_KINDS = ("text",)
SPREADSHEET_INERT_KINDS = ("text", "category")  # every column a spreadsheet reads as text


def export_chunks(frame: pd.DataFrame, codebook: Codebook, chunk_rows: int,
                  progress: Progress | None = None, *,
                  inert_kinds: tuple[str, ...] = INERT_KINDS) -> Iterator[pd.DataFrame]:
    """The codebook's columns of ``frame`` in slices of ``chunk_rows`` rows (at least one slice).

    ``progress`` hears of a slice when the next one is asked for, that is once it is written.
    """
    for start in range(0, max(len(frame), 1), chunk_rows):
        chunk = export_columns(frame.iloc[start:start + chunk_rows], codebook, inert_kinds)
        yield chunk
        if progress is not None:
            progress(len(chunk))


def export_columns(frame: pd.DataFrame, codebook: Codebook,
                   inert_kinds: tuple[str, ...] = INERT_KINDS) -> pd.DataFrame:
    """A copy of the codebook's columns of ``frame``, the ``inert_kinds`` made formula-safe.

    Free text always; a spreadsheet format (CSV) passes SPREADSHEET_INERT_KINDS so that string
    codes (a wave label typed by an admin, say) are made safe too. The labelled formats keep
    category values as they are: their value labels are keyed by them.
    """
    missing = [name for name in codebook.names if name not in frame.columns]
    if missing:
        raise ValueError(f"columns missing from the data: {', '.join(missing)}")
    selected = frame[codebook.names]  # a new frame: the caller's data is left as it was
    for variable in codebook.variables:
        if variable.kind in inert_kinds:
            selected[variable.name] = neutralise_formulas(selected[variable.name])
    return selected
