"""What moderators see of a reader: the summary on each item, the reader panel, and the
moderators' actions on a reader (services.readers does the deciding and the audit).

The reader actions are not in services.actions: that registry is of decisions on items with a
status lifecycle (the action's resulting status, "undecided", bulk buttons, stats counting
decisions, integer ids in the route). A ban changes no item's status, trust and pre-moderation
are switches, and a reader's public id is a string key. So they are listed here, once, and
the API, its OpenAPI document and the dashboard read this table.
"""
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Comment, Reader
from ..models.base import isoformat, utcnow
from . import readers as service
from .common import Invalid

RECENT_COMMENTS = 50
# "address shared by N readers this week": the hint that replaces merged address histories.
ADDRESS_HINT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class ReaderAction:
    name: str  # the verb in URLs and forms; the service function in services.readers
    label: object  # the dashboard button (a lazy msgid)
    fields: tuple = ()  # body fields besides `reason`, in the service function's keyword names

    @property
    def audit(self):
        return f"{service.TARGET_TYPE}.{self.name}"

    def perform(self, reader_key, actor, values=None, reason=None):
        values = values or {}
        kwargs = {field: values[field] for field in self.fields if values.get(field) is not None}
        if "on" in kwargs and not isinstance(kwargs["on"], bool):
            raise Invalid("invalid fields", {"on": "on must be true or false"})
        return getattr(service, self.name)(reader_key, actor, reason=reason, **kwargs)


READER_ACTIONS = (
    ReaderAction("ban", _l("Ban"), ("days",)),
    ReaderAction("unban", _l("Unban")),
    ReaderAction("trust", _l("Trust"), ("on",)),
    ReaderAction("premoderate", _l("Always pre-moderate"), ("on",)),
)
BY_NAME = {action.name: action for action in READER_ACTIONS}


def _summary(reader, history):
    counts = history.get(reader.id, {})
    return {
        "id": reader.key, "kind": reader.kind, "name": reader.display_name,
        "approved": counts.get("approved", 0),
        # Spam is a rejection too, as in the dashboard's "n approved / n rejected".
        "rejected": counts.get("rejected", 0) + counts.get("spam", 0),
        "banned_until": isoformat(reader.banned_until),
    }


def summaries(reader_ids):
    """{reader row id: the item's "reader" object} in two queries, whatever the number of items."""
    ids = {i for i in reader_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Reader).where(Reader.id.in_(ids))).scalars().all()
    history = service.reader_history(ids)
    return {row.id: _summary(row, history) for row in rows}


def item_dicts(items):
    """Items' to_dict() with "reader" added (None without a reader) for items that keep one."""
    found = summaries(getattr(item, "reader_id", None) for item in items)
    out = []
    for item in items:
        data = item.to_dict()
        if hasattr(item, "reader_id"):
            data["reader"] = found.get(item.reader_id)
        out.append(data)
    return out


def address_shared(reader, now=None):
    """How many readers (this one included) wrote from this reader's last address this week."""
    if not reader.address_hash:
        return 1
    since = (now or utcnow()) - ADDRESS_HINT_WINDOW
    others = set(db.session.execute(
        sa.select(Comment.reader_id).distinct()
        .where(Comment.site_id == reader.site_id, Comment.reporter_hash == reader.address_hash,
               Comment.created_at >= since, Comment.reader_id.is_not(None))
    ).scalars())
    others |= set(db.session.execute(
        sa.select(Reader.id).where(Reader.site_id == reader.site_id, Reader.address_hash == reader.address_hash,
                                   Reader.last_seen >= since)
    ).scalars())
    return len(others | {reader.id})


def recent_comments(reader, limit=RECENT_COMMENTS):
    """Their latest comments across the site's articles, newest first, with page and site loaded."""
    return db.session.execute(
        sa.select(Comment).where(Comment.reader_id == reader.id)
        .options(selectinload(Comment.page), selectinload(Comment.site))
        .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit)
    ).scalars().all()


def profile(reader, now=None):
    """The reader panel as data (GET /api/v1/moderation/readers/<id>): the reader, their history,
    the address hint and their recent comments (the caller checked the actor: load_reader)."""
    history = service.reader_history([reader.id]).get(reader.id, {})
    return {
        **reader.to_dict(),
        "site": reader.site.key,
        "history": {status: history.get(status, 0) for status in service.HISTORY_STATUSES},
        "address_shared_by": address_shared(reader, now),
        "comments": [
            {"id": c.id, "url": c.page.url, "title": c.page.title, "status": c.status,
             "body": c.body_raw, "reason": c.decision_reason, "created_at": isoformat(c.created_at)}
            for c in recent_comments(reader)
        ],
    }
