"""client_ids unique per site: (client_id, site_id) for reports and comments, (client_id, comment_id) for flags

A client_id was one global namespace: a reader on one site could take the ids another
site's import would use (that import then failed) and an id reused on another site was
answered 202 and dropped. The constraints now hold per site (a flag's comment fixes its
site); client_id leads each one, so the same index still answers lookups by client_id.
Downgrading fails while two sites share a client_id.

Revision ID: c1h13limits01
Revises: c1h13auth01
Create Date: 2026-12-01 23:10:00

"""
from alembic import op


revision = 'c1h13limits01'
down_revision = 'c1h13auth01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('typo_report', schema=None) as batch_op:
        batch_op.drop_constraint('uq_typo_report_client_id', type_='unique')
        batch_op.create_unique_constraint('uq_typo_report_site_client', ['client_id', 'site_id'])
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_constraint('uq_comment_client_id', type_='unique')
        batch_op.create_unique_constraint('uq_comment_site_client', ['client_id', 'site_id'])
    with op.batch_alter_table('comment_flag', schema=None) as batch_op:
        batch_op.drop_constraint('uq_comment_flag_client_id', type_='unique')
        batch_op.create_unique_constraint('uq_comment_flag_comment_client', ['client_id', 'comment_id'])


def downgrade():
    with op.batch_alter_table('comment_flag', schema=None) as batch_op:
        batch_op.drop_constraint('uq_comment_flag_comment_client', type_='unique')
        batch_op.create_unique_constraint('uq_comment_flag_client_id', ['client_id'])
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_constraint('uq_comment_site_client', type_='unique')
        batch_op.create_unique_constraint('uq_comment_client_id', ['client_id'])
    with op.batch_alter_table('typo_report', schema=None) as batch_op:
        batch_op.drop_constraint('uq_typo_report_site_client', type_='unique')
        batch_op.create_unique_constraint('uq_typo_report_client_id', ['client_id'])
