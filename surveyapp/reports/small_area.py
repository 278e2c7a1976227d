"""The district report's small-area section: each street's direct estimate where publishable
beside its model-based (Fay-Herriot) figure (laid out by reports/tables.py and reports/pdf.py).

The content is filled by surveyapp.services.small_area_report after the disclosure policy has
been applied: a withheld figure is absent here, not hidden by the builders.
"""
from __future__ import annotations

from dataclasses import dataclass

from surveyapp.reports.model import Estimate


@dataclass(frozen=True)
class ModelFigure:
    """A model-based street figure (rounded for publication) with its MSE-based interval."""

    value: float
    rmse: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class SmallAreaRow:
    """One street: ``direct`` None with ``direct_note`` saying why; ``model`` None with
    ``model_note``; ``basis`` names the kind of model figure ("model-based (EBLUP)" ...)."""

    code: str
    label: str
    n: int
    direct: Estimate | None
    direct_note: str | None
    model: ModelFigure | None
    model_note: str | None
    basis: str


@dataclass(frozen=True)
class SmallAreaSection:
    """The streets of the district with the method note (auxiliaries, thresholds)."""

    rows: tuple[SmallAreaRow, ...]
    note: str
