"""Readers and their comments, straight into the database (the reader API's wiring is tested elsewhere)."""
import uuid
from types import SimpleNamespace

import sqlalchemy as sa

from moderation.extensions import db
from moderation.identity import anonymous
from moderation.identity.sso import SsoIdentity, reader_key
from moderation.models import Comment, Page
from moderation.models.base import utcnow
from moderation.models.sites import url_hash
from moderation.privacy import hash_address, hash_email
from moderation.sanitizer import render_comment
from moderation.services import readers

from .payloads import ARTICLE


def make_reader(app, site_id, sso_user=None, name="Гость", email=None, address=None, now=None):
    """A reader (anonymous, or SSO with `sso_user` as the newsroom's user id), as plain data."""
    with app.app_context():
        if sso_user is not None:
            sso = SsoIdentity(reader_key(site_id, sso_user), sso_user, name, email)
            row = readers.resolve_reader(site_id, sso=sso, address_hash=hash_address(address) if address else None,
                                         now=now)
        else:
            key, _ = anonymous.issue(site_id)
            row = readers.resolve_reader(site_id, anon_key=key, name=name, now=now,
                                         email_hash=hash_email(email) if email else None,
                                         address_hash=hash_address(address) if address else None)
        db.session.commit()
        return SimpleNamespace(id=row.id, key=row.key, site_id=site_id)


def _page(site_id, url, title="Новая трамвайная линия"):
    page = db.session.execute(
        sa.select(Page).where(Page.site_id == site_id, Page.url_hash == url_hash(url))).scalar_one_or_none()
    if page is None:
        page = Page(site_id=site_id, url=url, url_hash=url_hash(url), title=title)
        db.session.add(page)
        db.session.flush()
    return page


def reader_comment(app, reader, url=ARTICLE, body="Наконец-то!", status="pending", address=None,
                   created_at=None, **fields):
    """A comment of `reader` (from make_reader) on `url`; returns its id."""
    with app.app_context():
        page = _page(reader.site_id, url)
        row = Comment(client_id=uuid.uuid4().hex, site_id=reader.site_id, page_id=page.id, author="Гость",
                      body_raw=body, body_html=render_comment(body), status=status, reader_id=reader.id,
                      reporter_hash=hash_address(address) if address else None,
                      created_at=created_at or utcnow(), **fields)
        db.session.add(row)
        db.session.commit()
        return row.id


def post_as_browser(client, path, body, address, site, fresh=False):
    """POST `body` as one browser per (site, address): it sends back the anonymous reader id it
    was issued, as the widget does (docs/identity.md). `fresh`: another browser on that address
    (no id sent, none kept). Returns the response."""
    readers = client.__dict__.setdefault("reader_tokens", {})
    body = dict(body, reader=None if fresh else readers.get((site, address)))
    response = client.post(path, json=body, environ_base={"REMOTE_ADDR": address})
    if response.status_code == 202 and not fresh:
        readers.setdefault((site, address), response.json.get("reader"))
    return response
