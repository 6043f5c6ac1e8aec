"""email token uses: one row per spent e-mail link (one-click decisions, password reset)

A new table only; nothing existing changes. Downgrade drops it (the links it
remembers expire within days anyway).

Revision ID: h17mail01
Revises: h18api01
"""
import sqlalchemy as sa
from alembic import op

revision = 'h17mail01'
down_revision = 'h18api01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'email_token_use',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_id', sa.String(length=32), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_email_token_use_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_token_use')),
        sa.UniqueConstraint('token_id', name=op.f('uq_email_token_use_token_id')),
    )
    with op.batch_alter_table('email_token_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_token_use_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_token_use_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('email_token_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_token_use_expires_at'))
        batch_op.drop_index(batch_op.f('ix_email_token_use_user_id'))
    op.drop_table('email_token_use')
