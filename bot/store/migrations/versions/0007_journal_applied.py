"""journal applied: the keys of writes replayed from a server's local journal after a database outage

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('journal_applied',
    sa.Column('key', sa.String(length=36), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('journal_applied', schema=None) as batch_op:
        batch_op.create_index('ix_journal_applied_applied_at', ['applied_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('journal_applied', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_applied_applied_at')

    op.drop_table('journal_applied')
