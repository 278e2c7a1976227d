"""revocable sessions, token expiry, lower-case user names, device-bound login failures

- user_account.session_version: a session is bound to it; raising it ends the user's sessions.
- user_account.username is stored in lower case (a CHECK says so), which makes the existing
  unique constraint case-insensitive. Names differing only in case stop the upgrade, listed,
  so that an administrator decides which account keeps the name.
- api_token.expires_at: existing tokens expire 90 days after their creation.
- login_failure.device: failures of a browser that showed a device cookie.

Revision ID: 9c4e2a7b1f05
Revises: e4b7a1c9d2f0
Create Date: 2026-12-02 00:20:00

"""
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9c4e2a7b1f05'
down_revision = 'e4b7a1c9d2f0'
branch_labels = None
depends_on = None

EXISTING_TOKEN_DAYS = 90


def upgrade():
    bind = op.get_bind()
    _lower_case_user_names(bind)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_user_account_username_lower'),
                                        'username = lower(username)')

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table('api_token', sa.column('id', sa.Integer),
                      sa.column('created_at', sa.DateTime(timezone=True)),
                      sa.column('expires_at', sa.DateTime(timezone=True)))
    for token_id, created in bind.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        bind.execute(tokens.update().where(tokens.c.id == token_id).values(
            expires_at=created + timedelta(days=EXISTING_TOKEN_DAYS)))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)

    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_login_failure_device'), ['device'], unique=False)


def _lower_case_user_names(bind) -> None:
    users = sa.table('user_account', sa.column('username', sa.String))
    clashes = bind.execute(
        sa.select(sa.func.lower(users.c.username)).group_by(sa.func.lower(users.c.username))
        .having(sa.func.count() > 1)).scalars().all()
    if clashes:
        raise RuntimeError(
            "user_account: these user names differ only in case; rename or delete all but one "
            f"of each before upgrading: {', '.join(sorted(clashes))}")
    bind.execute(users.update().values(username=sa.func.lower(users.c.username)))


def downgrade():
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_device'))
        batch_op.drop_column('device')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_account_username_lower'), type_='check')
        batch_op.drop_column('session_version')
