"""imported comments may come from WordPress: 'wordpress' joins the source check

Revision ID: c1h18wp01
Revises: h16sso01
Create Date: 2026-12-02 06:50:00

"""
from alembic import op


revision = 'c1h18wp01'
down_revision = 'h16sso01'
branch_labels = None
depends_on = None

# Written out, not imported from the model: a migration states the schema of its own revision.
BEFORE = "source in ('isso', 'disqus')"
AFTER = "source in ('isso', 'disqus', 'wordpress')"


def _replace_check(sqltext):
    # SQLite cannot alter a constraint: there batch mode copies the table with the new check.
    with op.batch_alter_table('imported_comment', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_imported_comment_source'), type_='check')
        batch_op.create_check_constraint(op.f('ck_imported_comment_source'), sqltext)


def upgrade():
    _replace_check(AFTER)


def downgrade():
    # Fails while WordPress imports exist (their rows break the old check): erase them first.
    _replace_check(BEFORE)
