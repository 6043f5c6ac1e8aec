"""Comment counts of many articles at once (GET /api/v1/counts): the article lists of a site."""
import json
import zlib

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, Page
from ..models.sites import url_hash
from .comments_feed import visible_statuses


def pages(site, urls):
    """{normalized url: (page id, comments_version)} of the articles in `urls` that have a page."""
    hashes = {url_hash(url): url for url in urls}
    rows = db.session.execute(
        sa.select(Page.id, Page.url_hash, Page.comments_version)
        .where(Page.site_id == site.id, Page.url_hash.in_(list(hashes)))
    ).all()
    return {hashes[row.url_hash]: (row.id, row.comments_version or 0) for row in rows}


def etag(site, sent, found):
    """Changes when a listed article's comments change (its comments_version: published, withdrawn,
    voted on), with the URLs as sent (they key the answer) and the site's flagged_visible."""
    shown = "f" if "flagged" in visible_statuses(site) else ""
    material = json.dumps([sent, sorted(found.values())], separators=(",", ":"))
    return f"n{len(sent)}-{zlib.crc32(material.encode('utf-8')):08x}{shown}"


def counts(site, sent, normalized, found):
    """{url as sent: published comments}: one grouped, indexed query for all of them.
    `sent` and `normalized` are parallel lists; `found` is pages()."""
    ids = {page_id for page_id, _ in found.values()}
    totals = {}
    if ids:
        totals = dict(db.session.execute(
            sa.select(Comment.page_id, sa.func.count())
            .where(Comment.page_id.in_(ids), Comment.status.in_(visible_statuses(site)))
            .group_by(Comment.page_id)
        ).all())
    return {url: totals.get(found[norm][0], 0) if norm in found else 0 for url, norm in zip(sent, normalized)}
