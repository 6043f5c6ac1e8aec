"""report clusters: machine suggestion and "fixed (detected)"

Revision ID: b8reports001
Revises: b7privacy001
Create Date: 2026-11-23 22:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8reports001'
down_revision = 'b7privacy001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_cluster', schema=None) as batch_op:
        batch_op.add_column(sa.Column('machine_suggestion', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('fixed_detected_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fixed_checked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('report_cluster', schema=None) as batch_op:
        batch_op.drop_column('fixed_checked_at')
        batch_op.drop_column('fixed_detected_at')
        batch_op.drop_column('machine_suggestion')
