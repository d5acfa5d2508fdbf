"""channel senders: the conversation each Rasa REST sender or socket.io session id stands for

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_senders',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('sender', sa.String(length=128), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'sender', name='uq_channel_senders_channel_sender')
    )
    with op.batch_alter_table('channel_senders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_senders_conversation_id'), ['conversation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('channel_senders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_senders_conversation_id'))

    op.drop_table('channel_senders')
