"""The export's columns as Arrow data: one schema (types and labels) for Parquet and CSV."""
from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa

from surveyapp.exports.codebook import Codebook, Variable

ARROW_TYPES = {
    "text": pa.string(),
    "category": pa.string(),
    "number": pa.float64(),
    "datetime": pa.timestamp("us", tz="UTC"),
}


def arrow_schema(codebook: Codebook) -> pa.Schema:
    """Column types from the codebook; each field carries 'label' and 'value_labels' (JSON)."""
    fields = [pa.field(v.name, ARROW_TYPES[v.kind], metadata=_field_metadata(v))
              for v in codebook.variables]
    design = {"weights": codebook.weights, "strata": codebook.strata,
              "psu": _stages(codebook.psu_stages), "fpc": _stages(codebook.fpc),
              "lonely_psu": codebook.lonely_psu, "street_strata": codebook.street_strata}
    return pa.schema(fields, metadata={"title": codebook.title,
                                       "surveyapp.design": json.dumps(design)})


def _stages(names: tuple[str, ...]) -> str | list[str] | None:
    """As SurveyDesign takes them: None, one column, or a list of one per stage."""
    return None if not names else names[0] if len(names) == 1 else list(names)


def _field_metadata(variable: Variable) -> dict[str, str]:
    labels = {str(k): v for k, v in variable.value_labels.items()}
    return {"label": variable.label, "value_labels": json.dumps(labels, ensure_ascii=False)}


def arrow_table(chunk: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pandas(chunk, schema=schema, preserve_index=False)
