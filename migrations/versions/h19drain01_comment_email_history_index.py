"""index comments by site and typed e-mail: batch screening's e-mail history of anonymous readers

Screening reads the e-mail history of the batch's anonymous readers who typed an e-mail
(moderation/judgment/recent.py, the hint their own history must agree with). No index had
the e-mail: every batch walked all comments of the site, a cost that grew with the table.
Covering (site, e-mail, status): the counts come from the index alone. Only an index is
added; downgrade drops it.

Revision ID: h19drain01
Revises: h17mail01
"""
from alembic import op

revision = 'h19drain01'
down_revision = 'h17mail01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_site_email', ['site_id', 'email', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_site_email')
