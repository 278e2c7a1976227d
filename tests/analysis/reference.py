"""Loader for R survey's reference results and the api data sets in /work/shared/data/api."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

API_DIR = Path("/work/shared/data/api")
RTOL = 1e-8

requires_api = pytest.mark.skipif(not API_DIR.is_dir(), reason="R reference data not available")


@cache
def reference(name: str) -> dict:
    """The parsed ``api_<x>_<name>.json`` file (each entry records the R call that produced it)."""
    (path,) = API_DIR.glob(f"api_*_{name}.json")
    return json.loads(path.read_text())


@cache
def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(API_DIR / f"{name}.csv")


def api(name: str) -> pd.DataFrame:
    """A fresh copy of one of the api CSV files (apistrat, apiclus1, apiclus2, ...)."""
    return _csv(name).copy()
