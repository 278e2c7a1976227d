"""Text placed into generated R code: string literals, comments and names that stay inert.

A questionnaire title, a wave label or a file name is data; written into the R snippet as is,
a newline in a comment or a quote in a string would let it become code that runs when the
snippet is sourced. Everything variable goes through one of these functions.
"""
from __future__ import annotations

import re

# Characters R (or an editor) may take as the end of a line, and other control characters.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SYNTACTIC_NAME = re.compile(r"(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*|\.")
# R's reserved words (see ?Reserved): never valid as bare names.
R_RESERVED = frozenset({
    "if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE",
    "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "NA_complex_",
    "in",
})


def r_string(text: str) -> str:
    """``text`` as a double-quoted R string literal that evaluates back to ``text``.

    NUL cannot be in an R string and is dropped; other control characters become \\u escapes.
    """
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = _CONTROL.sub(lambda m: "" if m.group() == "\x00" else f"\\u{ord(m.group()):04x}",
                           escaped)
    return f'"{escaped}"'


def r_comment(text: str) -> str:
    """A one-line R comment holding ``text``: line breaks and control characters become spaces."""
    return "# " + _CONTROL.sub(" ", text)


def r_name(name: str) -> str:
    """A variable name usable in R code: bare when syntactic, else in backticks."""
    if _SYNTACTIC_NAME.fullmatch(name) and name not in R_RESERVED:
        return name
    inner = _CONTROL.sub("", name).replace("\\", "\\\\").replace("`", "\\`")
    return f"`{inner}`"
