"""Design-based estimation for satisfaction surveys; agrees with R's survey package.

Pure numpy/pandas/scipy/statsmodels/matplotlib: no Flask, no SQLAlchemy, usable in a notebook.
"""
from analysis.calibration import CalibrationInfo
from analysis.chisq import ChisqTest, svychisq
from analysis.design import SurveyDesign
from analysis.diagnostics import WeightDiagnostics, weight_diagnostics
from analysis.drivers import KeyDrivers, key_drivers
from analysis.plots import district_comparison_chart, importance_performance_chart, trend_chart
from analysis.replicate import ReplicateDesign
from analysis.replicate_build import from_replicate_weights
from analysis.results import Estimate
from analysis.scoring import DimensionRule, ItemRule, ScoringSpec, score
from analysis.svyglm import GlmFit, svyglm
from analysis.trends import Change, contrast, difference, versus_overall
from analysis.weighting import RakeInfo, RakingConvergenceWarning

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
