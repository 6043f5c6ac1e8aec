"""spam examples and full retraining; surge mode on pages

Revision ID: b5judgment01
Revises: 96bb40f2b72e
Create Date: 2026-11-23 22:55:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b5judgment01'
down_revision = '96bb40f2b72e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('spam_example',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('is_spam', sa.Boolean(), nullable=False),
    sa.Column('learned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_spam_example_comment_id_comment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spam_example')),
    sa.UniqueConstraint('comment_id', name=op.f('uq_spam_example_comment_id'))
    )
    with op.batch_alter_table('spam_model_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('examples_since_retrain', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('retrained_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('page', schema=None) as batch_op:
        batch_op.add_column(sa.Column('surge_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('surge_reason', sa.String(length=200), nullable=True))
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_page_created', ['page_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_page_created')
    with op.batch_alter_table('page', schema=None) as batch_op:
        batch_op.drop_column('surge_reason')
        batch_op.drop_column('surge_until')
    with op.batch_alter_table('spam_model_state', schema=None) as batch_op:
        batch_op.drop_column('retrained_at')
        batch_op.drop_column('examples_since_retrain')
    op.drop_table('spam_example')
