"""faq gap links

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('faq_gap_links',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('faq_id', sa.String(length=128), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id')
    )
    with op.batch_alter_table('faq_gap_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faq_gap_links_faq_id'), ['faq_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('faq_gap_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_gap_links_faq_id'))

    op.drop_table('faq_gap_links')
