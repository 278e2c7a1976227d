"""Geography as data: the districts and streets/towns a survey covers, loaded from YAML.

Another city ships its own file; nothing in the code names Shanghai. District codes are GB/T
2260 county codes (6 digits); a street code is its district's code plus a 3-digit serial, so a
street can never be filed under the wrong district. Validation works like questionnaires:
every problem at once, as ``file: path: reason``. Street codes are unique city-wide because
each begins with its (unique) district code. Callers import these names from
:mod:`surveyapp.questionnaires`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from surveyapp.questionnaires import (
    Checker,
    Text,
    content_hash,
    join,
    read_source,
)

_DISTRICT_CODE = re.compile(r"\d{6}")


@dataclass(frozen=True)
class Street:
    """A street (街道), town (镇) or township (乡): the unit below a district."""

    code: str
    name: Text
    district_code: str


@dataclass(frozen=True)
class District:
    code: str
    name: Text
    streets: tuple[Street, ...]


@dataclass(frozen=True)
class Geography:
    """All districts of one city; lookups return None for codes that arrive from outside."""

    districts: tuple[District, ...]
    id: str = ""
    name: Text | None = None
    content_hash: str = ""
    source_name: str = ""
    _districts: dict[str, District] = field(init=False, repr=False, compare=False)
    _streets: dict[str, Street] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_districts", {d.code: d for d in self.districts})
        object.__setattr__(self, "_streets",
                           {s.code: s for d in self.districts for s in d.streets})

    def district(self, code: str) -> District | None:
        return self._districts.get(code)

    def street(self, code: str) -> Street | None:
        return self._streets.get(code)


def load_geography(path: str | Path) -> Geography:
    """Load and validate a geography file; QuestionnaireError lists every problem."""
    return _parse(*read_source(path))


def parse_geography(text: str, source_name: str) -> Geography:
    """Validate geography YAML given as text."""
    return _parse(text.encode("utf-8"), source_name)


def _parse(data: bytes, source_name: str) -> Geography:
    check = Checker(source_name)
    document = check.load_yaml(data)
    check.fail_if_problems()
    top = check.read_mapping(document, "", ("schema_version", "id", "name", "districts"))
    if top is None or not check.read_schema_version(top):
        check.fail_if_problems()
    geography_id = check.read_id(top.get("id"), "id")
    name = check.read_text(top.get("name"), "name")
    districts = check.read_entries(top.get("districts"), "districts",
                                   lambda v, p: _read_district(check, v, p),
                                   key=lambda d: d.code, what="district code")
    check.fail_if_problems()
    return Geography(districts=tuple(districts.values()), id=geography_id, name=name,
                     content_hash=content_hash(data), source_name=source_name)


def _read_district(check: Checker, value: Any, path: str) -> District | None:
    entry = check.read_mapping(value, path, ("code", "name", "streets"))
    if entry is None:
        return None
    code = check.read_string(entry.get("code"), join(path, "code"), _DISTRICT_CODE,
                             'a 6-digit GB/T 2260 code written as a quoted string, e.g. "310109"')
    name = check.read_text(entry.get("name"), join(path, "name"))
    streets = check.read_entries(entry.get("streets"), join(path, "streets"),
                                 lambda v, p: _read_street(check, v, p, code),
                                 key=lambda s: s.code, what="street code")
    if code is None or name is None or not streets:
        return None
    return District(code=code, name=name, streets=tuple(streets.values()))


def _read_street(check: Checker, value: Any, path: str, district_code: str | None) -> Street | None:
    entry = check.read_mapping(value, path, ("code", "name"))
    if entry is None:
        return None
    code = check.read_string(entry.get("code"), join(path, "code"))
    if code is not None and district_code is not None and not (
            code.startswith(district_code) and re.fullmatch(r"\d{3}", code[len(district_code):])):
        check.problem(join(path, "code"), _(
            "'%(code)s' does not belong to district %(district)s (expected %(district)s "
            "followed by 3 digits, as a quoted string)", code=code, district=district_code))
        code = None
    name = check.read_text(entry.get("name"), join(path, "name"))
    if code is None or name is None:
        return None
    return Street(code=code, name=name, district_code=district_code)


__all__ = ["District", "Geography", "Street", "load_geography", "parse_geography"]
