"""answer.wave_id: a wave's answers read from one covering index, without a join to response

Backfilled from the response. The foreign key to response becomes (response_id, wave_id), so the
copy cannot disagree with its response (a unique index on response (id, wave_id) is its target).

Revision ID: 280b7846f62b
Revises: 368d49c8b49e
Create Date: 2026-11-22 20:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '280b7846f62b'
down_revision = '368d49c8b49e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wave_id', sa.Integer(), nullable=True))
    op.execute('UPDATE answer SET wave_id = response.wave_id FROM response '
               'WHERE response.id = answer.response_id')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index('ix_response_id_wave_id', ['id', 'wave_id'], unique=True)
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.alter_column('wave_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('fk_answer_response_id_response', type_='foreignkey')
        batch_op.create_foreign_key('fk_answer_response_id_response', 'response',
                                    ['response_id', 'wave_id'], ['id', 'wave_id'],
                                    ondelete='CASCADE')
        batch_op.create_index('ix_answer_wave_response',
                              ['wave_id', 'response_id', 'item_id', 'value'], unique=False)


def downgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_wave_response')
        batch_op.drop_constraint('fk_answer_response_id_response', type_='foreignkey')
        batch_op.create_foreign_key('fk_answer_response_id_response', 'response',
                                    ['response_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_column('wave_id')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_id_wave_id')
