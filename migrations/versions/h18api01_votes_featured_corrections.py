"""votes on comments (once per reader), featured comments, published corrections

`comment` gains `featured` and the vote totals `likes`, `dislikes` (0 for every existing
comment: there were no votes); `comment_vote` holds one vote per (comment, reader);
`correction` is the public corrections log. Downgrade drops them (votes and corrections go).

Revision ID: h18api01
Revises: h16ingest01
Create Date: 2026-12-02 12:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'h18api01'
down_revision = 'h16ingest01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('featured', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('likes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('dislikes', sa.Integer(), server_default='0', nullable=False))

    op.create_table(
        'comment_vote',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('reader_id', sa.Integer(), nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('value in (1, -1)', name=op.f('ck_comment_vote_value')),
        sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_vote_comment_id_comment'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reader_id'], ['reader.id'], name=op.f('fk_comment_vote_reader_id_reader'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_vote')),
        sa.UniqueConstraint('comment_id', 'reader_id', name='uq_comment_vote_once_per_reader'),
    )
    with op.batch_alter_table('comment_vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_vote_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comment_vote_reader_id'), ['reader_id'], unique=False)
        batch_op.create_index('ix_comment_vote_client', ['client_id'], unique=False)

    op.create_table(
        'correction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('page_id', sa.Integer(), nullable=False),
        sa.Column('cluster_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.Column('published', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('corrected_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("kind in ('typo', 'fact', 'other', 'editor')", name=op.f('ck_correction_kind')),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_correction_site_id_site'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['page_id'], ['page.id'], name=op.f('fk_correction_page_id_page'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['cluster_id'], ['report_cluster.id'],
                                name=op.f('fk_correction_cluster_id_report_cluster'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_correction_created_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_correction')),
    )
    with op.batch_alter_table('correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index('ix_correction_page_list', ['page_id', 'published', 'corrected_at'], unique=False)
        batch_op.create_index('ix_correction_site_feed', ['site_id', 'published', 'corrected_at'], unique=False)


def downgrade():
    op.drop_table('correction')
    op.drop_table('comment_vote')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_column('dislikes')
        batch_op.drop_column('likes')
        batch_op.drop_column('featured')
