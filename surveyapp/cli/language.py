"""The language of the command line's messages: Chinese, or English when the terminal is English.

Commands use :func:`with_appcontext_in_language` where Flask's ``with_appcontext`` would go:
the language needs the application context (flask-babel keeps it there), so one decorator
does both, in the right order. The choice itself (SURVEYAPP_LANG, else LC_ALL / LC_MESSAGES /
LANG) is :func:`surveyapp.config.terminal_language`. There is no ``--lang`` option for this:
``export --lang`` and ``report --lang`` already choose the language of the file written.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask.cli import with_appcontext

from surveyapp.config import terminal_language
from surveyapp.i18n import in_language


def with_appcontext_in_language(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``command`` in the application context with gettext in the terminal's language."""

    @with_appcontext
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            lang = terminal_language()
        except ValueError as error:
            raise click.UsageError(str(error)) from error
        with in_language(lang):
            return command(*args, **kwargs)

    return run
