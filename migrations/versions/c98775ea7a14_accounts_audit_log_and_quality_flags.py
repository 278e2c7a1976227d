"""accounts (users, districts, login failures), audit log and data-quality flags

Revision ID: c98775ea7a14
Revises: aaa8e9d6a93a
Create Date: 2026-11-22 17:56:17.964721

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c98775ea7a14'
down_revision = 'aaa8e9d6a93a'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('client_hash', sa.String(length=64), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_client_hash'), ['client_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failure_failed_at'), ['failed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failure_username'), ['username'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'analyst', 'bureau')", name=op.f('ck_user_account_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_audit_log_actor_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('user_district',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('district_code', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_user_district_district_code_district')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_district_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'district_code', name=op.f('pk_user_district'))
    )
    op.create_table('quality_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('speeder', 'straightliner', 'duplicate', 'manual')", name=op.f('ck_quality_flag_kind')),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_quality_flag_response_id_response')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_flag')),
    sa.UniqueConstraint('response_id', 'kind', name=op.f('uq_quality_flag_response_id'))
    )
    with op.batch_alter_table('quality_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_flag_excluded'), ['excluded'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_flag_response_id'), ['response_id'], unique=False)




def downgrade():
    
    with op.batch_alter_table('quality_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_flag_response_id'))
        batch_op.drop_index(batch_op.f('ix_quality_flag_excluded'))

    op.drop_table('quality_flag')
    op.drop_table('user_district')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    op.drop_table('user_account')
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_username'))
        batch_op.drop_index(batch_op.f('ix_login_failure_failed_at'))
        batch_op.drop_index(batch_op.f('ix_login_failure_client_hash'))

    op.drop_table('login_failure')

