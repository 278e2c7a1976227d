"""wave.margin_set_id: the margin set a wave's reports are weighted to, pinned

Nullable (None: the newest fitting set, as before). ON DELETE RESTRICT: a set behind published
numbers cannot be deleted while a wave is pinned to it.

Revision ID: 5d2f0c3a9e41
Revises: 280b7846f62b
Create Date: 2026-11-22 21:55:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5d2f0c3a9e41'
down_revision = '280b7846f62b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('margin_set_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_wave_margin_set_id_margin_set', 'margin_set',
                                    ['margin_set_id'], ['id'], ondelete='RESTRICT')


def downgrade():
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_constraint('fk_wave_margin_set_id_margin_set', type_='foreignkey')
        batch_op.drop_column('margin_set_id')
