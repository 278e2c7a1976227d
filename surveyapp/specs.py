"""Estimate specs: the small YAML/JSON document that says exactly how to rerun an estimate.

A spec is parsed and validated here, without a database, into a frozen :class:`EstimateSpec`
whose canonical dictionary (every default filled in) is what a run stores, so that a rerun
uses the very same settings. Every problem is reported with its path, for example
``weighting.method: expected one of none, poststratify, rake, calibrate; got 'ipf'``. Checks that need
the data (does wave '2024' exist, is 'q17' an item of its questionnaire) happen in
``surveyapp.services.estimation`` and are reported the same way.

The path stays as written in the spec; what follows it is translated (flask-babel gettext):
in a request, the request's language; in an application context without one, Chinese unless
the caller chose otherwise with ``surveyapp.i18n.in_language``; outside any application
context (a bare script), the English message itself.

Format (YAML shown; the same keys in JSON)::

    spec_version: 1
    waves: ["2023", "2024"]          # one wave label or a list
    questionnaire: citizen           # optional: questionnaire key the waves must use
    outcomes:                        # default: [index]
      - index                        # respondent index (weighted mean of dimension scores)
      - overall                      # the overall-satisfaction item
      - dimensions                   # every dimension;  {dimension: product} for one
      - items                        # every rated item; {item: q3} for one
      - {proportion: index, at_least: 80, name: share_satisfied}
      - {proportion: index, band: satisfied}   # share in a questionnaire band (label zh or en)
      - {quantile: index, p: 0.5}    # median (default p) with Woodruff interval: median_index
      - {ratio: "item:q3", denominator: "item:q4"}   # ratio of weighted totals of two scores
    domains: [district, sex]         # each gives a table by that variable; the whole wave always
    design: {strata: district, psu: street, lonely_psu: fail}   # default (omitted or null):
                                     # the wave's declared sample design; given, it overrides
                                     # that design (keys default as shown) and runs say so
    weighting:
      method: rake                   # none | poststratify | rake | calibrate
      margins: demo-2024             # named margin set (poststratify / rake)
      variables: [sex, age_group]    # whose district x variable margins to use (default: all;
                                     # poststratify: exactly one, cells = district x variable)
      trim: {lower: 0.3, upper: 3.0} # multiples of the mean final weight
      epsilon: 1                     # as R's rake(): >= 1 weight units, < 1 fraction of total
      max_iter: 100
      partial: false                 # poststratify: ignore cells without respondents
      calfun: linear                 # calibrate: linear | raking | logit
      bounds: {lower: 0.5, upper: 2} # calibrate: limits of new / old weight (logit: needed)
    variance: {method: taylor}       # taylor | jk1 | jkn | bootstrap | bootstrap_cd (+ replicates,
                                     # seed) | brr | fay (+ fay_rho)
    interval: {method: t, level: 0.95, proportion_method: logit}   # or beta, wilson, wald,
                                                                   # likelihood

Quantile and ratio outcomes and likelihood intervals need ``variance.method: taylor``.
    exclusions: {policy: recorded, min_duration_seconds: null}
    comparisons: [{from: "2023", to: "2024"}]   # or "consecutive"
    regressions:                     # key drivers, R's svyglm on the design (variance taylor)
      - {outcome: overall, drivers: dimensions, model: linear}
      - {outcome: overall, drivers: [product, service], model: logistic, satisfied_at: 75}
    crosstabs:                       # Rao-Scott F test (R's svychisq) of a two-way table
      - {rows: band:index, columns: age_group}   # a domain variable or band:<score>
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

import yaml
from flask_babel import gettext as _

from surveyapp.bounded_parsers import safe_load_yaml

SPEC_VERSION = 1
OUTCOME_KEYWORDS = ("index", "overall", "dimensions", "items")
WEIGHTING_METHODS = ("none", "poststratify", "rake", "calibrate")
CALFUNS = ("linear", "raking", "logit")
VARIANCE_METHODS = ("taylor", "jk1", "jkn", "bootstrap", "bootstrap_cd", "brr", "fay")
BOOTSTRAP_METHODS = ("bootstrap", "bootstrap_cd")
INTERVAL_METHODS = ("t", "normal")
PROPORTION_METHODS = ("logit", "beta", "wilson", "wald", "likelihood")
LONELY_PSU = ("fail", "remove", "certainty", "adjust", "average")
EXCLUSION_POLICIES = ("recorded", "none")
REGRESSION_MODELS = ("linear", "logistic")
TABLE_VARIABLES = ("district", "street", "sex", "age_group", "residence_years", "language",
                   "channel")
TOP_LEVEL_KEYS = (
    "spec_version", "name", "waves", "questionnaire", "outcomes", "domains", "design",
    "weighting", "variance", "interval", "exclusions", "comparisons", "regressions", "crosstabs",
)


class SpecError(ValueError):
    """An invalid spec; ``problems`` lists every problem, each starting with its path."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(_("invalid estimate spec:") + "\n"
                         + "\n".join(f"  {p}" for p in self.problems))


@dataclass(frozen=True)
class Outcome:
    """One thing to estimate: index, overall, dimension, item, proportion, quantile or ratio.

    ``target`` names the dimension/item (or the scored variable a proportion, quantile or
    ratio is taken of: 'index', 'overall', 'dimension:<id>', 'item:<id>'); a proportion has
    either ``at_least`` or ``band``; a quantile its probability ``p``; a ratio its
    ``denominator`` (a scored variable too). ``kind`` 'dimensions'/'items' mean all of them
    and are expanded by the service.
    """

    kind: str
    target: str | None = None
    at_least: float | None = None
    band: str | None = None
    name: str | None = None
    p: float | None = None
    denominator: str | None = None


@dataclass(frozen=True)
class Design:
    strata: str | None = "district"
    psu: str | None = "street"
    lonely_psu: str = "fail"


@dataclass(frozen=True)
class Weighting:
    method: str = "none"
    margins: str | None = None
    variables: tuple[str, ...] = ()
    trim_lower: float | None = None
    trim_upper: float | None = None
    epsilon: float = 1.0
    max_iter: int = 100
    partial: bool = False
    calfun: str | None = None
    bounds_lower: float | None = None
    bounds_upper: float | None = None


@dataclass(frozen=True)
class Variance:
    method: str = "taylor"
    replicates: int | None = None
    seed: int | None = None
    fay_rho: float | None = None


@dataclass(frozen=True)
class Interval:
    method: str = "t"
    level: float = 0.95
    proportion_method: str = "logit"


@dataclass(frozen=True)
class Exclusions:
    policy: str = "recorded"
    min_duration_seconds: float | None = None


@dataclass(frozen=True)
class Comparison:
    from_wave: str
    to_wave: str


@dataclass(frozen=True)
class Regression:
    """Key drivers of ``outcome`` (a score: index, overall, dimension:<id>, item:<id>).

    ``drivers``: dimension ids, () for every dimension; ``model`` logistic models the share
    with ``outcome >= satisfied_at``.
    """

    outcome: str = "overall"
    drivers: tuple[str, ...] = ()
    model: str = "linear"
    satisfied_at: float | None = None


@dataclass(frozen=True)
class Crosstab:
    """Two-way table tested for independence; each side a variable or band:<score>."""

    rows: str
    columns: str


@dataclass(frozen=True)
class EstimateSpec:
    waves: tuple[str, ...]
    outcomes: tuple[Outcome, ...] = (Outcome("index"),)
    domains: tuple[str, ...] = ()
    questionnaire: str | None = None
    name: str | None = None
    design: Design | None = None  # None: each wave's declared sample design
    weighting: Weighting = field(default_factory=Weighting)
    variance: Variance = field(default_factory=Variance)
    interval: Interval = field(default_factory=Interval)
    exclusions: Exclusions = field(default_factory=Exclusions)
    comparisons: tuple[Comparison, ...] = ()
    regressions: tuple[Regression, ...] = ()
    crosstabs: tuple[Crosstab, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The canonical form, every default filled in; parsing it gives an equal spec."""
        weighting = asdict(self.weighting)
        lower, upper = weighting.pop("trim_lower"), weighting.pop("trim_upper")
        weighting["variables"] = list(self.weighting.variables)
        weighting["trim"] = None if lower is None and upper is None else {"lower": lower, "upper": upper}
        lower, upper = weighting.pop("bounds_lower"), weighting.pop("bounds_upper")
        weighting["bounds"] = None if lower is None and upper is None else {"lower": lower,
                                                                            "upper": upper}
        return {
            "spec_version": SPEC_VERSION,
            "name": self.name,
            "waves": list(self.waves),
            "questionnaire": self.questionnaire,
            "outcomes": [_outcome_dict(o) for o in self.outcomes],
            "domains": list(self.domains),
            "design": None if self.design is None else asdict(self.design),
            "weighting": weighting,
            "variance": asdict(self.variance),
            "interval": asdict(self.interval),
            "exclusions": asdict(self.exclusions),
            "comparisons": [{"from": c.from_wave, "to": c.to_wave} for c in self.comparisons],
            "regressions": [{"outcome": r.outcome, "drivers": list(r.drivers) or "dimensions",
                             "model": r.model, "satisfied_at": r.satisfied_at}
                            for r in self.regressions],
            "crosstabs": [{"rows": c.rows, "columns": c.columns} for c in self.crosstabs],
        }

    def to_json(self) -> str:
        """Canonical JSON text (sorted keys): what an estimate run stores."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)


def _outcome_dict(outcome: Outcome) -> Any:
    if outcome.kind in OUTCOME_KEYWORDS:
        return outcome.kind
    if outcome.kind in ("dimension", "item"):
        return {outcome.kind: outcome.target}
    if outcome.kind == "quantile":
        return {"quantile": outcome.target, "p": outcome.p, "name": outcome.name}
    if outcome.kind == "ratio":
        return {"ratio": outcome.target, "denominator": outcome.denominator, "name": outcome.name}
    entry: dict[str, Any] = {"proportion": outcome.target, "name": outcome.name}
    entry["at_least" if outcome.band is None else "band"] = (
        outcome.at_least if outcome.band is None else outcome.band
    )
    return entry


def load_spec(path) -> EstimateSpec:
    """Read and validate a spec file (YAML or JSON)."""
    from pathlib import Path

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([f"{path}: " + _("cannot read the spec file (%(error)s)", error=exc)]
                        ) from exc
    return parse_spec(text, source_name=path.name)


def parse_spec(text: str, source_name: str = "spec") -> EstimateSpec:
    """Parse YAML or JSON text; raise :class:`SpecError` listing every problem."""
    try:
        document = safe_load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        message = _("not valid YAML or JSON at line %(line)d, column %(column)d",
                    line=mark.line + 1, column=mark.column + 1) if mark else _(
            "not valid YAML or JSON")
        raise SpecError([f"{source_name}: {message}"]) from exc
    return spec_from_dict(document, source_name)


def spec_from_dict(document: Any, source_name: str = "spec") -> EstimateSpec:
    """Validate an already-decoded document (e.g. an API request body)."""
    problems = _Problems(source_name)
    if not isinstance(document, dict):
        problems.add("", _("expected a mapping with at least 'waves'"))
        problems.raise_if_any()
    problems.unknown_keys("", document, TOP_LEVEL_KEYS)
    version = document.get("spec_version", SPEC_VERSION)
    if version != SPEC_VERSION:
        problems.add("spec_version", _("expected %(expected)s; got %(got)r",
                                       expected=SPEC_VERSION, got=version))
    waves = _waves(document.get("waves"), problems)
    spec = EstimateSpec(
        waves=waves,
        outcomes=_outcomes(document.get("outcomes", ["index"]), problems),
        domains=_names(document.get("domains", []), "domains", problems),
        questionnaire=_optional_text(document.get("questionnaire"), "questionnaire", problems),
        name=_optional_text(document.get("name"), "name", problems),
        design=_design(document.get("design"), problems),
        weighting=_weighting(document.get("weighting", {}), problems),
        variance=_variance(document.get("variance", {}), problems),
        interval=_interval(document.get("interval", {}), problems),
        exclusions=_exclusions(document.get("exclusions", {}), problems),
        comparisons=_comparisons(document.get("comparisons", []), waves, problems),
        regressions=_regressions(document.get("regressions", []), problems),
        crosstabs=_crosstabs(document.get("crosstabs", []), problems),
    )
    _linearisation_only(spec, problems)
    problems.raise_if_any()
    return spec


class _Problems:
    """Collects problems as 'source: path: message'; the message is already translated."""

    def __init__(self, source_name: str):
        self.source_name = source_name
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{self.source_name}: {path}: {message}" if path else
                          f"{self.source_name}: {message}")

    def unknown_keys(self, path: str, mapping: dict, allowed: tuple[str, ...]) -> None:
        for key in mapping:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                self.add(where, _("unknown key; expected one of %(keys)s",
                                  keys=", ".join(allowed)))

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(self.items)


def _mapping(value: Any, path: str, allowed: tuple[str, ...], problems: _Problems) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(path, _("expected a mapping with keys %(keys)s; got %(got)r",
                             keys=", ".join(allowed), got=value))
        return {}
    problems.unknown_keys(path, value, allowed)
    return value


def _choice(value: Any, path: str, choices: tuple[str, ...], problems: _Problems) -> str:
    if value not in choices:
        problems.add(path, expected_one_of(choices, value))
        return choices[0]
    return value


def expected_one_of(choices: tuple[str, ...], value: Any) -> str:
    """'expected one of a, b, c; got 'x'' in the current language (also used by the API)."""
    return _("expected one of %(choices)s; got %(got)r", choices=", ".join(choices), got=value)


def _number(value: Any, path: str, problems: _Problems, *, low: float | None = None,
            high: float | None = None, integer: bool = False) -> Any:
    valid_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not valid_type or (isinstance(value, float) and not math.isfinite(value)):
        problems.add(path, _("expected an integer; got %(got)r", got=value) if integer else
                     _("expected a number; got %(got)r", got=value))
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        problems.add(path, _out_of_range(value, low, high, integer))
        return None
    return value


def _out_of_range(value: Any, low: float | None, high: float | None, integer: bool) -> str:
    """Whole sentences, one per case, so that each reads naturally once translated."""
    if low is not None and high is not None:
        if integer:
            return _("expected an integer between %(low)s and %(high)s; got %(got)r",
                     low=low, high=high, got=value)
        return _("expected a number between %(low)s and %(high)s; got %(got)r",
                 low=low, high=high, got=value)
    if low is not None:
        if integer:
            return _("expected an integer of at least %(low)s; got %(got)r", low=low, got=value)
        return _("expected a number of at least %(low)s; got %(got)r", low=low, got=value)
    if integer:
        return _("expected an integer of at most %(high)s; got %(got)r", high=high, got=value)
    return _("expected a number of at most %(high)s; got %(got)r", high=high, got=value)


def _optional_text(value: Any, path: str, problems: _Problems) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(path, _("expected a non-empty text; got %(got)r", got=value))
        return None
    return value.strip()


def _label(value: Any) -> str | None:
    """Wave labels may be written as numbers in YAML (2024); keep them as text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _waves(value: Any, problems: _Problems) -> tuple[str, ...]:
    if value is None:
        problems.add("waves", _('required: a wave label such as "2024" or a list of them'))
        return ()
    entries = value if isinstance(value, list) else [value]
    if not entries:
        problems.add("waves", _("expected at least one wave label"))
    labels = []
    for i, entry in enumerate(entries):
        label = _label(entry)
        if label is None:
            problems.add(f"waves[{i}]", _('expected a wave label such as "2024"; got %(got)r',
                                          got=entry))
        elif label in labels:
            problems.add(f"waves[{i}]", _("wave %(label)r is listed twice", label=label))
        else:
            labels.append(label)
    return tuple(labels)


def _names(value: Any, path: str, problems: _Problems) -> tuple[str, ...]:
    if not isinstance(value, list):
        value = [value] if isinstance(value, str) else value
    if not isinstance(value, list):
        problems.add(path, _("expected a list of variable names; got %(got)r", got=value))
        return ()
    names = []
    for i, entry in enumerate(value):
        if not isinstance(entry, str) or not entry.strip():
            problems.add(f"{path}[{i}]", _("expected a variable name; got %(got)r", got=entry))
        elif entry in names:
            problems.add(f"{path}[{i}]", _("%(name)r is listed twice", name=entry))
        else:
            names.append(entry.strip())
    return tuple(names)


def _outcomes(value: Any, problems: _Problems) -> tuple[Outcome, ...]:
    if not isinstance(value, list) or not value:
        problems.add("outcomes", _("expected a non-empty list, e.g. [index, dimensions]"))
        return ()
    outcomes = []
    for i, entry in enumerate(value):
        outcome = _outcome(entry, f"outcomes[{i}]", problems)
        if outcome is None:
            continue
        if outcome in outcomes:
            problems.add(f"outcomes[{i}]", _("listed twice"))
        outcomes.append(outcome)
    names = [o.name for o in outcomes if o.name]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.add("outcomes", _("the name %(name)r is used twice", name=name))
    return tuple(outcomes)


def _outcome(entry: Any, path: str, problems: _Problems) -> Outcome | None:
    if isinstance(entry, str):
        if entry in OUTCOME_KEYWORDS:
            return Outcome(entry)
        problems.add(path, _("expected one of %(keywords)s, or a mapping {dimension: ID}, "
                             "{item: ID} or {proportion: ...}; got %(got)r",
                             keywords=", ".join(OUTCOME_KEYWORDS), got=entry))
        return None
    if not isinstance(entry, dict):
        problems.add(path, _("expected a name or a mapping; got %(got)r", got=entry))
        return None
    if "proportion" in entry:
        return _proportion(entry, path, problems)
    if "quantile" in entry:
        return _quantile(entry, path, problems)
    if "ratio" in entry:
        return _ratio(entry, path, problems)
    if len(entry) == 1 and next(iter(entry)) in ("dimension", "item"):
        kind, target = next(iter(entry.items()))
        if not isinstance(target, str) or not target.strip():
            problems.add(f"{path}.{kind}", _("expected the %(kind)s id; got %(got)r",
                                             kind=kind, got=target))
            return None
        return Outcome(kind, target.strip())
    problems.add(path, _("expected {dimension: ID}, {item: ID} or {proportion: ..., at_least: N}"))
    return None


def _score_target(value: Any, path: str, problems: _Problems) -> str | None:
    if not isinstance(value, str) or not (
        value in ("index", "overall") or value.startswith(("dimension:", "item:"))
    ):
        problems.add(path, _("expected index, overall, dimension:<id> or item:<id>; got %(got)r",
                             got=value))
        return None
    return value


def _quantile(entry: dict, path: str, problems: _Problems) -> Outcome | None:
    problems.unknown_keys(path, entry, ("quantile", "p", "name"))
    target = _score_target(entry["quantile"], f"{path}.quantile", problems)
    p = _number(entry.get("p", 0.5), f"{path}.p", problems, low=0, high=1)
    name = _optional_text(entry.get("name"), f"{path}.name", problems)
    if target is None or p is None:
        return None
    default = f"median_{_slug(target)}" if p == 0.5 else f"p{100 * p:g}_{_slug(target)}"
    return Outcome("quantile", target, p=float(p), name=name or default)


def _ratio(entry: dict, path: str, problems: _Problems) -> Outcome | None:
    problems.unknown_keys(path, entry, ("ratio", "denominator", "name"))
    target = _score_target(entry["ratio"], f"{path}.ratio", problems)
    if "denominator" not in entry:
        problems.add(f"{path}.denominator", _("required: the scored variable to divide by, "
                                              "e.g. item:q4"))
        return None
    denominator = _score_target(entry["denominator"], f"{path}.denominator", problems)
    name = _optional_text(entry.get("name"), f"{path}.name", problems)
    if target is None or denominator is None:
        return None
    return Outcome("ratio", target, denominator=denominator,
                   name=name or f"ratio_{_slug(target)}_{_slug(denominator)}")


def _linearisation_only(spec: EstimateSpec, problems: _Problems) -> None:
    """Quantiles, ratios, likelihood intervals, regressions and crosstabs have no
    replicate-weight version here."""
    if spec.variance.method == "taylor":
        return
    if spec.regressions or spec.crosstabs:
        problems.add("variance.method", _("regressions and crosstabs need method taylor "
                                          "(linearisation); got %(got)r",
                                          got=spec.variance.method))
    for i, outcome in enumerate(spec.outcomes):
        if outcome.kind in ("quantile", "ratio"):
            problems.add(f"outcomes[{i}]", _("%(kind)s outcomes need variance.method taylor; "
                                             "got %(method)r", kind=outcome.kind,
                                             method=spec.variance.method))
    if spec.interval.proportion_method == "likelihood":
        problems.add("interval.proportion_method", _(
            "likelihood needs variance.method taylor; got %(method)r",
            method=spec.variance.method))


def _proportion(entry: dict, path: str, problems: _Problems) -> Outcome | None:
    problems.unknown_keys(path, entry, ("proportion", "at_least", "band", "name"))
    target = _score_target(entry["proportion"], f"{path}.proportion", problems)
    if target is None:
        return None
    has_threshold, has_band = "at_least" in entry, "band" in entry
    if has_threshold == has_band:
        problems.add(path, _("give exactly one of at_least (a score 0-100) or band (a band "
                             "label)"))
        return None
    name = _optional_text(entry.get("name"), f"{path}.name", problems)
    if has_band:
        band = _optional_text(entry["band"], f"{path}.band", problems)
        return Outcome("proportion", target, band=band, name=name or f"share_{_slug(target)}_{band}")
    at_least = _number(entry["at_least"], f"{path}.at_least", problems, low=0, high=100)
    if at_least is None:
        return None
    return Outcome("proportion", target, at_least=float(at_least),
                   name=name or f"share_{_slug(target)}_ge_{at_least:g}")


def _slug(target: str) -> str:
    return target.replace(":", "_")


def _design(value: Any, problems: _Problems) -> Design | None:
    if value is None:
        return None
    value = _mapping(value, "design", ("strata", "psu", "lonely_psu"), problems)
    default = Design()
    strata = value.get("strata", default.strata)
    psu = value.get("psu", default.psu)
    for key, variable in (("strata", strata), ("psu", psu)):
        if variable is not None and (not isinstance(variable, str) or not variable.strip()):
            problems.add(f"design.{key}", _("expected a variable name or null; got %(got)r",
                                            got=variable))
    lonely = _choice(value.get("lonely_psu", default.lonely_psu), "design.lonely_psu", LONELY_PSU,
                     problems)
    return Design(strata=strata if isinstance(strata, str) else None,
                  psu=psu if isinstance(psu, str) else None, lonely_psu=lonely)


def _weighting(value: Any, problems: _Problems) -> Weighting:
    value = _mapping(value, "weighting",
                     ("method", "margins", "variables", "trim", "epsilon", "max_iter", "partial",
                      "calfun", "bounds"), problems)
    method = _choice(value.get("method", "none"), "weighting.method", WEIGHTING_METHODS, problems)
    margins = _optional_text(value.get("margins"), "weighting.margins", problems)
    if method != "none" and margins is None and "margins" not in value:
        problems.add("weighting.margins", _("required for method %(method)s: the name of a "
                                            "margin set", method=method))
    if method == "none" and margins is not None:
        problems.add("weighting.margins", _("only used with method poststratify, rake or calibrate"))
    variables = _names(value.get("variables", []), "weighting.variables", problems)
    if method == "poststratify" and len(variables) != 1:
        problems.add("weighting.variables", _("poststratify needs exactly one variable, e.g. "
                                              "[sex] for district x sex cells"))
    lower, upper = _trim(value.get("trim"), problems)
    epsilon = _number(value.get("epsilon", 1.0), "weighting.epsilon", problems, low=0)
    if epsilon == 0:
        problems.add("weighting.epsilon", _("expected a number above 0; got 0"))
    max_iter = _number(value.get("max_iter", 100), "weighting.max_iter", problems, low=1,
                       integer=True)
    partial = value.get("partial", False)
    if not isinstance(partial, bool):
        problems.add("weighting.partial", _("expected true or false; got %(got)r", got=partial))
        partial = False
    if partial and method != "poststratify":
        problems.add("weighting.partial", _("only used with method poststratify"))
    calfun, bounds = None, (None, None)
    if method == "calibrate":
        calfun = _choice(value.get("calfun", "linear"), "weighting.calfun", CALFUNS, problems)
        bounds = _bounds(value.get("bounds"), calfun, problems)
    else:
        for key in ("calfun", "bounds"):
            if value.get(key) is not None:
                problems.add(f"weighting.{key}", _("only used with method calibrate"))
    return Weighting(method=method, margins=margins, variables=variables, trim_lower=lower,
                     trim_upper=upper, epsilon=float(epsilon or 1.0), max_iter=max_iter or 100,
                     partial=partial, calfun=calfun, bounds_lower=bounds[0],
                     bounds_upper=bounds[1])


def _bounds(value: Any, calfun: str, problems: _Problems) -> tuple[float | None, float | None]:
    """Calibration bounds on new / old weight: lower at most 1, upper at least 1."""
    if value is None:
        if calfun == "logit":
            problems.add("weighting.bounds", _("required for calfun logit, e.g. {lower: 0.5, "
                                               "upper: 2}"))
        return None, None
    value = _mapping(value, "weighting.bounds", ("lower", "upper"), problems)
    lower = value.get("lower")
    upper = value.get("upper")
    lower = None if lower is None else _number(lower, "weighting.bounds.lower", problems, low=0,
                                               high=1)
    upper = None if upper is None else _number(upper, "weighting.bounds.upper", problems, low=1)
    if calfun == "logit":
        for key, bound in (("lower", lower), ("upper", upper)):
            if bound is None or bound == 1:
                problems.add(f"weighting.bounds.{key}", _(
                    "calfun logit needs a %(key)s bound other than 1; got %(got)r", key=key,
                    got=value.get(key)))
    return (None if lower is None else float(lower)), (None if upper is None else float(upper))


def _trim(value: Any, problems: _Problems) -> tuple[float | None, float | None]:
    if value is None:
        return None, None
    value = _mapping(value, "weighting.trim", ("lower", "upper"), problems)
    if not value:
        problems.add("weighting.trim", _("expected lower and/or upper (multiples of the mean "
                                         "weight)"))
        return None, None
    bounds = []
    for key in ("lower", "upper"):
        raw = value.get(key)
        number = None if raw is None else _number(raw, f"weighting.trim.{key}", problems, low=0)
        bounds.append(None if number is None else float(number))
    lower, upper = bounds
    if lower is not None and lower > 1:
        problems.add("weighting.trim.lower", _("expected at most 1 (the mean weight); got "
                                               "%(got)s", got=f"{lower:g}"))
    if upper is not None and upper < 1:
        problems.add("weighting.trim.upper", _("expected at least 1 (the mean weight); got "
                                               "%(got)s", got=f"{upper:g}"))
    return lower, upper


def _variance(value: Any, problems: _Problems) -> Variance:
    value = _mapping(value, "variance", ("method", "replicates", "seed", "fay_rho"), problems)
    method = _choice(value.get("method", "taylor"), "variance.method", VARIANCE_METHODS, problems)
    replicates = seed = fay_rho = None
    if method in BOOTSTRAP_METHODS:
        replicates = _number(value.get("replicates", 200), "variance.replicates", problems,
                             low=2, high=10000, integer=True)
        seed = _number(value.get("seed", 1), "variance.seed", problems, low=0, integer=True)
    else:
        for key in ("replicates", "seed"):
            if value.get(key) is not None:
                problems.add(f"variance.{key}",
                             _("only used with method bootstrap or bootstrap_cd"))
    if method == "fay":
        fay_rho = _number(value.get("fay_rho", 0.5), "variance.fay_rho", problems, low=0, high=1)
        if fay_rho in (0, 1):
            problems.add("variance.fay_rho", _("expected a number above 0 and below 1 (e.g. "
                                               "0.5); got %(got)r", got=fay_rho))
            fay_rho = None
    elif value.get("fay_rho") is not None:
        problems.add("variance.fay_rho", _("only used with method fay"))
    return Variance(method=method, replicates=replicates, seed=seed,
                    fay_rho=None if fay_rho is None else float(fay_rho))


def _interval(value: Any, problems: _Problems) -> Interval:
    value = _mapping(value, "interval", ("method", "level", "proportion_method"), problems)
    method = _choice(value.get("method", "t"), "interval.method", INTERVAL_METHODS, problems)
    level = value.get("level", 0.95)
    if _number(level, "interval.level", problems) is not None and not 0.5 <= level < 1:
        problems.add("interval.level", _("expected a level such as 0.95 (from 0.5, below 1); "
                                         "got %(got)r", got=level))
    proportion = _choice(value.get("proportion_method", "logit"), "interval.proportion_method",
                         PROPORTION_METHODS, problems)
    return Interval(method=method, level=float(level) if isinstance(level, (int, float)) else 0.95,
                    proportion_method=proportion)


def _exclusions(value: Any, problems: _Problems) -> Exclusions:
    value = _mapping(value, "exclusions", ("policy", "min_duration_seconds"), problems)
    policy = _choice(value.get("policy", "recorded"), "exclusions.policy", EXCLUSION_POLICIES,
                     problems)
    minimum = value.get("min_duration_seconds")
    if minimum is not None:
        minimum = _number(minimum, "exclusions.min_duration_seconds", problems, low=0)
    return Exclusions(policy=policy, min_duration_seconds=None if minimum is None else float(minimum))


def _comparisons(value: Any, waves: tuple[str, ...], problems: _Problems) -> tuple[Comparison, ...]:
    if value == "consecutive":
        return tuple(Comparison(a, b) for a, b in pairwise(waves))
    if not isinstance(value, list):
        problems.add("comparisons", _("expected 'consecutive' or a list of {from, to}; got "
                                      "%(got)r", got=value))
        return ()
    comparisons = []
    for i, entry in enumerate(value):
        path = f"comparisons[{i}]"
        entry = _mapping(entry, path, ("from", "to"), problems)
        pair = []
        for key in ("from", "to"):
            label = _label(entry.get(key))
            if label is None:
                problems.add(f"{path}.{key}", _("expected a wave label; got %(got)r",
                                                got=entry.get(key)))
            elif label not in waves:
                problems.add(f"{path}.{key}", _("wave %(label)r is not in waves", label=label))
            pair.append(label)
        if None not in pair:
            if pair[0] == pair[1]:
                problems.add(path, _("compares a wave with itself"))
            comparisons.append(Comparison(pair[0], pair[1]))
    return tuple(comparisons)


def _entries(value: Any, path: str, example: str, problems: _Problems) -> list:
    if not isinstance(value, list):
        problems.add(path, _("expected a list of mappings such as %(example)s; got %(got)r",
                             example=example, got=value))
        return []
    return value


def _regressions(value: Any, problems: _Problems) -> tuple[Regression, ...]:
    result = []
    for i, entry in enumerate(_entries(value, "regressions",
                                       "{outcome: overall, drivers: dimensions}", problems)):
        path = f"regressions[{i}]"
        entry = _mapping(entry, path, ("outcome", "drivers", "model", "satisfied_at"), problems)
        outcome = _score_target(entry.get("outcome", "overall"), f"{path}.outcome", problems)
        raw = entry.get("drivers", "dimensions")
        drivers: tuple[str, ...] = ()
        if raw != "dimensions":
            if isinstance(raw, list) and not raw:
                problems.add(f"{path}.drivers", _("expected 'dimensions' or a non-empty list "
                                                  "of dimension ids; got %(got)r", got=raw))
            else:
                drivers = _names(raw, f"{path}.drivers", problems)
        model = _choice(entry.get("model", "linear"), f"{path}.model", REGRESSION_MODELS,
                        problems)
        satisfied_at = entry.get("satisfied_at")
        if model == "logistic":
            if satisfied_at is None:
                problems.add(f"{path}.satisfied_at", _("required for model logistic: the score "
                                                       "(0-100) that counts as satisfied"))
            else:
                satisfied_at = _number(satisfied_at, f"{path}.satisfied_at", problems, low=0,
                                       high=100)
        elif satisfied_at is not None:
            problems.add(f"{path}.satisfied_at", _("only used with model logistic"))
            satisfied_at = None
        if outcome is not None:
            result.append(Regression(outcome, drivers, model,
                                     None if satisfied_at is None else float(satisfied_at)))
    return tuple(result)


def _table_side(value: Any, path: str, problems: _Problems) -> str | None:
    if isinstance(value, str) and value.startswith("band:"):
        return value if _score_target(value[5:], path, problems) else None
    if value not in TABLE_VARIABLES:
        problems.add(path, _("expected one of %(choices)s, or band:<score> such as band:index; "
                             "got %(got)r", choices=", ".join(TABLE_VARIABLES), got=value))
        return None
    return value


def _crosstabs(value: Any, problems: _Problems) -> tuple[Crosstab, ...]:
    result = []
    for i, entry in enumerate(_entries(value, "crosstabs",
                                       "{rows: band:index, columns: age_group}", problems)):
        path = f"crosstabs[{i}]"
        entry = _mapping(entry, path, ("rows", "columns"), problems)
        sides = []
        for key in ("rows", "columns"):
            if key not in entry:
                problems.add(f"{path}.{key}", _("required: a variable or band:<score>"))
                sides.append(None)
            else:
                sides.append(_table_side(entry[key], f"{path}.{key}", problems))
        if None not in sides:
            if sides[0] == sides[1]:
                problems.add(path, _("rows and columns are the same variable"))
            else:
                result.append(Crosstab(sides[0], sides[1]))
    return tuple(result)
