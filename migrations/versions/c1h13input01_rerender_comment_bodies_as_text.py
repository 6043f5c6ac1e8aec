"""re-render comment bodies from their raw text with the text-first sanitizer

The old renderer parsed reader text as HTML and lost words (`3 <b and 5 > 4 apples` stored
as `3 <b> 4 apples</b>`, everything after `<!--` gone). `comment.body_raw` kept what the
reader typed, so every body is rendered again from it with `sanitizer.render_comment`.
Left alone: erased comments (empty `body_raw`, the tombstone is their HTML) and comments
imported from Disqus, whose raw body is HTML (`sanitizer.render_html`, as before). Pages
whose published comments changed get a new `comments_version`, so readers' cached lists
(ETag, Redis) are rebuilt. The downgrade keeps the new HTML: the old one lost text.

Revision ID: c1h13input01
Revises: b9drain00001
Create Date: 2026-12-01 23:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c1h13input01'
down_revision = 'b9drain00001'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
    from moderation.sanitizer import render_comment  # noqa: PLC0415  (the renderer of today)

    conn = op.get_bind()
    select = sa.text(
        "SELECT c.id, c.page_id, c.status, c.body_raw, c.body_html FROM comment c "
        "WHERE c.id > :after AND c.body_raw <> '' AND NOT EXISTS ("
        "  SELECT 1 FROM imported_comment i WHERE i.comment_id = c.id AND i.source = 'disqus') "
        "ORDER BY c.id LIMIT :limit"
    )
    update = sa.text("UPDATE comment SET body_html = :html WHERE id = :id")
    pages = set()
    after = 0
    while True:
        rows = conn.execute(select, {"after": after, "limit": BATCH}).fetchall()
        if not rows:
            break
        changed = []
        for row in rows:
            html = render_comment(row.body_raw)
            if html != row.body_html:
                changed.append({"id": row.id, "html": html})
                if row.status == "approved":
                    pages.add(row.page_id)
        if changed:
            conn.execute(update, changed)
        after = rows[-1].id
    bump = sa.text("UPDATE page SET comments_version = COALESCE(comments_version, 0) + 1 WHERE id = :id")
    if pages:
        conn.execute(bump, [{"id": page_id} for page_id in sorted(pages)])


def downgrade():
    pass  # the old HTML lost readers' words; nothing to go back to
