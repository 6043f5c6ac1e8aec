"""earned autonomy: per-site spam model state, example weights; a reject is no spam example

Revision ID: c1h14judg01
Revises: c1h13input01
Create Date: 2026-11-30 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c1h14judg01'
down_revision = 'c1h13input01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('spam_site_state',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('decisions', sa.Integer(), nullable=False),
    sa.Column('evaluated', sa.Integer(), nullable=False),
    sa.Column('curve', sa.JSON(), nullable=False),
    sa.Column('measured_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('admin_off', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_spam_site_state_site_id_site'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_spam_site_state'))
    )
    with op.batch_alter_table('spam_example', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weight', sa.Float(), server_default='1', nullable=False))
    # A rejected comment was learned as spam; it is "not published", not spam. The
    # next retrain fits without these (and measures each site afresh).
    op.execute("DELETE FROM spam_example WHERE comment_id IN (SELECT id FROM comment WHERE status = 'rejected')")
    op.execute("UPDATE spam_model_state SET examples_since_retrain = examples_spam + examples_ham")


def downgrade():
    with op.batch_alter_table('spam_example', schema=None) as batch_op:
        batch_op.drop_column('weight')
    op.drop_table('spam_site_state')
