"""``surveyapp token ...``: API tokens for analysts (shown once, stored hashed).

Errors are in the terminal's language (surveyapp.cli.language). The database layer is
imported when a command runs, so that `surveyapp --help` stays fast.
"""
from __future__ import annotations

from datetime import datetime

import click

from surveyapp.choices import TOKEN_MAX_DAYS
from surveyapp.cli.language import with_appcontext_in_language


@click.group("token")
def token() -> None:
    """Bearer tokens for the JSON API under /api/v1."""


@token.command("create")
@click.option("--user", "username", required=True, help="The account the token acts as.")
@click.option("--days", type=click.IntRange(1, TOKEN_MAX_DAYS), default=None,
              help="Days until it expires (default SURVEYAPP_TOKEN_DAYS, 90).")
@with_appcontext_in_language
def create(username: str, days: int | None) -> None:
    """Create a token and print it; it cannot be shown again."""
    from surveyapp.extensions import db
    from surveyapp.models.accounts import User
    from surveyapp.services import audit
    from surveyapp.services.tokens import TokenError, create_token

    try:
        row, text = create_token(username, days)
    except TokenError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    expires = _utc_text(row.expires_at)
    owner = db.session.get(User, row.user_id).username
    audit.record(None, "token.create", f"user:{owner}", f"token {row.id}, expires {expires}")
    db.session.commit()
    click.echo(text)
    click.echo(f"token {row.id} for {owner}, expires {expires}: keep it secret; it is "
               "not stored and cannot be shown again. Use it as 'Authorization: Bearer <token>'.",
               err=True)


@token.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext_in_language
def revoke(token_id: int) -> None:
    """Revoke a token by its number (see `surveyapp token list`)."""
    from surveyapp.extensions import db
    from surveyapp.services import audit
    from surveyapp.services.tokens import TokenError, revoke_token

    try:
        row = revoke_token(token_id)
    except TokenError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    audit.record(None, "token.revoke", f"token:{row.id}")
    db.session.commit()
    click.echo(f"revoked token {token_id}")


@token.command("list")
@click.option("--user", "username", default=None, help="Only this account's tokens.")
@with_appcontext_in_language
def list_command(username: str | None) -> None:
    """Print every token: number, user, created, expires, last used, state."""
    from surveyapp.services.tokens import token_state, tokens_of

    for row, user in tokens_of(username):
        used = _utc_text(row.last_used_at) if row.last_used_at else "never"
        click.echo(f"{row.id}\t{user.username}\t{_utc_text(row.created_at)}\t"
                   f"{_utc_text(row.expires_at)}\t{used}\t{token_state(row)}")


def _utc_text(moment: datetime) -> str:
    """ISO 8601 in UTC with its offset, the same on SQLite (naive) and PostgreSQL."""
    from surveyapp.models.survey import as_utc

    return as_utc(moment).isoformat(timespec="seconds")


commands = [token]
