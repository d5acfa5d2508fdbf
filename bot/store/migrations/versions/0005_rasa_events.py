"""rasa events

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rasa_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('event', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rasa_events', schema=None) as batch_op:
        batch_op.create_index('ix_rasa_events_conversation_id_id', ['conversation_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rasa_events', schema=None) as batch_op:
        batch_op.drop_index('ix_rasa_events_conversation_id_id')

    op.drop_table('rasa_events')
