"""A report's content (surveyapp.reports.model) as JSON, so that a worker's build can be shown by
every web host: the bureau page and its charts are drawn from the stored content, never rebuilt
inside a request.

JSON rather than pickle: the store may be a bucket that other services write to, and reading
it must not run code. Decoding follows the dataclasses' own type hints, so a new field needs
no change here; content that no longer fits the classes (stored by older code) is refused with
ValueError.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import types
import typing
from datetime import datetime
from typing import Any

from surveyapp.reports import latent_section, model, small_area
from surveyapp.reports.model import Report

# The names the report classes' annotations use (some import each other only for type checking).
_NAMES = {**vars(model), **vars(small_area), **vars(latent_section)}


def encode_report(report: Report) -> bytes:
    """The report as UTF-8 JSON: dataclasses as objects, times in ISO 8601, PNGs in base64."""
    return json.dumps(_plain(report), ensure_ascii=False, separators=(",", ":")).encode()


def decode_report(data: bytes) -> Report:
    """The report ``encode_report`` wrote; ValueError when the content does not fit."""
    try:
        return _typed(Report, json.loads(data))
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"stored report content does not fit the report model: {error!r}"
                         ) from error


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _typed(kind: Any, value: Any) -> Any:
    """``value`` (plain JSON) as an instance of the annotation ``kind``."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _typed(inner, value)
    if origin is tuple:
        return tuple(_typed(typing.get_args(kind)[0], item) for item in value)
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind, localns=_NAMES)
        return kind(**{f.name: _typed(hints[f.name], value[f.name])
                       for f in dataclasses.fields(kind)})
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is bytes:
        return base64.b64decode(value)
    return value  # str, int, float, bool and Literal values are JSON's own
