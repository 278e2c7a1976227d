"""The ``analysis`` package's names load on first use, and estimating loads no chart library.

Each check runs in a fresh interpreter: what a process has imported is the thing tested.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import analysis

RESOLVE_AFTER_SUBMODULES = """
import importlib, json, pkgutil
import analysis
for module in pkgutil.iter_modules(analysis.__path__):
    importlib.import_module(f"analysis.{module.name}")  # a submodule import must not shadow
wrong = {}
for name in analysis.__all__:
    value = getattr(analysis, name)
    if getattr(value, "__module__", None) is None or not value.__module__.startswith("analysis."):
        wrong[name] = repr(value)
print(json.dumps(wrong))
"""

ESTIMATE_ONLY = """
import json, sys
import numpy as np, pandas as pd
from analysis import SurveyDesign
frame = pd.DataFrame({"y": np.arange(40.0), "d": ["a", "b"] * 20, "w": 1.0})
design = SurveyDesign(frame, weights="w", strata="d")
design.mean("y"), design.mean("y", by="d")
print(json.dumps(sorted(m for m in ("matplotlib", "scipy.stats", "statsmodels", "flask")
                        if m in sys.modules)))
"""


def run(code: str):
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_public_name_resolves_to_its_object_even_after_its_module_is_imported():
    assert run(RESOLVE_AFTER_SUBMODULES) == {}


@pytest.mark.parametrize("name", sorted(analysis.__all__))
def test_from_analysis_import_each_name(name):
    module = __import__("analysis", fromlist=[name])  # what `from analysis import name` runs
    assert getattr(module, name) is getattr(analysis, name)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        analysis.nonexistent  # noqa: B018


def test_estimating_imports_no_chart_library_nor_scipy_stats():
    assert run(ESTIMATE_ONLY) == []
