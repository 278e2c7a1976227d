"""wave.kiosk: a wave answered on shared devices, where one browser may send several responses

False for every existing wave: a browser that has answered an open wave is told its response
was received instead of being given the form again.

Revision ID: 7c1e5b2d8f30
Revises: 7e3b9d1c4a20
Create Date: 2026-12-02 00:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7c1e5b2d8f30'
down_revision = '7e3b9d1c4a20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kiosk', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_column('kiosk')
