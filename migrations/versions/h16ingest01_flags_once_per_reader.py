"""flags once per reader, not per address: drop the (comment, address hash) unique constraint

Two readers behind one address (carrier NAT) may each flag a comment; the (comment, reader)
constraint of h16sso01 keeps it once per reader. Flags without a reader (from before readers)
stay once per address hash in persist.py.

Revision ID: h16ingest01
Revises: c1h18wp01
"""
from alembic import op

revision = 'h16ingest01'
down_revision = 'c1h18wp01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment_flag', schema=None) as batch_op:
        batch_op.drop_constraint('uq_comment_flag_once', type_='unique')


def downgrade():
    with op.batch_alter_table('comment_flag', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_comment_flag_once', ['comment_id', 'reporter_hash'])
