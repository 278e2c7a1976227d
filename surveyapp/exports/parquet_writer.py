"""Parquet: one row group per chunk through pyarrow's ParquetWriter; labels in field metadata."""
from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from surveyapp.exports.arrow import arrow_schema, arrow_table
from surveyapp.exports.chunks import Progress, export_chunks
from surveyapp.exports.codebook import Codebook


def write_parquet(frame, codebook: Codebook, path: Path, *, chunk_rows: int,
                  progress: Progress | None = None) -> None:
    schema = arrow_schema(codebook)
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for chunk in export_chunks(frame, codebook, chunk_rows, progress):
            writer.write_table(arrow_table(chunk, schema))
