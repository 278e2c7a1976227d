"""invitation_code.used_at: the UTC date only, so that a code cannot be linked to its response

A timestamp of when a code was spent was a few milliseconds from its response's submitted_at.
Existing values keep their UTC date.

Revision ID: e4b7a1c9d2f0
Revises: 5d2f0c3a9e41
Create Date: 2026-12-02 00:20:00

"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4b7a1c9d2f0'
down_revision = '5d2f0c3a9e41'
branch_labels = None
depends_on = None


def upgrade():
    with _sqlite_values_kept(lambda value: value[:10]):  # '2024-05-01 08:30:00.123' -> date
        with op.batch_alter_table('invitation_code', schema=None) as batch_op:
            batch_op.alter_column('used_at', existing_type=sa.DateTime(timezone=True),
                                  type_=sa.Date(), existing_nullable=True,
                                  postgresql_using="(used_at AT TIME ZONE 'UTC')::date")


def downgrade():
    with _sqlite_values_kept(lambda value: value + " 00:00:00.000000"):
        with op.batch_alter_table('invitation_code', schema=None) as batch_op:
            batch_op.alter_column('used_at', existing_type=sa.Date(),
                                  type_=sa.DateTime(timezone=True), existing_nullable=True,
                                  postgresql_using="used_at::timestamp AT TIME ZONE 'UTC'")


@contextmanager
def _sqlite_values_kept(convert):
    """SQLite's batch copy CASTs to DATE, which turns '2024-05-01' into the number 2024: take
    the values out first and put them back converted, as text."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    rows = bind.execute(sa.text("SELECT id, used_at FROM invitation_code "
                                "WHERE used_at IS NOT NULL")).all()
    op.execute("UPDATE invitation_code SET used_at = NULL")
    yield
    for row_id, value in rows:
        bind.execute(sa.text("UPDATE invitation_code SET used_at = :value WHERE id = :id"),
                     {"value": convert(str(value)), "id": row_id})
