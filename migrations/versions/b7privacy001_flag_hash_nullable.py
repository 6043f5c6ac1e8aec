"""reader flags may lose their reporter hash (retention, erasure)

Revision ID: b7privacy001
Revises: b6notify0001
Create Date: 2026-11-23 22:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7privacy001'
down_revision = 'b6notify0001'
branch_labels = None
depends_on = None


def upgrade():
    # NULLs never collide in the (comment_id, reporter_hash) unique constraint, on
    # SQLite or PostgreSQL: a comment keeps any number of anonymized flags.
    with op.batch_alter_table('comment_flag', schema=None) as batch_op:
        batch_op.alter_column('reporter_hash', existing_type=sa.String(length=64), nullable=True)


def downgrade():
    op.execute("UPDATE comment_flag SET reporter_hash = 'erased-' || id WHERE reporter_hash IS NULL")
    with op.batch_alter_table('comment_flag', schema=None) as batch_op:
        batch_op.alter_column('reporter_hash', existing_type=sa.String(length=64), nullable=False)
