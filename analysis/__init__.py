"""Design-based estimation for satisfaction surveys; agrees with R's survey package.

Pure numpy/pandas/scipy/statsmodels/matplotlib: no Flask, no SQLAlchemy, usable in a notebook.
"""
from analysis.calibration import CalibrationInfo
from analysis.design import SurveyDesign
from analysis.drivers import KeyDrivers, key_drivers
from analysis.plots import district_comparison_chart, importance_performance_chart, trend_chart
from analysis.replicate import ReplicateDesign
from analysis.replicate_build import from_replicate_weights
from analysis.results import Estimate
from analysis.scoring import DimensionRule, ItemRule, ScoringSpec, score
from analysis.trends import Change, contrast, difference, versus_overall
from analysis.weighting import RakeInfo, RakingConvergenceWarning

__all__ = [
    "CalibrationInfo",
    "Change",
    "DimensionRule",
    "Estimate",
    "ItemRule",
    "KeyDrivers",
    "RakeInfo",
    "RakingConvergenceWarning",
    "ReplicateDesign",
    "ScoringSpec",
    "SurveyDesign",
    "contrast",
    "difference",
    "from_replicate_weights",
    "district_comparison_chart",
    "importance_performance_chart",
    "key_drivers",
    "score",
    "trend_chart",
    "versus_overall",
]
