"""wave.sample_design and wave.lonely_psu: how a wave's sample was drawn, declared

Existing waves get 'district' (stratified by district, each response its own unit) with the
lonely-PSU rule 'adjust': exactly the design their reports were computed with, so no
published number changes.

Revision ID: 7e3b9d1c4a20
Revises: 9c4e2a7b1f05
Create Date: 2026-12-02 00:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7e3b9d1c4a20'
down_revision = '9c4e2a7b1f05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sample_design', sa.String(length=24),
                                      server_default='district', nullable=False))
        batch_op.add_column(sa.Column('lonely_psu', sa.String(length=12),
                                      server_default='adjust', nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_wave_sample_design_known'),
            "sample_design IN ('district', 'district_street', 'street_psu')")
        batch_op.create_check_constraint(
            op.f('ck_wave_lonely_psu_known'),
            "lonely_psu IN ('fail', 'remove', 'certainty', 'adjust', 'average')")


def downgrade():
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_wave_lonely_psu_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_wave_sample_design_known'), type_='check')
        batch_op.drop_column('lonely_psu')
        batch_op.drop_column('sample_design')
