"""quiz: when the right answers are shown (after the quiz is closed by default)

Revision ID: e7a4c2d91b10
Revises: 768c837f5f30
Create Date: 2026-12-02 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e7a4c2d91b10'
down_revision = '768c837f5f30'
branch_labels = None
depends_on = None


def upgrade():
    # Existing quizzes take the new default: a certification quiz no longer hands out its
    # answers while attempts are left.
    with op.batch_alter_table('quiz', schema=None) as batch_op:
        batch_op.add_column(sa.Column('right_answers', sa.String(length=20), nullable=False,
                                      server_default='after_close'))
    with op.batch_alter_table('quiz', schema=None) as batch_op:
        batch_op.alter_column('right_answers', existing_type=sa.String(length=20), server_default=None)


def downgrade():
    with op.batch_alter_table('quiz', schema=None) as batch_op:
        batch_op.drop_column('right_answers')
