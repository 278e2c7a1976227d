"""response_manifest: one manifest per data hash, shared by the estimate runs on those data

Revision ID: a4d8c2e6f1b3
Revises: f1c3e5a7b9d2
Create Date: 2026-12-07 23:30:00

Each run stored its own copy of the manifest (24 MB at a million responses), although the
data hash determines it; a warm rerun of a spec on an unchanged wave spent 0.2-0.25 s sending
it again. The manifests move into their own table, one row per hash, which the runs reference.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a4d8c2e6f1b3'
down_revision = 'f1c3e5a7b9d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'response_manifest',
        sa.Column('data_hash', sa.String(length=64), nullable=False),
        sa.Column('manifest', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('data_hash', name=op.f('pk_response_manifest')),
    )
    op.execute(
        "INSERT INTO response_manifest (data_hash, manifest) "
        "SELECT data_hash, response_manifest FROM estimate_run "
        "WHERE id IN (SELECT min(id) FROM estimate_run GROUP BY data_hash)")
    with op.batch_alter_table('estimate_run', schema=None) as batch_op:
        batch_op.drop_column('response_manifest')
        batch_op.create_index(batch_op.f('ix_estimate_run_data_hash'), ['data_hash'],
                              unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_estimate_run_data_hash_response_manifest'), 'response_manifest',
            ['data_hash'], ['data_hash'])


def downgrade():
    with op.batch_alter_table('estimate_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('response_manifest', sa.LargeBinary(), nullable=True))
    op.execute(
        "UPDATE estimate_run SET response_manifest = (SELECT manifest FROM response_manifest "
        "WHERE response_manifest.data_hash = estimate_run.data_hash)")
    with op.batch_alter_table('estimate_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_estimate_run_data_hash_response_manifest'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_estimate_run_data_hash'))
        batch_op.alter_column('response_manifest', existing_type=sa.LargeBinary(),
                              nullable=False)
    op.drop_table('response_manifest')
