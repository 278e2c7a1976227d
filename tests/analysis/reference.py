"""Loader for R survey's reference results and the api data sets in tests/analysis/data.

The CSV files are written by tests/analysis/r/export_api.R; each JSON file records the R call
beside its values (see tests/analysis/data/README.md for which script writes which file).
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).parent / "data"
RTOL = 1e-8


@cache
def reference(name: str) -> dict:
    """The parsed ``api_<x>_<name>.json`` file (each entry records the R call that produced it)."""
    (path,) = DATA_DIR.glob(f"api_*_{name}.json")
    return json.loads(path.read_text())


@cache
def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / f"{name}.csv")


def api(name: str) -> pd.DataFrame:
    """A fresh copy of one of the CSV files (apistrat, apiclus1, apiclus2, lonely_apiclus1, ...)."""
    return _csv(name).copy()
