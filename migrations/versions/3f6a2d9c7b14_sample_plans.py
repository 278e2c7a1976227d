"""sample_plan, sample_plan_street: a wave's sampling plan (issue 15 item 1)

A plan allocates a total sample across districts and streets and may draw the streets; it is
the wave's declared design. No existing wave has a plan.

Revision ID: 3f6a2d9c7b14
Revises: de42d06f6bdc
Create Date: 2026-12-02 14:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3f6a2d9c7b14'
down_revision = 'de42d06f6bdc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sample_plan',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('wave_id', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('min_per_street', sa.Integer(), nullable=False),
        sa.Column('selection', sa.String(length=8), nullable=False),
        sa.Column('streets_per_district', sa.Integer(), nullable=True),
        sa.Column('seed', sa.BigInteger(), nullable=True),
        sa.Column('population_source', sa.String(length=200), nullable=False),
        sa.Column('sd_wave_label', sa.String(length=40), nullable=True),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("method IN ('proportional', 'sqrt', 'neyman')",
                           name=op.f('ck_sample_plan_method_known')),
        sa.CheckConstraint("selection IN ('all', 'srs', 'pps')",
                           name=op.f('ck_sample_plan_selection_known')),
        sa.CheckConstraint('total > 0', name=op.f('ck_sample_plan_total_positive')),
        sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_sample_plan_wave_id_wave'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sample_plan')),
        sa.UniqueConstraint('wave_id', name=op.f('uq_sample_plan_wave_id')),
    )
    op.create_table(
        'sample_plan_street',
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('street_code', sa.String(length=16), nullable=False),
        sa.Column('district_code', sa.String(length=12), nullable=False),
        sa.Column('population', sa.Integer(), nullable=False),
        sa.Column('selected', sa.Boolean(), nullable=False),
        sa.Column('inclusion_probability', sa.Float(), nullable=False),
        sa.Column('target', sa.Integer(), nullable=False),
        sa.Column('sd', sa.Float(), nullable=True),
        sa.Column('between_sd', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['district_code'], ['district.code'],
                                name=op.f('fk_sample_plan_street_district_code_district')),
        sa.ForeignKeyConstraint(['plan_id'], ['sample_plan.id'],
                                name=op.f('fk_sample_plan_street_plan_id_sample_plan'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['street_code'], ['street.code'],
                                name=op.f('fk_sample_plan_street_street_code_street')),
        sa.PrimaryKeyConstraint('plan_id', 'street_code', name=op.f('pk_sample_plan_street')),
    )
    with op.batch_alter_table('sample_plan_street', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sample_plan_street_district_code'),
                              ['district_code'], unique=False)


def downgrade():
    with op.batch_alter_table('sample_plan_street', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sample_plan_street_district_code'))
    op.drop_table('sample_plan_street')
    op.drop_table('sample_plan')
