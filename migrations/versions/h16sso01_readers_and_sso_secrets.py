"""readers (people, not addresses), per-site SSO secrets, reader_id on comments, reports and flags

A `reader` row is a person: signed in through the newsroom's accounts (SSO) or an
anonymous reader with an id we issued (docs/identity.md). Comments, error reports and
flags get a nullable `reader_id`; a flag is once per reader as it is once per address.

Existing comments get readers derived from what they kept: comments with an e-mail
belong to one anonymous reader per (site, e-mail hash); the others to one per (site,
address hash), which merges readers behind one address exactly as the old history did
(nothing better is known about them). Comments with neither (erased) keep no reader.
Error reports and flags are not looked up by reader and keep NULL. Address and e-mail
blocks stay as they are: they are not turned into reader bans.

Revision ID: h16sso01
Revises: c1h13limits01
Create Date: 2026-12-02 06:30:00

"""
import hashlib

import sqlalchemy as sa
from alembic import op


revision = 'h16sso01'
down_revision = 'c1h13limits01'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
    op.create_table(
        'reader',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('display_name', sa.String(length=80), nullable=True),
        sa.Column('email_hash', sa.String(length=64), nullable=True),
        sa.Column('address_hash', sa.String(length=64), nullable=True),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('banned_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('banned_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ban_reason', sa.String(length=500), nullable=True),
        sa.Column('premoderate', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('trusted', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint("kind in ('sso', 'anonymous')", name=op.f('ck_reader_kind')),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_reader_site_id_site'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reader')),
        sa.UniqueConstraint('key', name=op.f('uq_reader_key')),
    )
    with op.batch_alter_table('reader', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reader_site_id'), ['site_id'], unique=False)
        batch_op.create_index('ix_reader_site_email', ['site_id', 'email_hash'], unique=False)
        batch_op.create_index('ix_reader_site_address', ['site_id', 'address_hash'], unique=False)

    op.create_table(
        'site_sso_secret',
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=128), nullable=False),
        sa.Column('previous_secret', sa.String(length=128), nullable=True),
        sa.Column('previous_valid_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_site_sso_secret_site_id_site'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('site_id', name=op.f('pk_site_sso_secret')),
    )

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reader_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_comment_reader_id_reader'), 'reader', ['reader_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_comment_reader_history', ['reader_id', 'status', 'created_at'], unique=False)
    with op.batch_alter_table('typo_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reader_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_typo_report_reader_id_reader'), 'reader', ['reader_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_typo_report_reader_id'), ['reader_id'], unique=False)
    with op.batch_alter_table('comment_flag', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reader_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_comment_flag_reader_id_reader'), 'reader', ['reader_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_unique_constraint('uq_comment_flag_once_per_reader', ['comment_id', 'reader_id'])

    _derive_readers()


# Typed lightweight tables: datetimes come back as datetimes on SQLite too.
_comment = sa.table(
    'comment', sa.column('id', sa.Integer), sa.column('site_id', sa.Integer), sa.column('email', sa.String),
    sa.column('reporter_hash', sa.String), sa.column('author', sa.String),
    sa.column('created_at', sa.DateTime(timezone=True)), sa.column('reader_id', sa.Integer),
)
_reader = sa.table(
    'reader', sa.column('id', sa.Integer), sa.column('key', sa.String), sa.column('site_id', sa.Integer),
    sa.column('kind', sa.String), sa.column('display_name', sa.String), sa.column('email_hash', sa.String),
    sa.column('address_hash', sa.String), sa.column('first_seen', sa.DateTime(timezone=True)),
    sa.column('last_seen', sa.DateTime(timezone=True)),
)


def _legacy_key(site_id, by, value):
    """A stable anonymous reader key per (site, e-mail hash | address hash); hashed again so
    the key a moderator sees is not the stored hash itself."""
    digest = hashlib.sha256(f"legacy:{site_id}:{by}:{value}".encode()).hexdigest()[:32]
    return f"anon:{digest}"


def _comment_batches(conn):
    after = 0
    query = (
        sa.select(_comment.c.id, _comment.c.site_id, _comment.c.email, _comment.c.reporter_hash,
                  _comment.c.author, _comment.c.created_at)
        .where(_comment.c.id > sa.bindparam('after'),
               sa.or_(_comment.c.reporter_hash.isnot(None), sa.func.coalesce(_comment.c.email, '') != ''))
        .order_by(_comment.c.id).limit(BATCH)
    )
    while True:
        rows = conn.execute(query, {'after': after}).fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1].id


def _derive_readers():
    # The e-mail hash of today (stable salt from SECRET_KEY): what the reader service matches.
    from moderation.privacy import hash_email  # noqa: PLC0415

    conn = op.get_bind()

    def key_of(row):
        email = (row.email or '').strip()
        if email:
            email_hash = hash_email(email)
            return _legacy_key(row.site_id, 'email', email_hash), email_hash
        return _legacy_key(row.site_id, 'address', row.reporter_hash), None

    # Pass 1: one reader per key (memory: one entry per reader, not per comment).
    readers = {}
    for rows in _comment_batches(conn):
        for row in rows:
            key, email_hash = key_of(row)
            reader = readers.get(key)
            if reader is None:
                readers[key] = {
                    'key': key, 'site_id': row.site_id, 'kind': 'anonymous', 'display_name': row.author,
                    'email_hash': email_hash, 'address_hash': row.reporter_hash,
                    'first_seen': row.created_at, 'last_seen': row.created_at,
                }
                continue
            # Rows come in id order: the latest comment names the reader.
            reader['display_name'] = row.author
            reader['address_hash'] = row.reporter_hash or reader['address_hash']
            reader['first_seen'] = min(reader['first_seen'], row.created_at)
            reader['last_seen'] = max(reader['last_seen'], row.created_at)
    values = list(readers.values())
    for start in range(0, len(values), BATCH):
        conn.execute(sa.insert(_reader), values[start:start + BATCH])
    if not values:
        return
    ids = dict(conn.execute(sa.select(_reader.c.key, _reader.c.id)).all())

    # Pass 2: point each comment at its reader.
    update = sa.update(_comment).where(_comment.c.id == sa.bindparam('cid')).values(reader_id=sa.bindparam('rid'))
    for rows in _comment_batches(conn):
        conn.execute(update, [{'cid': row.id, 'rid': ids[key_of(row)[0]]} for row in rows])


def downgrade():
    with op.batch_alter_table('comment_flag', schema=None) as batch_op:
        batch_op.drop_constraint('uq_comment_flag_once_per_reader', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_comment_flag_reader_id_reader'), type_='foreignkey')
        batch_op.drop_column('reader_id')
    with op.batch_alter_table('typo_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_typo_report_reader_id'))
        batch_op.drop_constraint(batch_op.f('fk_typo_report_reader_id_reader'), type_='foreignkey')
        batch_op.drop_column('reader_id')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_reader_history')
        batch_op.drop_constraint(batch_op.f('fk_comment_reader_id_reader'), type_='foreignkey')
        batch_op.drop_column('reader_id')
    op.drop_table('site_sso_secret')
    with op.batch_alter_table('reader', schema=None) as batch_op:
        batch_op.drop_index('ix_reader_site_address')
        batch_op.drop_index('ix_reader_site_email')
        batch_op.drop_index(batch_op.f('ix_reader_site_id'))
    op.drop_table('reader')
