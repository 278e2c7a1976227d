"""Write a frame in one of the microdata formats, with its design snippets beside it."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from surveyapp.exports import FORMATS
from surveyapp.exports.chunks import Progress
from surveyapp.exports.codebook import Codebook
from surveyapp.exports.csv_writer import write_csv
from surveyapp.exports.design_snippets import write_design_snippet
from surveyapp.exports.dta_writer import write_dta
from surveyapp.exports.parquet_writer import write_parquet
from surveyapp.exports.rsnippet import write_r_snippet
from surveyapp.exports.sav_writer import write_sav

WRITERS = {"csv": write_csv, "parquet": write_parquet, "sav": write_sav, "dta": write_dta}
DEFAULT_CHUNK_ROWS = 100_000


def export_frame(frame: pd.DataFrame, codebook: Codebook, path: str | Path, fmt: str,
                 chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: Progress | None = None
                 ) -> tuple[Path, Path]:
    """Write ``frame`` as ``fmt`` to ``path`` and the R snippet beside it (plus, for .dta and
    .sav, the Stata or SPSS snippet of the same design); return the data and R snippet paths.

    ``progress`` is told the rows of each chunk as it is written."""
    if fmt not in WRITERS:
        raise ValueError(f"format: expected one of {', '.join(FORMATS)}; got {fmt!r}")
    path = Path(path)
    WRITERS[fmt](frame, codebook, path, chunk_rows=chunk_rows, progress=progress)
    write_design_snippet(codebook, path, fmt)
    return path, write_r_snippet(codebook, path, fmt)
