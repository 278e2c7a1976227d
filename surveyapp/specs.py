"""Estimate specs: the small YAML/JSON document that says exactly how to rerun an estimate.

A spec is parsed and validated here, without a database, into a frozen :class:`EstimateSpec`
whose canonical dictionary (every default filled in) is what a run stores, so that a rerun
uses the very same settings. Every problem is reported with its path, for example
``weighting.method: expected one of none, poststratify, rake; got 'ipf'``. Checks that need
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
    domains: [district, sex]         # each gives a table by that variable; the whole wave always
    design: {strata: district, psu: street, lonely_psu: fail}
    weighting:
      method: rake                   # none | poststratify | rake
      margins: demo-2024             # named margin set (poststratify / rake)
      variables: [sex, age_group]    # whose district x variable margins to use (default: all;
                                     # poststratify: exactly one, cells = district x variable)
      trim: {lower: 0.3, upper: 3.0} # multiples of the mean final weight
      epsilon: 1                     # as R's rake(): >= 1 weight units, < 1 fraction of total
      max_iter: 100
    variance: {method: taylor}       # taylor | jk1 | jkn | bootstrap (+ replicates, seed)
    interval: {method: t, level: 0.95, proportion_method: logit}
    exclusions: {policy: recorded, min_duration_seconds: null}
    comparisons: [{from: "2023", to: "2024"}]   # or "consecutive"
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
WEIGHTING_METHODS = ("none", "poststratify", "rake")
VARIANCE_METHODS = ("taylor", "jk1", "jkn", "bootstrap")
INTERVAL_METHODS = ("t", "normal")
PROPORTION_METHODS = ("logit", "beta", "wilson", "wald")
LONELY_PSU = ("fail", "remove", "certainty", "adjust", "average")
EXCLUSION_POLICIES = ("recorded", "none")
TOP_LEVEL_KEYS = (
    "spec_version", "name", "waves", "questionnaire", "outcomes", "domains", "design",
    "weighting", "variance", "interval", "exclusions", "comparisons",
)


class SpecError(ValueError):
    """An invalid spec; ``problems`` lists every problem, each starting with its path."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(_("invalid estimate spec:") + "\n"
                         + "\n".join(f"  {p}" for p in self.problems))


@dataclass(frozen=True)
class Outcome:
    """One thing to estimate. ``kind`` is index, overall, dimension, item or proportion.

    ``target`` names the dimension/item (or the scored variable a proportion is taken of:
    'index', 'overall', 'dimension:<id>', 'item:<id>'); a proportion has either ``at_least``
    or ``band``. ``kind`` 'dimensions'/'items' mean all of them and are expanded by the service.
    """

    kind: str
    target: str | None = None
    at_least: float | None = None
    band: str | None = None
    name: str | None = None


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


@dataclass(frozen=True)
class Variance:
    method: str = "taylor"
    replicates: int | None = None
    seed: int | None = None


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
class EstimateSpec:
    waves: tuple[str, ...]
    outcomes: tuple[Outcome, ...] = (Outcome("index"),)
    domains: tuple[str, ...] = ()
    questionnaire: str | None = None
    name: str | None = None
    design: Design = field(default_factory=Design)
    weighting: Weighting = field(default_factory=Weighting)
    variance: Variance = field(default_factory=Variance)
    interval: Interval = field(default_factory=Interval)
    exclusions: Exclusions = field(default_factory=Exclusions)
    comparisons: tuple[Comparison, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The canonical form, every default filled in; parsing it gives an equal spec."""
        weighting = asdict(self.weighting)
        lower, upper = weighting.pop("trim_lower"), weighting.pop("trim_upper")
        weighting["variables"] = list(self.weighting.variables)
        weighting["trim"] = None if lower is None and upper is None else {"lower": lower, "upper": upper}
        return {
            "spec_version": SPEC_VERSION,
            "name": self.name,
            "waves": list(self.waves),
            "questionnaire": self.questionnaire,
            "outcomes": [_outcome_dict(o) for o in self.outcomes],
            "domains": list(self.domains),
            "design": asdict(self.design),
            "weighting": weighting,
            "variance": asdict(self.variance),
            "interval": asdict(self.interval),
            "exclusions": asdict(self.exclusions),
            "comparisons": [{"from": c.from_wave, "to": c.to_wave} for c in self.comparisons],
        }

    def to_json(self) -> str:
        """Canonical JSON text (sorted keys): what an estimate run stores."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)


def _outcome_dict(outcome: Outcome) -> Any:
    if outcome.kind in OUTCOME_KEYWORDS:
        return outcome.kind
    if outcome.kind in ("dimension", "item"):
        return {outcome.kind: outcome.target}
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
        design=_design(document.get("design", {}), problems),
        weighting=_weighting(document.get("weighting", {}), problems),
        variance=_variance(document.get("variance", {}), problems),
        interval=_interval(document.get("interval", {}), problems),
        exclusions=_exclusions(document.get("exclusions", {}), problems),
        comparisons=_comparisons(document.get("comparisons", []), waves, problems),
    )
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
    if len(entry) == 1 and next(iter(entry)) in ("dimension", "item"):
        kind, target = next(iter(entry.items()))
        if not isinstance(target, str) or not target.strip():
            problems.add(f"{path}.{kind}", _("expected the %(kind)s id; got %(got)r",
                                             kind=kind, got=target))
            return None
        return Outcome(kind, target.strip())
    problems.add(path, _("expected {dimension: ID}, {item: ID} or {proportion: ..., at_least: N}"))
    return None


def _proportion(entry: dict, path: str, problems: _Problems) -> Outcome | None:
    problems.unknown_keys(path, entry, ("proportion", "at_least", "band", "name"))
    target = entry["proportion"]
    if not isinstance(target, str) or not (
        target in ("index", "overall") or target.startswith(("dimension:", "item:"))
    ):
        problems.add(f"{path}.proportion", _("expected index, overall, dimension:<id> or "
                                             "item:<id>; got %(got)r", got=target))
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


def _design(value: Any, problems: _Problems) -> Design:
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
                     ("method", "margins", "variables", "trim", "epsilon", "max_iter"), problems)
    method = _choice(value.get("method", "none"), "weighting.method", WEIGHTING_METHODS, problems)
    margins = _optional_text(value.get("margins"), "weighting.margins", problems)
    if method != "none" and margins is None and "margins" not in value:
        problems.add("weighting.margins", _("required for method %(method)s: the name of a "
                                            "margin set", method=method))
    if method == "none" and margins is not None:
        problems.add("weighting.margins", _("only used with method poststratify or rake"))
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
    return Weighting(method=method, margins=margins, variables=variables, trim_lower=lower,
                     trim_upper=upper, epsilon=float(epsilon or 1.0), max_iter=max_iter or 100)


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
    value = _mapping(value, "variance", ("method", "replicates", "seed"), problems)
    method = _choice(value.get("method", "taylor"), "variance.method", VARIANCE_METHODS, problems)
    replicates = seed = None
    if method == "bootstrap":
        replicates = _number(value.get("replicates", 200), "variance.replicates", problems,
                             low=2, high=10000, integer=True)
        seed = _number(value.get("seed", 1), "variance.seed", problems, low=0, integer=True)
    else:
        for key in ("replicates", "seed"):
            if value.get(key) is not None:
                problems.add(f"variance.{key}", _("only used with method bootstrap"))
    return Variance(method=method, replicates=replicates, seed=seed)


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
