"""CSV: UTF-8 with a byte-order mark (so spreadsheets read the Chinese), written chunk by chunk."""
from __future__ import annotations

from pathlib import Path

from surveyapp.exports.chunks import export_chunks
from surveyapp.exports.codebook import Codebook

ENCODING = "utf-8-sig"


def write_csv(frame, codebook: Codebook, path: Path, *, chunk_rows: int) -> None:
    """Values as stored (codes, raw answers, scores); labels live in the R snippet and codebook."""
    with open(path, "w", encoding=ENCODING, newline="") as handle:
        for i, chunk in enumerate(export_chunks(frame, codebook, chunk_rows)):
            if "submitted_at" in chunk:
                chunk["submitted_at"] = chunk["submitted_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            chunk.to_csv(handle, index=False, header=i == 0, lineterminator="\n")
