"""covering indexes for batch screening: a reader's and an article's recent comments

Screening a drain batch counts, for its readers, earlier comments per site and
status (history) and inside the velocity window, and for its articles the
comments inside the surge window with their status. The old indexes found the
rows but every count then read each row for the column the index lacked
(site_id, created_at, status): with a viral article that was tens of thousands
of row reads per batch. These indexes answer the counts from the index alone.

Revision ID: b9drain00001
Revises: b4porting001
Create Date: 2026-11-24 01:50:00

"""
from alembic import op


revision = 'b9drain00001'
down_revision = 'b4porting001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_reader_recent', ['reporter_hash', 'site_id', 'status', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_comment_page_recent', ['page_id', 'created_at', 'status'], unique=False)
        batch_op.drop_index('ix_comment_reporter')
        batch_op.drop_index('ix_comment_page_created')


def downgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_page_created', ['page_id', 'created_at'], unique=False)
        batch_op.create_index('ix_comment_reporter', ['reporter_hash', 'status'], unique=False)
        batch_op.drop_index('ix_comment_page_recent')
        batch_op.drop_index('ix_comment_reader_recent')
