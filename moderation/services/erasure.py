"""One reader's data: find it by e-mail, export it, erase it (with an audit entry).

Who is "one person": the comments whose stored e-mail is theirs (compared
trimmed and lower-cased). Their error reports and reader flags carry no e-mail,
only an address hash; rows with an address hash seen on their comments are
*linked by address*. A shared address (an office, a mobile carrier's NAT) can
link another reader's rows, so erasure only drops the hash from those rows (harmless
to anyone) and the export lists them apart, under ``address_linked``.

Erasing a comment keeps the row, so replies keep their thread: author "",
e-mail, hashes and body removed, the body replaced by a tombstone in the
site's language; a comment still waiting for a decision is rejected. Audit
entries about those comments lose the text they quoted. The e-mail never
enters the audit trail in clear, only its keyed hash (so a repeated request
can be recognised). Their follow-up subscriptions (which hold an e-mail) are deleted.

Reader rows (models.readers.Reader: a person's name and the hashes of their last e-mail and
address) are theirs when the e-mail's hash is the row's or when the row owns one of their
comments; `find_reader` starts from one reader instead (`moderation erase --reader ID`):
their comments, and their own reports and flags. Erasing a reader row clears its name and
hashes; the row and the moderators' decisions on it (a ban) stay.

Submissions not stored yet are erased too (`erase_queued`), from everywhere in Redis
a submission can wait: the inbox, the drain jobs' claim lists and the RQ jobs of
quarantined submissions (queue, scheduled, deferred, failed and finished registries).
The same rule as in the database: a submission is theirs when its e-mail (or follow-up
e-mail) is theirs; a report or flag is linked when sent from an address hash of theirs.
`erase --reader ID` does the same with `erase_queued_reader`: a queued submission is theirs
when the identity the reader API queued with it (`payload["identity"]`: the SSO reader key or
the signed anonymous key) is that reader, whatever its e-mail; reports and flags from the
address hashes of their stored or queued comments are linked as above.
"""
import json
import time
from dataclasses import dataclass, field

from rq.job import Job
from rq.registry import (CanceledJobRegistry, DeferredJobRegistry, FailedJobRegistry, FinishedJobRegistry,
                         ScheduledJobRegistry, StartedJobRegistry)

import sqlalchemy as sa

from .. import tasks
from ..extensions import db
from ..broker import CLAIM_PREFIX, INBOX, get_broker
from ..models import AuditEntry, Comment, CommentFlag, Reader, TypoReport
from ..models.notifications import ReaderSubscription
from ..models.base import isoformat, utcnow
from ..privacy import hash_email, normalize_email
from ..sanitizer import render_comment
from .audit import Target, audit

TOMBSTONES = {
    "ru": "Комментарий удалён по просьбе автора.",
    "kk": "Пікір авторының өтініші бойынша жойылды.",
    "en": "Comment removed at the author's request.",
}
ERASED = "[erased]"
# Audit before/after keys that can quote what the person wrote or who they are.
PERSONAL_KEYS = ("body", "body_raw", "body_html", "author", "email")
ERASE_ACTION = "person.erase"


@dataclass
class Found:
    email: str
    comments: list = field(default_factory=list)
    reports: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    subscriptions: list = field(default_factory=list)
    readers: list = field(default_factory=list)
    # `erase --reader ID`: the id asked for, named in the audit entry even without a row yet
    # (a reader whose submissions were all still queued).
    reader_key: str = ""

    @property
    def empty(self):
        return not (self.comments or self.reports or self.flags or self.subscriptions or self.readers)

    @property
    def hashes(self):
        return {c.reporter_hash for c in self.comments if c.reporter_hash}


def find(email):
    """Everything we hold that belongs to (or is linked by address to) this e-mail."""
    subject = normalize_email(email)
    found = Found(subject)
    if not subject:
        return found
    found.comments = list(db.session.execute(
        sa.select(Comment).where(sa.func.lower(sa.func.trim(Comment.email)) == subject).order_by(Comment.id)
    ).scalars())
    found.subscriptions = list(db.session.execute(
        sa.select(ReaderSubscription).where(sa.func.lower(sa.func.trim(ReaderSubscription.email)) == subject)
        .order_by(ReaderSubscription.id)
    ).scalars())
    reader_ids = {c.reader_id for c in found.comments if c.reader_id is not None}
    found.readers = list(db.session.execute(
        sa.select(Reader).where(sa.or_(Reader.email_hash == hash_email(subject), Reader.id.in_(reader_ids)))
        .order_by(Reader.id)
    ).scalars())
    _linked(found, found.hashes)
    return found


def _linked(found, hashes, reader_ids=()):
    """Reports and flags sent from their address hashes (or by their reader rows)."""
    for model, attr in ((TypoReport, "reports"), (CommentFlag, "flags")):
        conditions = []
        if hashes:
            conditions.append(model.reporter_hash.in_(hashes))
        if reader_ids:
            conditions.append(model.reader_id.in_(list(reader_ids)))
        if conditions:
            setattr(found, attr, list(db.session.execute(
                sa.select(model).where(sa.or_(*conditions)).order_by(model.id)).scalars()))


def find_reader(reader_key):
    """Everything of one reader (by their public id, `anon:…` / `sso:…`): the row, their
    comments, their own reports and flags, and those linked by their comments' addresses.
    An e-mail is not looked up here: erase by e-mail for what they sent under it elsewhere."""
    reader = db.session.execute(sa.select(Reader).where(Reader.key == reader_key)).scalar_one_or_none()
    found = Found("", reader_key=reader_key)
    if reader is None:
        return found
    found.readers = [reader]
    found.comments = list(db.session.execute(
        sa.select(Comment).where(Comment.reader_id == reader.id).order_by(Comment.id)).scalars())
    _linked(found, found.hashes, [reader.id])
    return found


def earlier_erasures(email):
    """Audit entries of earlier erasures of this e-mail (matched by its keyed hash)."""
    subject_hash = hash_email(normalize_email(email))
    rows = db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.action == ERASE_ACTION).order_by(AuditEntry.id)
    ).scalars()
    return [row for row in rows if (row.after or {}).get("subject") == subject_hash]


def export(found, address_linked=True):
    """Plain data for `json.dumps`."""
    data = {
        "email": found.email,
        "comments": [
            {
                "id": c.id, "site": c.site.key, "url": c.page.url, "title": c.page.title,
                "parent": c.parent_id, "author": c.author, "email": c.email, "body": c.body_raw,
                "status": c.status, "decision_reason": c.decision_reason,
                "created_at": isoformat(c.created_at), "submitted_at": isoformat(c.submitted_at),
                "edited_at": isoformat(c.edited_at), "decided_at": isoformat(c.decided_at),
            }
            for c in found.comments
        ],
        # Their reader rows as moderators see them (the hashes identify nobody to the reader).
        "readers": [r.to_dict() | {"site": r.site.key} for r in found.readers],
    }
    if address_linked:
        data["address_linked"] = {
            "note": "sent from a network address also seen on these comments; may include other "
                    "readers sharing that address",
            "reports": [
                {key: value for key, value in r.to_dict().items()
                 if key in ("id", "site", "url", "title", "exact", "prefix", "suffix", "suggestion",
                            "comment", "kind", "status", "created_at")}
                for r in found.reports
            ],
            "flags": [
                {"comment": f.comment_id, "reason": f.reason, "created_at": isoformat(f.created_at)}
                for f in found.flags
            ],
        }
    return data


def _scrub(value):
    if not isinstance(value, dict):
        return value
    return {key: (ERASED if key in PERSONAL_KEYS and item is not None else item) for key, item in value.items()}


def erase(found, actor=None, actor_label="system", reason=None, queued=None):
    """Anonymize `found` and add one audit entry (no commit). Returns the entry's `after`.

    `queued`: how many submissions `erase_queued` removed from Redis, for the entry."""
    now = utcnow()
    comment_ids = [c.id for c in found.comments]
    for comment in found.comments:
        comment.author = ""
        comment.email = None
        comment.reporter_hash = None
        comment.body_hash = None
        comment.body_raw = ""
        comment.body_html = render_comment(TOMBSTONES.get(comment.site.language, TOMBSTONES["en"]))
        comment.edited_at = now
        if comment.status in ("pending", "flagged"):
            comment.status, comment.decided_at = "rejected", now
            comment.decision_reason = "erased at the author's request"
            comment.page.bump()
        elif comment.status == "approved":
            comment.page.bump()  # readers' cached copies (ETag) must change
    for row in found.reports + found.flags:
        row.reporter_hash = None
    for reader in found.readers:
        reader.display_name = reader.email_hash = reader.address_hash = None
    for subscription in found.subscriptions:
        db.session.delete(subscription)  # nothing in it but the e-mail and what it follows
    scrubbed = 0
    if comment_ids:
        for entry in db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.target_type == "comment", AuditEntry.target_id.in_(comment_ids))
        ).scalars():
            before, after = _scrub(entry.before), _scrub(entry.after)
            if before != entry.before or after != entry.after:
                entry.before, entry.after = before, after
                scrubbed += 1
    summary = {
        # None when erased from one comment without an e-mail (the dashboard action).
        "subject": hash_email(found.email) if found.email else None,
        "comments": comment_ids,
        "reports": [r.id for r in found.reports],
        "flags": len(found.flags),
        "subscriptions": len(found.subscriptions),
        "readers": [r.key for r in found.readers] or ([found.reader_key] if found.reader_key else []),
        "audit_entries_scrubbed": scrubbed,
    }
    if queued is not None:
        summary["queued"] = queued
    sites = {c.site_id for c in found.comments} | {r.site_id for r in found.reports} | {
        r.site_id for r in found.readers}
    audit(actor if actor is not None else actor_label, ERASE_ACTION,
          Target("person", 0, sites.pop() if len(sites) == 1 else None), after=summary, reason=reason)
    return summary


# -- submissions still in Redis ---------------------------------------------------------

@dataclass
class Queued:
    """Counts of one `erase_queued` run (or what a dry run would remove)."""

    inbox: int = 0
    claimed: int = 0
    jobs: int = 0
    # Still held by a running worker when the wait ran out: erase must be run again.
    busy: int = 0

    @property
    def total(self):
        return self.inbox + self.claimed + self.jobs


def _own(payload, subject):
    return any(normalize_email(payload.get(key)) == subject for key in ("email", "notify_email"))


def _address_hashes(payload):
    return {payload.get("reporter_hash"), payload.get("reporter_hash_prev")} - {None, ""}


def _matches(payloads, subject, hashes, own=_own):
    """The payloads (parsed, from a snapshot) that erasure takes: the database's rule.

    `own(payload, subject)`: the payload is the person's (by e-mail, or by reader key).
    Hashes of their queued comments count like stored ones (a reader whose first comment is
    still queued); `reporter_hash_prev` is the same reader across a salt rotation."""
    hashes = set(hashes)
    for payload in payloads:
        if payload.get("type") == "comment" and own(payload, subject):
            hashes |= _address_hashes(payload)
    return [payload for payload in payloads
            if own(payload, subject)
            or (payload.get("type") in ("report", "flag") and _address_hashes(payload) & hashes)]


def queued_reader_key(payload):
    """The reader a queued payload was sent by (the key resolve_reader gives it), or None:
    the SSO reader key when signed in, else the signed anonymous key; None for payloads queued
    before readers, or by an import."""
    identity = payload.get("identity")
    if not isinstance(identity, dict):
        return None
    sso = identity.get("sso")
    if isinstance(sso, dict) and sso.get("reader_key"):
        return sso["reader_key"]
    return identity.get("anon_key") or None


def _own_reader(payload, reader_key):
    return queued_reader_key(payload) == reader_key


def _lists(redis, key):
    """Raw elements of one list with their parsed payloads (unparsable ones are not a reader's)."""
    out = []
    for raw in redis.lrange(key, 0, -1):
        try:
            payload = json.loads(raw)
        except ValueError:
            continue
        if isinstance(payload, dict):
            out.append((raw, payload))
    return out


def _registries(queue):
    kwargs = {"queue": queue}
    return [cls(**kwargs) for cls in (ScheduledJobRegistry, DeferredJobRegistry, FailedJobRegistry,
                                      FinishedJobRegistry, CanceledJobRegistry)]


def _quarantined(broker):
    """(job id, payload) of every quarantined submission's job, wherever RQ keeps it."""
    queue, redis = broker.queue, broker.redis
    ids = set(queue.get_job_ids()) | {i.decode() for i in redis.lrange(queue.intermediate_queue_key, 0, -1)}
    for registry in _registries(queue) + [StartedJobRegistry(queue=queue)]:
        ids |= set(registry.get_job_ids(cleanup=False))
    out = []
    for job in Job.fetch_many(sorted(ids), connection=redis):
        if job is None or job.func_name != tasks.SUBMISSION:
            continue
        try:
            args = job.args
        except Exception:  # noqa: BLE001 - a job we cannot read is not one we can match
            continue
        if args and isinstance(args[0], dict):
            out.append((job.id, args[0]))
    return out


def erase_queued_reader(reader_key, hashes=(), dry_run=False, wait=60.0, poll=0.05):
    """`erase_queued` for one reader (`erase --reader ID`): their queued submissions by the
    identity queued with them, and reports and flags from `hashes` (their stored comments'
    address hashes, `Found.hashes`) or from their queued comments' addresses. Same order and
    the same waiting as `erase_queued`: run it before the database erasure."""
    if not reader_key:
        return Queued()
    return _erase_queued(reader_key, hashes, _own_reader, dry_run, wait, poll)


def erase_queued(email, hashes=(), dry_run=False, wait=60.0, poll=0.05):
    """Remove this reader's submissions that wait in Redis; returns a `Queued`.

    `hashes`: their stored comments' address hashes (`Found.hashes`), for linked reports and
    flags. Run it *before* the database erasure (`find` again, then `erase`): a worker that
    had already taken a submission commits it to the database before it gives it back
    (claim released, job finished), so this waits for such workers, and what they stored is
    in the database when `find` runs. Each pass looks at the inbox, then the claim lists, then
    the jobs, in the order a submission moves (inbox → claim → quarantine job), so one that
    moves during a pass is seen at its next place. Removal is by exact raw element in one
    Lua script per list or job, atomic with the worker's claim: a claim has it (removed) or
    never will. A submission a reader sends after this returns is a new one.
    """
    subject = normalize_email(email)
    if not subject:
        return Queued()
    return _erase_queued(subject, hashes, _own, dry_run, wait, poll)


def _erase_queued(subject, hashes, own, dry_run, wait, poll):
    result = Queued()
    broker = get_broker()
    redis = broker.redis
    deadline = time.monotonic() + wait
    while True:
        busy = 0
        inbox = _lists(redis, INBOX)
        mine = _matches([p for _, p in inbox], subject, hashes, own)
        raws = [raw for raw, payload in inbox if payload in mine]
        if dry_run:
            result.inbox += len(raws)
        elif raws:
            result.inbox += max(broker.remove_raw(INBOX, raws), 0)
        for key in broker.claim_keys():
            held = _lists(redis, key)
            mine = _matches([p for _, p in held], subject, hashes, own)
            raws = [raw for raw, payload in held if payload in mine]
            if dry_run:
                result.claimed += len(raws)
                continue
            removed = broker.remove_raw(key, raws, job_id=key[len(CLAIM_PREFIX):])
            if removed < 0:
                busy += len(raws)
            else:
                result.claimed += removed
        jobs = _quarantined(broker)
        mine = _matches([p for _, p in jobs], subject, hashes, own)
        registries = _registries(broker.queue)
        for job_id, payload in jobs:
            if payload not in mine:
                continue
            if dry_run:
                result.jobs += 1
                continue
            deleted = broker.delete_job_if_idle(job_id, registries)
            if deleted < 0:
                busy += 1
            else:
                result.jobs += deleted
        result.busy = busy
        if dry_run or not busy or time.monotonic() > deadline:
            return result
        time.sleep(poll)
