"""The ``surveyapp`` console script: Flask's commands (run, db ...) plus ours.

Each command lives in its own module under surveyapp/cli/ and exposes ``commands``, a list of
click commands; add the module's name to COMMAND_MODULES to register it.
"""
from __future__ import annotations

import importlib

import click
from flask.cli import FlaskGroup

from surveyapp.cli.database_problems import database_problem

COMMAND_MODULES: tuple[str, ...] = (
    "users", "questionnaires", "demo", "report", "estimate", "export", "tokens", "waves", "worker",
    "invitations",
    "small_area",
    "index",
    "composite",
    "plans",
)
# Commands that serve no request and work through a whole wave in one short process: their
# application is built without its web parts (create_app(web=False): no blueprints, views,
# guards or protections to import and register), and the process keeps the memory it frees
# (surveyapp.heap).
PAGELESS_COMMANDS = frozenset({"estimate", "export"})


def _create_app():
    from surveyapp import create_app

    if _invoked_command() not in PAGELESS_COMMANDS:
        return create_app()
    from surveyapp.heap import keep_freed_memory

    keep_freed_memory()
    return create_app(web=False)


def _invoked_command() -> str | None:
    """The name of the top-level command being run (``estimate`` for ``surveyapp estimate``),
    None outside one. Flask builds the application inside the command's own click context."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None and ctx.parent is not None and ctx.parent.parent is not None:
        ctx = ctx.parent
    if ctx is None or ctx.parent is None:
        return None
    return ctx.command.name


class SurveyappGroup(FlaskGroup):
    """Flask's command group, offering exactly the commands registered on it.

    FlaskGroup would import every ``flask.commands`` plugin installed in the environment and
    build the whole application just to list commands, which made ``surveyapp --help`` take
    seconds; our commands, Flask's run/shell/routes and the migrations' ``db`` are all
    registered on the group itself, so listing and resolving them needs neither.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._loaded_plugin_commands = True  # no entry-point plugins: see the class docstring
        # A stand-in for listing; resolve_command swaps in Flask-Migrate's group when it is used,
        # so that only `surveyapp db ...` pays for importing alembic.
        self.add_command(click.Group("db", help="Perform database migrations."))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(super(FlaskGroup, self).list_commands(ctx))

    def invoke(self, ctx: click.Context):
        """Run the command; a database with no schema or no server is one clear sentence."""
        try:
            return super().invoke(ctx)
        except Exception as error:
            problem = database_problem(error)
            if problem is None:
                raise
            raise click.ClickException(problem) from error

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name, command, rest = super().resolve_command(ctx, args)
        if name == "db":
            from flask_migrate.cli import db as command
        return name, command, rest


@click.group(cls=SurveyappGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """surveyapp: citizen-satisfaction surveys, estimates and district reports."""


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(f"surveyapp.cli.{_name}").commands:
        main.add_command(_command)
