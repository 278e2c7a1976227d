"""JSON and YAML readers for untrusted text, with limits on nesting and (YAML) size.

Python's json module and PyYAML's composer recurse once per level of nesting, so a body of
100,000 brackets ends in RecursionError, a 500 instead of a refusal. YAML aliases also let a
few hundred bytes stand for a billion nodes (each anchor repeating the one before), which the
questionnaire checker would then walk. Our documents are shallow (a spec or a questionnaire is
at most 6 levels deep, a few thousand nodes), so the limits below leave ample room.

Both readers fail the way their unbounded originals do: :func:`loads_json` raises a ValueError
(:class:`JSONTooDeep`), the YAML loader a ``yaml.MarkedYAMLError`` with the line and column,
so callers that already report bad JSON or YAML need no new branch.
"""
from __future__ import annotations

import json
import re
from typing import Any

import yaml
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from yaml.composer import ComposerError

# What no text can carry into the database or out through an encoder: PostgreSQL refuses NUL
# in text, and a lone surrogate (JSON's "\ud800", YAML's "\ud800") cannot be encoded as UTF-8.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_JSON_DEPTH = 32
MAX_YAML_DEPTH = 50
MAX_YAML_NODES = 200_000  # after expanding aliases; the shipped questionnaires have ~1,500


class JSONTooDeep(ValueError):
    """JSON nested deeper than ``limit``: refused before anything reads it."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(_("JSON nested more than %(limit)d levels deep", limit=limit))


def loads_json(text: str | bytes, max_depth: int = MAX_JSON_DEPTH, **kwargs: Any) -> Any:
    """``json.loads``, refusing documents nested more than ``max_depth`` levels."""
    try:
        document = json.loads(text, **kwargs)
    except RecursionError:
        raise JSONTooDeep(max_depth) from None
    if json_depth(document) > max_depth:
        raise JSONTooDeep(max_depth)
    return document


def json_depth(document: Any) -> int:
    """Levels of arrays and objects in a decoded document (a scalar is 0), without recursion."""
    deepest, pending = 0, [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth + 1)
        pending.extend((child, depth + 1) for child in value)
    return deepest


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with every request body parsed by :func:`loads_json`."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_json(s, **kwargs)


class BoundedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses documents too deep or too large once aliases expand.

    Every node composed counts once; an alias counts as many nodes as the anchored node it
    repeats, so a chain of anchors that doubles at each step is stopped early.
    """

    max_depth = MAX_YAML_DEPTH
    max_nodes = MAX_YAML_NODES

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._anchor_sizes: dict[str, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._count(self._anchor_sizes.get(event.anchor, 1), event)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > self.max_depth:
            raise ComposerError(None, None, _("nested more than %(limit)d levels deep",
                                              limit=self.max_depth), event.start_mark)
        before = self._nodes
        self._count(1, event)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if event.anchor is not None:
            self._anchor_sizes[event.anchor] = self._nodes - before
        return node

    def _count(self, nodes: int, event: yaml.Event) -> None:
        self._nodes += nodes
        if self._nodes > self.max_nodes:
            raise ComposerError(None, None, _("more than %(limit)d values once aliases are "
                                              "expanded", limit=self.max_nodes), event.start_mark)


def safe_load_yaml(text: str | bytes) -> Any:
    """``yaml.safe_load`` with :class:`BoundedSafeLoader`'s limits."""
    return yaml.load(text, Loader=BoundedSafeLoader)  # a SafeLoader subclass: no arbitrary objects
