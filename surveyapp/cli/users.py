"""``surveyapp user ...``: create and list staff accounts from the command line.

Errors are in the terminal's language (surveyapp.cli.language); the account checks of
surveyapp.services.accounts give every problem in Chinese and English already. The database
layer is imported when a command runs, so that `surveyapp --help` stays fast.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click
from flask_babel import gettext as _

from surveyapp.choices import ROLES
from surveyapp.cli.language import with_appcontext_in_language

if TYPE_CHECKING:
    from surveyapp.models.accounts import User

T = TypeVar("T")


@click.group("user")
def user() -> None:
    """Staff accounts: admin, city analyst, district bureau."""


@user.command("create")
@click.option("--username", required=True, help="Sign-in name (3-64 letters, digits, _ . -).")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--district", "districts", multiple=True,
              help="District code a bureau account may see; repeat for several.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
@with_appcontext_in_language
def create(username: str, role: str, districts: tuple[str, ...], password_stdin: bool) -> None:
    """Create an account; the password is prompted for unless --password-stdin is given."""
    from surveyapp.extensions import db
    from surveyapp.services import audit
    from surveyapp.services.accounts import create_user

    account = _checked(lambda: create_user(username, _read_password(password_stdin), role,
                                           districts))
    audit.record(None, "user.create", f"user:{account.username}",
                 f"role={role} districts={','.join(districts) or '-'}")
    db.session.commit()
    click.echo(f"created {account.role} {account.username}{_scope(account)}")


@user.command("set-password")
@click.option("--username", required=True)
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
@with_appcontext_in_language
def set_password_command(username: str, password_stdin: bool) -> None:
    """Give an account a new password (e.g. a forgotten one); it also re-enables the account.

    Every session and API token of the account ends.
    """
    from surveyapp.extensions import db
    from surveyapp.services import audit
    from surveyapp.services.accounts import set_active, set_password

    account = _existing(username)
    _checked(lambda: set_password(account, _read_password(password_stdin)))
    set_active(account, True)
    audit.record(None, "user.set_password", f"user:{account.username}")
    db.session.commit()
    click.echo(f"password changed for {account.username}")


@user.command("set-role")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--district", "districts", multiple=True,
              help="District code a bureau account may see; repeat for several.")
@with_appcontext_in_language
def set_role_command(username: str, role: str, districts: tuple[str, ...]) -> None:
    """Change an account's role and districts; its sessions and API tokens end."""
    from surveyapp.extensions import db
    from surveyapp.services import audit
    from surveyapp.services.accounts import set_role

    account = _existing(username)
    _checked(lambda: set_role(account, role, districts))
    audit.record(None, "user.set_role", f"user:{account.username}",
                 f"role={role} districts={','.join(districts) or '-'}")
    db.session.commit()
    click.echo(f"{account.username} is now {role}{_scope(account)}")


def _existing(username: str) -> User:
    from surveyapp.services.accounts import find_by_name

    account = find_by_name(username)
    if account is None:
        raise click.ClickException("--username: " + _("no account named %(name)r",
                                                      name=username))
    return account


def _checked(change: Callable[[], T]) -> T:
    """Run an account change; refused, nothing is kept and every problem is printed."""
    from surveyapp.extensions import db
    from surveyapp.services.accounts import AccountError

    try:
        return change()
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException("\n".join(error.problems)) from error


def _scope(account: User) -> str:
    return f" for {', '.join(d.code for d in account.districts)}" if account.districts else ""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user.command("list")
@with_appcontext_in_language
def list_command() -> None:
    """Print every account: name, role, districts, active."""
    from surveyapp.services.accounts import list_users

    for account in list_users():
        districts = ",".join(d.code for d in account.districts) or "*"
        click.echo(f"{account.username}\t{account.role}\t{districts}\t"
                   f"{'active' if account.active else 'disabled'}")


commands = [user]
