"""faq proposals: entries agents propose for admins to publish, and the messages they answer

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('faq_proposals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('question', sa.String(length=500), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('proposed_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('faq_id', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['agents.id'], ),
    sa.ForeignKeyConstraint(['proposed_by'], ['agents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('faq_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faq_proposals_proposed_by'), ['proposed_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_faq_proposals_status'), ['status'], unique=False)

    op.create_table('faq_proposal_messages',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['faq_proposals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', 'message_id')
    )
    with op.batch_alter_table('faq_proposal_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faq_proposal_messages_message_id'), ['message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('faq_proposal_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_proposal_messages_message_id'))

    op.drop_table('faq_proposal_messages')
    with op.batch_alter_table('faq_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_proposals_status'))
        batch_op.drop_index(batch_op.f('ix_faq_proposals_proposed_by'))

    op.drop_table('faq_proposals')
