"""conference day: folded names for search and sheet matching, rotating check-in code

Revision ID: 36cda1c9f32a
Revises: c3e51f0a7d21
Create Date: 2026-12-02 08:25:14.527541
"""
import secrets

import sqlalchemy as sa
from alembic import op

from learnhub.names import fold

revision = '36cda1c9f32a'
down_revision = 'c3e51f0a7d21'
branch_labels = None
depends_on = None


def upgrade():
    # Added nullable, filled row by row, then made NOT NULL: existing rows get real values
    # (each session its own secret, each account its folded name), not a shared default.
    with op.batch_alter_table('training_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('rotate_seconds', sa.Integer(), nullable=True))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=200), nullable=True))

    conn = op.get_bind()
    session = sa.table('training_session', sa.column('id', sa.Integer), sa.column('checkin_secret', sa.String),
                       sa.column('rotate_seconds', sa.Integer))
    for (session_id,) in conn.execute(sa.select(session.c.id)).all():
        conn.execute(session.update().where(session.c.id == session_id)
                     .values(checkin_secret=secrets.token_hex(32), rotate_seconds=0))
    user = sa.table('user_account', sa.column('id', sa.Integer), sa.column('full_name', sa.String),
                    sa.column('name_key', sa.String))
    for user_id, full_name in conn.execute(sa.select(user.c.id, user.c.full_name)).all():
        conn.execute(user.update().where(user.c.id == user_id).values(name_key=fold(full_name)[:200]))

    with op.batch_alter_table('training_session', schema=None) as batch_op:
        batch_op.alter_column('checkin_secret', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('rotate_seconds', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_index(batch_op.f('ix_user_account_name_key'), ['name_key'], unique=False)


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_name_key'))
        batch_op.drop_column('name_key')

    with op.batch_alter_table('training_session', schema=None) as batch_op:
        batch_op.drop_column('rotate_seconds')
        batch_op.drop_column('checkin_secret')
