"""The sheet and column names both directions of the XLSForm conversion share."""
from __future__ import annotations

import re

SURVEY, CHOICES, SETTINGS, BANDS = "survey", "choices", "settings", "bands"
LANGUAGE_NAMES = {"zh": "Chinese (zh)", "en": "English (en)"}
DEFAULT_LANGUAGE = LANGUAGE_NAMES["zh"]
INTRO = "intro"
COMMENT = "comment"
LENGTH_CONSTRAINT = "string-length(.) <= {}"
LENGTH_PATTERN = re.compile(r"\s*string-length\(\s*\.\s*\)\s*<=\s*(\d+)\s*")
# "label::Chinese (zh)", "label::zh", "label::English (en)": the language code in brackets or
# alone after the "::".
TRANSLATED = re.compile(r"(?P<column>[a-z_]+)::(?:[^()]*\((?P<code>[A-Za-z-]+)\)|(?P<bare>[A-Za-z-]+))\s*")


def label_column(lang: str, column: str = "label") -> str:
    return f"{column}::{LANGUAGE_NAMES[lang]}"

