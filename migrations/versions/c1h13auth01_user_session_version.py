"""user session version: sign-out, password change and deactivation end every session

Sessions and remember cookies carry "<user id>:<session_version>:<signed-in at>"
(moderation.auth); raising the version ends them all. Existing accounts start at 1,
so sessions made before this release (plain "<user id>") no longer load: everyone
signs in once more.

Revision ID: c1h13auth01
Revises: c1h14judg01
Create Date: 2026-11-25 10:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'c1h13auth01'
down_revision = 'c1h14judg01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
