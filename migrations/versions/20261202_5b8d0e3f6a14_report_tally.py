"""reports: stored dashboard counts per programme and unit (report_tally)

Revision ID: 5b8d0e3f6a14
Revises: e7a4c2d91b10
Create Date: 2026-12-02 11:30:00

The counts are filled by `flask learnhub recount-reports` or the next `flask learnhub sync`
(`make serve` runs it); until then the dashboard counts afresh, as before.
"""
from alembic import op
import sqlalchemy as sa


revision = '5b8d0e3f6a14'
down_revision = 'e7a4c2d91b10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_tally',
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('ref', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['training_programme.id'],
                                name=op.f('fk_report_tally_programme_id_training_programme'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_report_tally_unit_id_org_unit'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('programme_id', 'unit_id', 'kind', 'ref', name=op.f('pk_report_tally')),
    )
    op.create_table(
        'report_tally_state',
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['training_programme.id'],
                                name=op.f('fk_report_tally_state_programme_id_training_programme'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('programme_id', name=op.f('pk_report_tally_state')),
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index('ix_certificate_programme_expires', ['programme_id', 'expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index('ix_certificate_programme_expires')
    op.drop_table('report_tally_state')
    op.drop_table('report_tally')
