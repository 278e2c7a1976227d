"""job: progress (work done of the total) recorded by the worker, for clients following a job

Revision ID: f1c3e5a7b9d2
Revises: d3a6f1b9c2e7
Create Date: 2026-12-02 20:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f1c3e5a7b9d2'
down_revision = 'd3a6f1b9c2e7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('progress_total', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('progress_total')
        batch_op.drop_column('progress')
