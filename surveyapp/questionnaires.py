"""Questionnaires as data: load a YAML definition, validate all of it, freeze the result.

Questionnaires are written by survey staff, not programmers, and change every year. So loading
never stops at the first mistake and never shows a traceback: it collects every problem as
``<file>: <path>: <reason>`` (e.g. ``citizen.yaml: items[3].scale: unknown scale 'likert7'``)
and raises one :class:`QuestionnaireError`. The result is a tree of frozen dataclasses plus the
SHA-256 of the exact file bytes, which every response records, so a version that has been
answered can never change silently. The format is documented in questionnaires/README.md.
Geography (districts and streets) lives in :mod:`surveyapp.geography` and is re-exported here.
"""
from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import yaml
from flask_babel import gettext as _
from flask_babel import ngettext

from surveyapp.bounded_parsers import UNSTORABLE, BoundedSafeLoader

if TYPE_CHECKING:
    from analysis.scoring import ScoringSpec

SCHEMA_VERSION = 1
LANGUAGES = ("zh", "en")
DEMOGRAPHIC_IDS = ("sex", "age_group", "district", "street", "residence_years")
DEMOGRAPHIC_KINDS = ("choice", "district", "street")
# Columns of surveyapp.queries.responses_frame that an item id must not shadow.
RESERVED_IDS = frozenset(DEMOGRAPHIC_IDS) | {
    "response_id", "wave", "language", "channel", "submitted_at", "duration_seconds",
    "comment", "index", "overall",
}
_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
_CHOICE_VALUE = re.compile(r"[a-z0-9][a-z0-9_+\-]{0,39}")


@dataclass(frozen=True)
class Problem:
    """One problem: the file, where in it (a path such as ``items[3].scale``; may be empty)
    and why. Kept structured so a page can show the place in words and a converter (XLSForm)
    can map the path back to its own cells."""

    source: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.path}: {self.reason}" if self.path else \
            f"{self.source}: {self.reason}"


class QuestionnaireError(ValueError):
    """Every problem found in one or more files, each as ``file: path: reason``."""

    def __init__(self, problems: Iterable[str | Problem]):
        problems = list(problems)
        self.details = [p if isinstance(p, Problem) else Problem("", "", p) for p in problems]
        self.problems = [str(problem) for problem in problems]
        super().__init__("\n".join(self.problems))


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Text:
    """A text in both languages of the service."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """The English text for 'en' (or an 'en_*' locale), else Chinese, the default."""
        return self.en if str(lang).lower().startswith("en") else self.zh


@dataclass(frozen=True)
class ScalePoint:
    value: int
    label: Text


@dataclass(frozen=True)
class Scale:
    """Ordered answer points; ``dont_know`` is an extra answer outside ``low..high``."""

    id: str
    points: tuple[ScalePoint, ...]
    dont_know: ScalePoint | None = None

    @property
    def low(self) -> int:
        return self.points[0].value

    @property
    def high(self) -> int:
        return self.points[-1].value

    @property
    def values(self) -> tuple[int, ...]:
        """The rated values, lowest first (without the don't-know value)."""
        return tuple(point.value for point in self.points)

    @property
    def answer_values(self) -> tuple[int, ...]:
        """Every value a stored answer may hold: the rated values plus don't-know."""
        extra = (self.dont_know.value,) if self.dont_know else ()
        return self.values + extra


@dataclass(frozen=True)
class Dimension:
    id: str
    name: Text
    weight: float = 1.0


@dataclass(frozen=True)
class Item:
    """A rated question; ``dimension`` is None only for the overall-satisfaction item."""

    id: str
    text: Text
    scale: str
    dimension: str | None
    required: bool = True
    reverse: bool = False


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text


@dataclass(frozen=True)
class Demographic:
    """A weighting question; 'district'/'street' kinds take their choices from the geography."""

    id: str
    text: Text
    kind: str
    choices: tuple[Choice, ...] = ()
    required: bool = True


@dataclass(frozen=True)
class Comment:
    text: Text
    max_length: int


@dataclass(frozen=True)
class Band:
    """A satisfaction level covering scores ``lower <= s < upper`` (the top band includes 100)."""

    lower: float
    upper: float
    label: Text

    def contains(self, score: float) -> bool:
        return self.lower <= score < self.upper or score == self.upper == 100


# The band table of a questionnaire that declares none (questionnaires/README.md, "bands"): the
# city's cut-offs of 2017-2024, which every shipped questionnaire states explicitly too.
DEFAULT_BANDS = (
    Band(90.0, 100.0, Text("满意", "Satisfied")),
    Band(80.0, 90.0, Text("比较满意", "Fairly satisfied")),
    Band(60.0, 80.0, Text("一般", "Neutral")),
    Band(40.0, 60.0, Text("不太满意", "Fairly dissatisfied")),
    Band(0.0, 40.0, Text("不满意", "Dissatisfied")),
)


@dataclass(frozen=True)
class Questionnaire:
    schema_version: int
    id: str
    version: str
    title: Text
    intro: Text
    scales: Mapping[str, Scale]
    dimensions: tuple[Dimension, ...]
    items: tuple[Item, ...]
    overall_item: str
    demographics: tuple[Demographic, ...]
    comment: Comment | None
    bands: tuple[Band, ...]
    content_hash: str
    source_name: str

    def item(self, item_id: str) -> Item:
        """The item with this id; KeyError if the questionnaire has none (a programming error)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"questionnaire {self.id!r} has no item {item_id!r}")

    def scale_of(self, item_id: str) -> Scale:
        return self.scales[self.item(item_id).scale]

    def dimension(self, dimension_id: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise KeyError(f"questionnaire {self.id!r} has no dimension {dimension_id!r}")

    def items_in(self, dimension_id: str) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.dimension == dimension_id)

    def demographic(self, demographic_id: str) -> Demographic | None:
        return next((d for d in self.demographics if d.id == demographic_id), None)

    def band_for(self, score: float | None) -> Band | None:
        """The band a 0-100 score falls in; None for a missing (NaN) or out-of-range score."""
        if score is None or math.isnan(score):
            return None
        return next((band for band in self.bands if band.contains(score)), None)

    def to_scoring_spec(self) -> ScoringSpec:
        """The scoring rules of analysis.scoring: ranges, reverse coding, don't-know codes."""
        from analysis.scoring import DimensionRule, ItemRule, ScoringSpec

        items = []
        for item in self.items:
            scale = self.scales[item.scale]
            missing = (scale.dont_know.value,) if scale.dont_know else ()
            items.append(ItemRule(id=item.id, low=scale.low, high=scale.high,
                                  dimension=item.dimension, reverse=item.reverse,
                                  missing_values=missing))
        dimensions = tuple(DimensionRule(id=d.id, weight=d.weight) for d in self.dimensions)
        return ScoringSpec(items=tuple(items), dimensions=dimensions,
                           overall_item=self.overall_item)


# --------------------------------------------------------------------------- reading YAML


class _ReportsDuplicateKeys:
    """A loader's constructor that reports duplicate mapping keys instead of keeping the last."""

    duplicates: list[tuple[int, str]]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                self.duplicates.append((key_node.start_mark.line + 1, key))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _StrictLoader(_ReportsDuplicateKeys, BoundedSafeLoader):
    """SafeLoader (depth and size bounded) that reports duplicate mapping keys: for text that
    arrives from outside (uploads, files)."""


# Text already stored was read by _StrictLoader before it was stored (its depth and size are
# within bounds): it is parsed again by libyaml's parser, the same document about 6x faster
# (the citizen questionnaire: 0.04 -> 0.007 s, once in every estimate, export or report process).
_StoredLoader = (type("_StoredLoader", (_ReportsDuplicateKeys, yaml.CSafeLoader), {})
                 if getattr(yaml, "__with_libyaml__", False) else _StrictLoader)


class _Missing:
    """Stands for a required key that is absent (already reported), so readers stay quiet."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def _quiet_if_missing(read: Callable[..., Any]) -> Callable[..., Any]:
    def reader(self: Checker, value: Any, *args: Any, **kwargs: Any) -> Any:
        return None if value is MISSING else read(self, value, *args, **kwargs)

    reader.__doc__ = read.__doc__
    return reader


def _type_name(value: object) -> str:
    names = {dict: _("a mapping"), list: _("a list"), str: _("a string"), bool: _("true/false"),
             int: _("an integer"), float: _("a number"), type(None): _("nothing (null)")}
    return names.get(type(value), type(value).__name__)


class Checker:
    """Collects problems as ``source: path: reason`` while reading one parsed YAML document.

    Each ``read_*`` method returns the checked value, or None after recording why it is bad,
    so callers skip only the checks that depend on a bad value and keep looking for others.
    ``read_mapping`` fills absent required keys with MISSING, which every reader passes over
    silently: the absence is reported once, as "missing (required)".
    """

    def __init__(self, source_name: str):
        self.source = source_name
        self.details: list[Problem] = []
        # (what, name) -> (index in details, uses) of an unknown scale/dimension: one line
        # per name however many items use it (one root cause, one line).
        self.unknown_references: dict[tuple[str, str], tuple[int, int]] = {}

    @property
    def problems(self) -> list[str]:
        return [str(problem) for problem in self.details]

    def problem(self, path: str, reason: str) -> None:
        self.details.append(Problem(self.source, path, reason))

    def unknown_reference(self, path: str, what: str, name: str) -> None:
        """Report an unknown name at its first use; later uses only raise its count."""
        reason = (_("unknown scale '%(name)s'", name=name) if what == "scale" else
                  _("unknown dimension '%(name)s'", name=name))
        if (what, name) not in self.unknown_references:
            self.unknown_references[what, name] = (len(self.details), 1)
            self.problem(path, reason)
            return
        index, uses = self.unknown_references[what, name]
        self.unknown_references[what, name] = (index, uses + 1)
        first = self.details[index]
        self.details[index] = Problem(first.source, first.path, reason + _(
            " (and %(count)d more uses)", count=uses))

    def load_yaml(self, data: bytes, stored: bool = False) -> Any:
        """Parse UTF-8 YAML; syntax errors and duplicate keys are reported with their line.
        ``stored``: text that was read this way before it was stored (see _StoredLoader)."""
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.problem("", _("not UTF-8 text (bad byte at offset %(offset)d)", offset=exc.start))
            return None
        loader = (_StoredLoader if stored else _StrictLoader)(text)
        loader.duplicates = []
        try:
            document = loader.get_single_data()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = _("line %(line)d, column %(column)d", line=mark.line + 1,
                      column=mark.column + 1) if mark else ""
            self.problem(where, _("invalid YAML: %(reason)s", reason=exc.problem or exc.context))
            return None
        except yaml.YAMLError as exc:
            self.problem("", _("invalid YAML: %(reason)s", reason=exc))
            return None
        finally:
            loader.dispose()
        for line, key in loader.duplicates:
            self.problem(_("line %(line)d", line=line), _("duplicate key '%(key)s'", key=key))
        return document

    @_quiet_if_missing
    def read_mapping(self, value: Any, path: str, required: Iterable[str],
                     optional: Iterable[str] = ()) -> dict[str, Any] | None:
        """A mapping with exactly the allowed keys; reports unknown and missing keys."""
        if not isinstance(value, dict):
            self.problem(path or _("(top level)"), _("expected a mapping, got %(got)s",
                                                     got=_type_name(value)))
            return None
        required, optional = tuple(required), tuple(optional)
        allowed = required + optional
        for key in value:
            if key not in allowed:
                self.problem(join(path, str(key)), _("unknown key (expected one of: %(keys)s)",
                                                     keys=", ".join(allowed)))
        for key in required:
            if key not in value:
                self.problem(join(path, key), _("missing (required)"))
        return {key: MISSING for key in required} | value

    @_quiet_if_missing
    def read_list(self, value: Any, path: str, min_length: int = 1) -> list[Any] | None:
        if not isinstance(value, list):
            self.problem(path, _("expected a list, got %(got)s", got=_type_name(value)))
            return None
        if len(value) < min_length:
            self.problem(path, ngettext("expected at least %(num)d entry, got %(got)d",
                                        "expected at least %(num)d entries, got %(got)d",
                                        min_length, got=len(value)))
            return None
        return value

    @_quiet_if_missing
    def read_string(self, value: Any, path: str, pattern: re.Pattern[str] | None = None,
                    expected: str = "") -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.problem(path, _("expected a non-empty string, got %(got)s", got=_type_name(value)))
            return None
        if UNSTORABLE.search(value):  # YAML's "\0" and "\ud800" escapes make them
            self.problem(path, _("contains a NUL character or a lone surrogate, which no text "
                                 "can hold; remove it"))
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.problem(path, _("'%(value)s' is not %(expected)s", value=value, expected=expected))
            return None
        return value

    def read_id(self, value: Any, path: str) -> str | None:
        return self.read_string(value, path, _ID, _(
            "a valid id (lower-case letter, then a-z, 0-9 or _; at most 40)"))

    @_quiet_if_missing
    def read_int(self, value: Any, path: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(path, _("expected an integer, got %(got)s", got=_type_name(value)))
            return None
        return value

    @_quiet_if_missing
    def read_number(self, value: Any, path: str) -> float | None:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            got = value if isinstance(value, float) else _type_name(value)
            self.problem(path, _("expected a finite number, got %(got)s", got=got))
            return None
        return float(value)

    @_quiet_if_missing
    def read_bool(self, value: Any, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.problem(path, _("expected true or false, got %(got)s", got=_type_name(value)))
            return None
        return value

    @_quiet_if_missing
    def read_text(self, value: Any, path: str) -> Text | None:
        """A ``{zh: ..., en: ...}`` mapping; both languages are required."""
        if not isinstance(value, dict):
            self.problem(path, _("expected a text in both languages, {zh: ..., en: ...}, "
                                 "got %(got)s", got=_type_name(value)))
            return None
        mapping = self.read_mapping(value, path, LANGUAGES)
        if mapping is None:
            return None
        texts = [self.read_string(mapping[lang], join(path, lang)) for lang in LANGUAGES]
        if None in texts:
            return None
        return Text(zh=texts[0].strip(), en=texts[1].strip())

    def read_entries(self, value: Any, path: str, read_one: Callable[[Any, str], Any],
                     key: Callable[[Any], str], what: str,
                     min_length: int = 1) -> dict[int, Any]:
        """The valid entries of a list by their position, so later checks can name them.

        An entry whose key (id or code) repeats an earlier one is reported and left out.
        """
        entries = self.read_list(value, path, min_length)
        result: dict[int, Any] = {}
        first_seen: dict[str, int] = {}
        for index, raw in enumerate(entries or ()):
            entry_path = f"{path}[{index}]"
            entry = read_one(raw, entry_path)
            if entry is None:
                continue
            entry_key = key(entry)
            if entry_key in first_seen:
                self.problem(entry_path, _("duplicate %(what)s '%(key)s' (already used by "
                                           "%(path)s[%(index)d])", what=what, key=entry_key,
                                           path=path, index=first_seen[entry_key]))
                continue
            first_seen[entry_key] = index
            result[index] = entry
        return result

    def read_schema_version(self, document: dict[str, Any]) -> bool:
        """False when the file declares a schema this code cannot read (nothing else is checked)."""
        if "schema_version" not in document:
            return True
        version = self.read_int(document["schema_version"], "schema_version")
        if version is not None and version != SCHEMA_VERSION:
            self.problem("schema_version", _("unsupported version %(version)d (this surveyapp "
                                             "reads version %(supported)d)", version=version,
                                             supported=SCHEMA_VERSION))
            return False
        return True

    def fail_if_problems(self) -> None:
        if self.details:
            raise QuestionnaireError(self.details)


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def content_hash(data: bytes) -> str:
    """SHA-256 hex of the exact file bytes: the identity of the version a response answered."""
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- questionnaire


_TOP_REQUIRED = ("schema_version", "id", "version", "title", "intro", "scales", "dimensions",
                 "items", "overall_item", "demographics")
_TOP_OPTIONAL = ("comment", "bands")


def read_source(path: str | Path) -> tuple[bytes, str]:
    """A data file's bytes and name; an unreadable file is a QuestionnaireError, not a traceback."""
    path = Path(path)
    try:
        return path.read_bytes(), path.name
    except OSError as exc:
        raise QuestionnaireError([f"{path.name}: cannot read file ({exc.strerror})"]) from None


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Load and validate one questionnaire file; QuestionnaireError lists every problem."""
    return _parse(*read_source(path))


def parse_questionnaire(text: str, source_name: str, *, stored: bool = False) -> Questionnaire:
    """Validate questionnaire YAML given as text (hashed as its UTF-8 bytes); ``stored``: a
    stored version's text, parsed as it was before it was stored (only faster)."""
    return _parse(text.encode("utf-8"), source_name, stored)


def load_questionnaires(directory: str | Path) -> list[Questionnaire]:
    """Every ``*.yaml`` questionnaire directly in ``directory``, by file name.

    Problems of all files are reported together; two files may not share a questionnaire id
    and version.
    """
    problems: list[str] = []
    loaded: list[Questionnaire] = []
    seen: dict[tuple[str, str], str] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            questionnaire = load_questionnaire(path)
        except QuestionnaireError as exc:
            problems.extend(exc.problems)
            continue
        key = (questionnaire.id, questionnaire.version)
        if key in seen:
            problems.append(f"{path.name}: id: " + _(
                "questionnaire '%(id)s' version '%(version)s' is also defined in %(file)s",
                id=key[0], version=key[1], file=seen[key]))
            continue
        seen[key] = path.name
        loaded.append(questionnaire)
    if problems:
        raise QuestionnaireError(problems)
    return loaded


def _parse(data: bytes, source_name: str, stored: bool = False) -> Questionnaire:
    check = Checker(source_name)
    document = check.load_yaml(data, stored)
    check.fail_if_problems()
    top = check.read_mapping(document, "", _TOP_REQUIRED, _TOP_OPTIONAL)
    if top is None or not check.read_schema_version(top):
        check.fail_if_problems()
    fields = _read_fields(check, top)
    check.fail_if_problems()
    return Questionnaire(schema_version=SCHEMA_VERSION, content_hash=content_hash(data),
                         source_name=source_name, **fields)


def _read_fields(check: Checker, top: dict[str, Any]) -> dict[str, Any]:
    """Read every part, each even when others are bad, so all problems surface at once."""
    header = {
        "id": check.read_id(top.get("id"), "id"),
        "version": _read_version(check, top.get("version")),
        "title": check.read_text(top.get("title"), "title"),
        "intro": check.read_text(top.get("intro"), "intro"),
    }
    scales = check.read_entries(top.get("scales"), "scales", lambda v, p: _read_scale(check, v, p),
                                key=lambda s: s.id, what=_("scale id"))
    dimensions = check.read_entries(top.get("dimensions"), "dimensions",
                                    lambda v, p: _read_dimension(check, v, p),
                                    key=lambda d: d.id, what=_("dimension id"))
    references = _References(
        scales={scale.id: scale for scale in scales.values()},
        dimensions={dimension.id for dimension in dimensions.values()},
        declared_scales=_declared_ids(top.get("scales")),
        declared_dimensions=_declared_ids(top.get("dimensions")),
    )
    items = check.read_entries(top.get("items"), "items",
                               lambda v, p: _read_item(check, v, p, references),
                               key=lambda i: i.id, what=_("item id"))
    overall = _read_overall_item(check, top, items)
    _check_dimensions_used(check, top.get("items"), dimensions)
    return header | {
        "scales": MappingProxyType(references.scales),
        "dimensions": tuple(dimensions.values()),
        "items": tuple(items.values()),
        "overall_item": overall,
        "demographics": _read_demographics(check, top.get("demographics")),
        "comment": _read_comment(check, top["comment"]) if top.get("comment") is not None
        else None,
        "bands": _read_bands(check, top["bands"]) if top.get("bands") is not None
        else DEFAULT_BANDS,
    }


@dataclass(frozen=True)
class _References:
    """What items may refer to: valid scales and dimensions, and every id declared at all.

    A reference to a declared but invalid entry is not reported again: the entry's own problem
    already explains it.
    """

    scales: dict[str, Scale]
    dimensions: set[str]
    declared_scales: set[Any]
    declared_dimensions: set[Any]


def _declared_ids(value: Any) -> set[Any]:
    entries = value if isinstance(value, list) else []
    return {entry.get("id") for entry in entries if isinstance(entry, dict)
            and isinstance(entry.get("id"), str)}


def _read_version(check: Checker, value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        check.problem("version", _("write the version as a quoted string (e.g. '%(value)s'), "
                                   "a bare number loses trailing zeros", value=value))
        return None
    return check.read_string(value, "version")


def _read_scale(check: Checker, value: Any, path: str) -> Scale | None:
    scale = check.read_mapping(value, path, ("id", "points"), ("dont_know",))
    if scale is None:
        return None
    scale_id = check.read_id(scale.get("id"), join(path, "id"))
    points = [_read_point(check, raw, f"{path}.points[{i}]")
              for i, raw in enumerate(check.read_list(scale.get("points"), join(path, "points"),
                                                      min_length=2) or ())]
    dont_know = (_read_point(check, scale["dont_know"], join(path, "dont_know"))
                 if scale.get("dont_know") is not None else None)
    if scale_id is None or len(points) < 2 or None in points:
        return None
    values = [point.value for point in points]
    if values != list(range(values[0], values[0] + len(values))):
        check.problem(join(path, "points"), _("point values must be consecutive integers, "
                                              "lowest first (got %(values)s)", values=values))
        return None
    if dont_know is not None and values[0] <= dont_know.value <= values[-1]:
        check.problem(join(path, "dont_know.value"),
                      _("%(value)d lies inside the scale's range %(low)d-%(high)d; the "
                        "don't-know value must be outside it (e.g. 0 or 99)",
                        value=dont_know.value, low=values[0], high=values[-1]))
        return None
    return Scale(id=scale_id, points=tuple(points), dont_know=dont_know)


def _read_point(check: Checker, value: Any, path: str) -> ScalePoint | None:
    point = check.read_mapping(value, path, ("value", "label"))
    if point is None:
        return None
    number = check.read_int(point.get("value"), join(path, "value"))
    label = check.read_text(point.get("label"), join(path, "label"))
    return ScalePoint(number, label) if number is not None and label is not None else None


def _read_dimension(check: Checker, value: Any, path: str) -> Dimension | None:
    dimension = check.read_mapping(value, path, ("id", "name"), ("weight",))
    if dimension is None:
        return None
    dimension_id = check.read_id(dimension.get("id"), join(path, "id"))
    name = check.read_text(dimension.get("name"), join(path, "name"))
    weight = check.read_number(dimension.get("weight", 1.0), join(path, "weight"))
    if weight is not None and weight <= 0:
        check.problem(join(path, "weight"), _("must be a positive number, got %(got)s",
                                                   got=f"{weight:g}"))
        weight = None
    if dimension_id is None or name is None or weight is None:
        return None
    return Dimension(id=dimension_id, name=name, weight=weight)


def _read_item(check: Checker, value: Any, path: str, refs: _References) -> Item | None:
    item = check.read_mapping(value, path, ("id", "text", "scale"),
                              ("dimension", "required", "reverse"))
    if item is None:
        return None
    item_id = check.read_id(item.get("id"), join(path, "id"))
    if item_id in RESERVED_IDS:
        check.problem(join(path, "id"), _("'%(id)s' is reserved for a response field",
                                               id=item_id))
        item_id = None
    text = check.read_text(item.get("text"), join(path, "text"))
    scale = _read_reference(check, item, "scale", path, refs.scales, refs.declared_scales)
    dimension = _read_reference(check, item, "dimension", path, refs.dimensions,
                                refs.declared_dimensions)
    required = check.read_bool(item.get("required", True), join(path, "required"))
    reverse = check.read_bool(item.get("reverse", False), join(path, "reverse"))
    if None in (item_id, text, scale, required, reverse) or dimension is _INVALID:
        return None
    return Item(id=item_id, text=text, scale=scale, dimension=dimension, required=required,
                reverse=reverse)


_INVALID = object()


def _loose(name: str) -> str:
    return name.strip().casefold()


def _read_reference(check: Checker, entry: dict[str, Any], key: str, path: str,
                    valid: Iterable[str], declared: set[Any]) -> Any:
    """The id an item refers to; None if absent, _INVALID (after reporting) if unusable."""
    value = entry.get(key)
    if value is None:
        return None if key == "dimension" else _INVALID
    name = check.read_string(value, join(path, key))
    if name is None:
        return _INVALID
    if name not in valid:
        # An entry declared with a bad id (reported already) explains the reference too,
        # also when only letter case or spaces differ ('Sat10' declared, 'sat10' used).
        if _loose(name) not in {_loose(d) for d in declared}:
            check.unknown_reference(join(path, key), key, name)
        return _INVALID
    return name


def _read_overall_item(check: Checker, top: dict[str, Any], items: dict[int, Item]) -> str | None:
    """The overall item must be an item without a dimension, and the only such item."""
    if top.get("overall_item") is None or not isinstance(top.get("items"), list):
        return None
    overall = check.read_string(top["overall_item"], "overall_item")
    items_by_id = {item.id: item for item in items.values()}
    if overall in items_by_id and items_by_id[overall].dimension is not None:
        check.problem("overall_item", _("item '%(id)s' must have no dimension (the overall "
                                        "item is scored on its own)", id=overall))
        return None
    if overall is not None and overall not in _declared_ids(top["items"]):
        check.problem("overall_item", _("unknown item '%(id)s'", id=overall))
        return None
    for index, item in items.items():
        if overall is not None and item.dimension is None and item.id != overall:
            check.problem(f"items[{index}].dimension", _(
                "missing; only the overall item (overall_item) may have no dimension"))
    return overall


def _check_dimensions_used(check: Checker, raw_items: Any,
                           dimensions: dict[int, Dimension]) -> None:
    """A dimension without items would have no score; items that fail validation still count."""
    if not isinstance(raw_items, list):
        return
    used = {entry.get("dimension") for entry in raw_items if isinstance(entry, dict)}
    for index, dimension in dimensions.items():
        if dimension.id not in used:
            check.problem(f"dimensions[{index}]", _("no item belongs to dimension '%(id)s'",
                                                     id=dimension.id))


def _read_demographics(check: Checker, value: Any) -> tuple[Demographic, ...]:
    demographics = check.read_entries(value, "demographics",
                                      lambda v, p: _read_demographic(check, v, p),
                                      key=lambda d: d.id, what=_("demographic id"))
    ids = _declared_ids(value)
    if "street" in ids and "district" not in ids:
        check.problem("demographics", _("a 'street' question needs a 'district' question too"))
    return tuple(demographics.values())


def _read_demographic(check: Checker, value: Any, path: str) -> Demographic | None:
    entry = check.read_mapping(value, path, ("id", "text", "kind"), ("choices", "required"))
    if entry is None:
        return None
    demographic_id = check.read_string(entry.get("id"), join(path, "id"))
    if demographic_id is not None and demographic_id not in DEMOGRAPHIC_IDS:
        check.problem(join(path, "id"), _("unknown demographic '%(id)s' (expected one of: "
                                          "%(ids)s)", id=demographic_id,
                                          ids=", ".join(DEMOGRAPHIC_IDS)))
        demographic_id = None
    text = check.read_text(entry.get("text"), join(path, "text"))
    kind = _read_kind(check, entry.get("kind"), join(path, "kind"), demographic_id)
    choices = _read_choices(check, entry.get("choices"), join(path, "choices"), kind)
    required = check.read_bool(entry.get("required", True), join(path, "required"))
    if None in (demographic_id, text, kind, choices, required):
        return None
    return Demographic(id=demographic_id, text=text, kind=kind, choices=choices,
                       required=required)


def _read_kind(check: Checker, value: Any, path: str, demographic_id: str | None) -> str | None:
    kind = check.read_string(value, path)
    if kind is not None and kind not in DEMOGRAPHIC_KINDS:
        check.problem(path, _("unknown kind '%(kind)s' (expected one of: %(kinds)s)",
                              kind=kind, kinds=", ".join(DEMOGRAPHIC_KINDS)))
        return None
    expected = demographic_id if demographic_id in ("district", "street") else "choice"
    if kind is not None and demographic_id is not None and kind != expected:
        check.problem(path, _("the '%(id)s' question must have kind '%(kind)s'",
                              id=demographic_id, kind=expected))
        return None
    return kind


def _read_choices(check: Checker, value: Any, path: str,
                  kind: str | None) -> tuple[Choice, ...] | None:
    if kind in ("district", "street"):
        if value is not None:
            check.problem(path, _("not allowed for kind '%(kind)s' (the choices come from "
                                  "the geography file)", kind=kind))
            return None
        return ()
    if value is None:
        if kind == "choice":
            check.problem(path, _("missing (required for kind 'choice')"))
        return None
    choices = check.read_entries(value, path, lambda v, p: _read_choice(check, v, p),
                                 key=lambda c: c.value, what=_("choice value"), min_length=2)
    return tuple(choices.values())


def _read_choice(check: Checker, value: Any, path: str) -> Choice | None:
    choice = check.read_mapping(value, path, ("value", "label"))
    if choice is None:
        return None
    code = check.read_string(choice.get("value"), join(path, "value"), _CHOICE_VALUE,
                             _("a valid code (a-z or 0-9 first, then a-z, 0-9, _, + or -)"))
    label = check.read_text(choice.get("label"), join(path, "label"))
    return Choice(code, label) if code is not None and label is not None else None


def _read_comment(check: Checker, value: Any) -> Comment | None:
    comment = check.read_mapping(value, "comment", ("text", "max_length"))
    if comment is None:
        return None
    text = check.read_text(comment.get("text"), "comment.text")
    max_length = check.read_int(comment.get("max_length"), "comment.max_length")
    if max_length is not None and max_length <= 0:
        check.problem("comment.max_length", _("must be a positive integer, got %(got)d",
                                               got=max_length))
        return None
    return Comment(text, max_length) if text is not None and max_length is not None else None


def _read_bands(check: Checker, value: Any) -> tuple[Band, ...]:
    """The questionnaire's band table, best band first whatever order the file gives."""
    bands = [_read_band(check, raw, f"bands[{i}]")
             for i, raw in enumerate(check.read_list(value, "bands") or ())]
    valid = sorted((band for band in bands if band is not None), key=lambda band: band.lower)
    if valid and len(valid) == len(bands):
        _check_band_coverage(check, valid)
    _check_band_labels(check, bands)
    return tuple(reversed(valid))


def _check_band_labels(check: Checker, bands: list[Band | None]) -> None:
    """Two bands with one label would print the same word for different scores (and a
    ``band:`` outcome of an estimate spec could not say which it means)."""
    for lang in LANGUAGES:
        first_seen: dict[str, int] = {}
        for index, band in enumerate(bands):
            if band is None:
                continue
            text = _loose(getattr(band.label, lang))
            if text in first_seen:
                check.problem(f"bands[{index}].label.{lang}", _(
                    "the label '%(label)s' is already used by bands[%(index)d]; each band "
                    "needs its own label", label=getattr(band.label, lang),
                    index=first_seen[text]))
            else:
                first_seen[text] = index


def _read_band(check: Checker, value: Any, path: str) -> Band | None:
    band = check.read_mapping(value, path, ("lower", "upper", "label"))
    if band is None:
        return None
    lower = check.read_number(band.get("lower"), join(path, "lower"))
    upper = check.read_number(band.get("upper"), join(path, "upper"))
    label = check.read_text(band.get("label"), join(path, "label"))
    if lower is None or upper is None or label is None:
        return None
    if not (0 <= lower < upper <= 100):
        check.problem(path, _("%(range)s is not a range within 0-100 (need 0 <= lower < "
                              "upper <= 100)", range=f"{lower:g}-{upper:g}"))
        return None
    return Band(lower, upper, label)


def _check_band_coverage(check: Checker, bands: list[Band]) -> None:
    """Sorted bands must tile 0-100 exactly so that every score has exactly one band."""
    edges = [(0.0, bands[0].lower)]
    edges += [(left.upper, right.lower) for left, right in itertools.pairwise(bands)]
    edges.append((bands[-1].upper, 100.0))
    for end, start in edges:
        if start > end:
            check.problem("bands", _("no band covers %(range)s", range=f"{end:g}-{start:g}"))
        elif start < end:
            check.problem("bands", _("bands overlap on %(range)s", range=f"{start:g}-{end:g}"))


_GEOGRAPHY_NAMES = frozenset({"District", "Geography", "Street", "load_geography",
                              "parse_geography"})


def __getattr__(name: str) -> Any:
    """Re-export the geography API lazily, so callers import everything from this module and
    surveyapp.geography (which builds on this module) can be imported first without a cycle."""
    if name in _GEOGRAPHY_NAMES:
        from surveyapp import geography

        return getattr(geography, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
