"""imported comments: external id of each comment brought in from Isso or Disqus

Revision ID: b4porting001
Revises: b8reports001
Create Date: 2026-11-23 22:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b4porting001'
down_revision = 'b8reports001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('imported_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("source in ('isso', 'disqus')", name=op.f('ck_imported_comment_source')),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_imported_comment_comment_id_comment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_imported_comment_site_id_site'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_comment')),
    sa.UniqueConstraint('site_id', 'source', 'external_id', name='uq_imported_comment_source')
    )
    with op.batch_alter_table('imported_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imported_comment_comment_id'), ['comment_id'], unique=True)


def downgrade():
    with op.batch_alter_table('imported_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imported_comment_comment_id'))

    op.drop_table('imported_comment')
