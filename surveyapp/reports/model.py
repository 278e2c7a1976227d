"""What a report says, independent of how it is rendered.

The reporting service (surveyapp/services/reporting.py) fills these frozen dataclasses from the
analysis engine; the PDF, Excel and CSV builders only lay them out. All texts are already in the
report's language. A suppressed street carries no estimate at all, so no builder can leak it.
Times are aware datetimes in the service's zone (Beijing time), named by ``Method.time_zone``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the section's module imports Estimate from here
    from surveyapp.reports.small_area import SmallAreaSection

from surveyapp.reports.latent_section import LatentSection

Language = Literal["zh", "en"]
ReportKind = Literal["district", "city"]


@dataclass(frozen=True)
class Estimate:
    """A weighted mean score (0-100) with its standard error and 95% interval."""

    value: float
    se: float
    ci_low: float
    ci_high: float
    n: int


@dataclass(frozen=True)
class Change:
    """This wave minus an earlier one, with the interval and test of the difference."""

    earlier_wave: str
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    significant: bool


@dataclass(frozen=True)
class ScoreRow:
    """One scored line of a table: a dimension, an item or a district.

    ``changes`` is aligned with ``Report.earlier_waves``; an entry is None when that wave has no
    estimate for this row (e.g. an item that was not asked then).
    """

    code: str
    label: str
    estimate: Estimate
    band: str | None
    changes: tuple[Change | None, ...]
    group: str | None = None


@dataclass(frozen=True)
class StreetRow:
    """A street's score, or only its response count when it falls below the suppression limit."""

    code: str
    label: str
    n: int
    estimate: Estimate | None

    @property
    def suppressed(self) -> bool:
        return self.estimate is None


@dataclass(frozen=True)
class Headline:
    """The figures of page one: the index, its band, its changes, and where it stands."""

    estimate: Estimate
    band: str | None
    changes: tuple[Change, ...]
    rank: int | None
    rank_of: int | None
    city_mean: Estimate | None


@dataclass(frozen=True)
class Margin:
    """One population margin used for weighting: its target and the weighted total achieved."""

    variable: str
    category: str
    target: float
    achieved: float


@dataclass(frozen=True)
class Weighting:
    """How the wave was weighted; ``note`` explains a fallback to unweighted estimates."""

    weighted: bool
    note: str | None
    margin_set: str | None
    margins: tuple[Margin, ...]
    converged: bool | None
    iterations: int | None
    misfit: float | None


@dataclass(frozen=True)
class BandRow:
    """One satisfaction band of the questionnaire: scores ``lower <= s < upper`` (the top band
    includes 100), its label in the report's language."""

    label: str
    lower: float
    upper: float


@dataclass(frozen=True)
class Count:
    """A number of responses behind one unit (a street, or a district in the city report)."""

    label: str
    n: int


@dataclass(frozen=True)
class Method:
    """Everything a reader needs to judge the figures.

    ``questionnaire_version`` is the version as people know it ("2024.1"); ``bands`` the
    questionnaire's band table, best first; ``time_zone`` names the zone of every time shown
    ("北京时间, UTC+08:00"); ``reverse_scored`` says whether any item is reverse-scored.
    """

    n: int
    counts: tuple[Count, ...]
    weighting: Weighting
    design: str
    deff: float
    effective_n: float
    excluded: int
    first_response: datetime | None
    last_response: datetime | None
    wave_opens: datetime | None
    wave_closes: datetime | None
    questionnaire_version: str
    suppress_below: int
    confidence: float = 0.95
    bands: tuple[BandRow, ...] = ()
    time_zone: str = ""
    reverse_scored: bool = False


@dataclass(frozen=True)
class ChartPoint:
    """One plotted estimate (a wave of the trend, a district of the comparison), so that a
    spreadsheet can draw the chart natively from the same figures as the PNG."""

    label: str
    value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Chart:
    """A rendered chart (PNG bytes) with its caption and the points it plots."""

    id: str
    title: str
    png: bytes
    points: tuple[ChartPoint, ...] = ()


@dataclass(frozen=True)
class Report:
    """A district report (``kind="district"``) or the city-wide report (``kind="city"``).

    ``districts`` is ranked best first. ``streets`` is empty for the city report.
    ``dimension_heading`` names the dimension table ("sectors" for the public-service monitor).
    ``latent_index``: the optional latent-index section (None: not part of this report).
    """

    kind: ReportKind
    lang: Language
    area: str
    area_code: str | None
    wave: str
    questionnaire: str
    earlier_waves: tuple[str, ...]
    headline: Headline
    dimension_heading: str
    dimensions: tuple[ScoreRow, ...]
    items: tuple[ScoreRow, ...]
    streets: tuple[StreetRow, ...]
    districts: tuple[ScoreRow, ...]
    charts: tuple[Chart, ...]
    method: Method
    generated_at: datetime
    small_area: SmallAreaSection | None = None  # district reports: model-based street figures
    latent_index: LatentSection | None = None

    def lead_charts(self) -> tuple[Chart, ...]:
        """The charts fit to stand beside the headline figures, best first: the trend, or for a
        first wave (whose trend is a single dot) the district comparison."""
        order = ("trend", "districts") if self.earlier_waves else ("districts", "trend")
        by_id = {chart.id: chart for chart in self.charts}
        return tuple(by_id[i] for i in order if i in by_id)
