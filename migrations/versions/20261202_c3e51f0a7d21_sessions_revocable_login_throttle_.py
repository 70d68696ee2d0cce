"""sessions revocable (session token), temporary password age, login throttle, certificate override

Revision ID: c3e51f0a7d21
Revises: 16b9950411eb
Create Date: 2026-12-02 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c3e51f0a7d21'
down_revision = '16b9950411eb'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttle',
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('temporary_password_at', sa.DateTime(timezone=True), nullable=True))
    # Every existing account gets its own random token (sessions issued before this version end).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE user_account SET session_token = substr(md5(random()::text || id::text), 1, 22)")
        op.execute("UPDATE user_account SET temporary_password_at = now() WHERE must_change_password")
    else:
        op.execute("UPDATE user_account SET session_token = lower(hex(randomblob(11)))")
        op.execute("UPDATE user_account SET temporary_password_at = CURRENT_TIMESTAMP WHERE must_change_password")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=32), nullable=False)
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('override_reason', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('override_reason', existing_type=sa.Text(), server_default=None)


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('override_reason')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('temporary_password_at')
        batch_op.drop_column('session_token')
    op.drop_table('login_throttle')
