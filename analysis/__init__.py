"""Design-based estimation for satisfaction surveys; agrees with R's survey package.

Pure numpy/pandas/scipy/statsmodels/matplotlib: no Flask, no SQLAlchemy, usable in a notebook.

The names below are imported on first use (PEP 562), so that ``import analysis`` or
``from analysis import SurveyDesign`` does not load matplotlib (the charts) or scipy.stats
(the chi-squared test) for a command that only estimates.
"""
from __future__ import annotations

import importlib
from typing import Any

# Bound now: the function shares its module's name, and importing the module (as
# analysis.drivers does) would otherwise leave ``analysis.svyglm`` naming the module.
from analysis.svyglm import GlmFit, svyglm

# Each public name and the module that defines it.
_HOMES = {
    "CalibrationInfo": "calibration",
    "Change": "trends",
    "ChisqTest": "chisq",
    "DimensionRule": "scoring",
    "Estimate": "results",
    "ItemRule": "scoring",
    "KeyDrivers": "drivers",
    "RakeInfo": "weighting",
    "RakingConvergenceWarning": "weighting",
    "ReplicateDesign": "replicate",
    "ScoringSpec": "scoring",
    "SurveyDesign": "design",
    "WeightDiagnostics": "diagnostics",
    "contrast": "trends",
    "difference": "trends",
    "district_comparison_chart": "plots",
    "from_replicate_weights": "replicate_build",
    "importance_performance_chart": "plots",
    "key_drivers": "drivers",
    "score": "scoring",
    "svychisq": "chisq",
    "trend_chart": "plots",
    "versus_overall": "trends",
    "weight_diagnostics": "diagnostics",
}

__all__ = [
    "CalibrationInfo",
    "Change",
    "ChisqTest",
    "DimensionRule",
    "Estimate",
    "GlmFit",
    "ItemRule",
    "KeyDrivers",
    "RakeInfo",
    "RakingConvergenceWarning",
    "ReplicateDesign",
    "ScoringSpec",
    "SurveyDesign",
    "WeightDiagnostics",
    "contrast",
    "difference",
    "district_comparison_chart",
    "from_replicate_weights",
    "importance_performance_chart",
    "key_drivers",
    "score",
    "svychisq",
    "svyglm",
    "trend_chart",
    "versus_overall",
    "weight_diagnostics",
]


def __getattr__(name: str) -> Any:
    """Import the module defining ``name`` on first use and keep the value here."""
    try:
        home = _HOMES[name]
    except KeyError:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"analysis.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

