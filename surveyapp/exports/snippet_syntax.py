"""Text placed into generated R, Stata and SPSS code: literals, comments and names that stay
inert.

A questionnaire title, a wave label or a file name is data; written into a snippet as is, a
newline in a comment or a quote in a string would let it become code that runs when the
snippet is run. Everything variable goes through one of these functions.
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


def stata_comment(text: str) -> str:
    """A one-line Stata ``*`` comment: no line break, and no ``/*``, ``*/`` or ``//`` that would
    open a block comment or continue the comment onto the next (command) line."""
    flat = _CONTROL.sub(" ", text)
    return "* " + re.sub(r"/\*|\*/|//", lambda m: " ".join(m.group()), flat)


def stata_string(text: str) -> str:
    """A Stata compound-quoted string (`"..."') that no macro expands: `$` and backticks are
    escaped with a backslash, and double quotes are dropped (a `"'` would close it early)."""
    flat = _CONTROL.sub("", text).replace('"', "")
    return '`"' + flat.replace("$", "\\$").replace("`", "\\`") + '"\''


def spss_comment(text: str) -> str:
    """A one-line SPSS ``*`` comment, ended by its period: no line break can end it early."""
    return "* " + _CONTROL.sub(" ", text).rstrip(". ") + "."


def spss_string(text: str) -> str:
    """An SPSS single-quoted string literal (a quote inside is doubled)."""
    return "'" + _CONTROL.sub("", text).replace("'", "''") + "'"
