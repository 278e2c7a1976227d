"""The ``surveyapp`` console script: Flask's commands (run, db ...) plus ours.

Each command lives in its own module under surveyapp/cli/ and exposes ``commands``, a list of
click commands; add the module's name to COMMAND_MODULES to register it.
"""
from __future__ import annotations

import importlib

import click
from flask.cli import FlaskGroup

COMMAND_MODULES: tuple[str, ...] = (
    "users", "questionnaires", "demo", "report", "estimate", "export", "tokens", "waves",
)


def _create_app():
    from surveyapp import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """surveyapp: citizen-satisfaction surveys, estimates and district reports."""


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(f"surveyapp.cli.{_name}").commands:
        main.add_command(_command)
