"""A questionnaire problem as an administrator reads it: places counted from 1, in words.

The validator's paths count list entries from 0, as YAML tools do (``items[3].scale``); the
upload page says ``items no. 4 › scale`` / ``items 第 4 项 › scale`` instead, in the page's
language. Places that are already words (an XLSForm cell, a YAML line) pass unchanged.
"""
from __future__ import annotations

import re

from flask_babel import gettext as _

from surveyapp.questionnaires import Problem

_ENTRY = re.compile(r"\[(\d+)\]")


def shown_place(path: str) -> str:
    """``items[3].scale`` -> ``items no. 4 › scale`` (``items 第 4 项 › scale`` in Chinese)."""
    return " › ".join(_ENTRY.sub(lambda m: " " + _("no. %(number)d", number=int(m[1]) + 1), key)
                      for key in path.split("."))


def shown_problem(problem: Problem) -> str:
    if not problem.path:
        return _("%(source)s: %(reason)s", source=problem.source, reason=problem.reason)
    return _("%(source)s: %(place)s: %(reason)s", source=problem.source,
             place=shown_place(problem.path), reason=problem.reason)
