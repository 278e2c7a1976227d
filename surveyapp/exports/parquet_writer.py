"""Parquet: one row group per chunk through pyarrow's ParquetWriter; labels in field metadata."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from surveyapp.exports.chunks import export_chunks
from surveyapp.exports.codebook import Codebook, Variable

ARROW_TYPES = {
    "text": pa.string(),
    "category": pa.string(),
    "number": pa.float64(),
    "datetime": pa.timestamp("us", tz="UTC"),
}


def parquet_schema(codebook: Codebook) -> pa.Schema:
    """Column types from the codebook; each field carries 'label' and 'value_labels' (JSON)."""
    fields = [pa.field(v.name, ARROW_TYPES[v.kind], metadata=_field_metadata(v))
              for v in codebook.variables]
    design = {"weights": codebook.weights, "strata": codebook.strata, "psu": codebook.psu}
    return pa.schema(fields, metadata={"title": codebook.title,
                                       "surveyapp.design": json.dumps(design)})


def _field_metadata(variable: Variable) -> dict[str, str]:
    labels = {str(k): v for k, v in variable.value_labels.items()}
    return {"label": variable.label, "value_labels": json.dumps(labels, ensure_ascii=False)}


def write_parquet(frame, codebook: Codebook, path: Path, *, chunk_rows: int) -> None:
    schema = parquet_schema(codebook)
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for chunk in export_chunks(frame, codebook, chunk_rows):
            writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
