"""Published corrections: the public log (reader API, Atom feed) and the editors' side
(publish from a fixed spot, write by hand, unpublish), every change audited."""
from xml.etree import ElementTree as ET

import sqlalchemy as sa

from ..db_retry import unit_of_work
from ..extensions import db
from ..models import Correction, Page, ReportCluster
from ..models.base import as_utc, isoformat, utcnow
from ..models.sites import url_hash
from ..sanitizer import clean_text
from ..schemas.limits import CORRECTION_MAX, CORRECTION_NOTE_MAX
from .. import site_features
from ..urls import normalize_url
from .audit import Target, audit
from .common import Invalid, NotFound, load, require, site_filter

# Entries of the site-wide feed (newest first).
FEED_ENTRIES = 50
ATOM = "http://www.w3.org/2005/Atom"


# -- the reader side ----------------------------------------------------------------------

def find_page(site_id, url):
    normalized = normalize_url(url) or url
    return db.session.execute(
        sa.select(Page).where(Page.site_id == site_id, Page.url_hash == url_hash(normalized))
    ).scalar_one_or_none()


def _version(where):
    count, last_id, changed = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(Correction.id), sa.func.max(Correction.changed_at)).where(where)
    ).one()
    stamp = int(as_utc(changed).timestamp() * 1000) if changed else 0
    return f"{count}-{last_id or 0}-{stamp}"


def etag(page):
    """Changes when a correction of the article is published or unpublished."""
    if page is None:
        return "k0"
    return f"k{page.id}-{_version(Correction.page_id == page.id)}"


def feed_etag(site):
    return f"a{site.id}-{_version(Correction.site_id == site.id)}"


def published(page):
    """The article's published corrections, newest first (public_dict each)."""
    if page is None:
        return []
    rows = db.session.execute(
        sa.select(Correction).where(Correction.page_id == page.id, Correction.published.is_(True))
        .order_by(Correction.corrected_at.desc(), Correction.id.desc())
    ).scalars()
    return [row.public_dict() for row in rows]


def atom_feed(site, feed_url):
    """The site's published corrections as an Atom 1.0 document (bytes), newest first.

    Built with ElementTree, which escapes every text and attribute: an editor's note is text,
    never markup. Each entry links the corrected article."""
    rows = db.session.execute(
        sa.select(Correction, Page.url, Page.title).join(Page, Page.id == Correction.page_id)
        .where(Correction.site_id == site.id, Correction.published.is_(True))
        .order_by(Correction.corrected_at.desc(), Correction.id.desc()).limit(FEED_ENTRIES)
    ).all()
    ET.register_namespace("", ATOM)

    def sub(parent, tag, text=None, **attrs):
        node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", f"{feed_url}")
    sub(feed, "title", f"{site.name}: corrections")
    # With no entry yet: a fixed date, so the body stays what its ETag says.
    sub(feed, "updated", isoformat(rows[0][0].corrected_at) if rows else "1970-01-01T00:00:00Z")
    sub(sub(feed, "author"), "name", site.name)
    sub(feed, "link", rel="self", href=feed_url, type="application/atom+xml")
    for correction, url, title in rows:
        entry = sub(feed, "entry")
        sub(entry, "id", f"{feed_url}#correction-{correction.id}")
        sub(entry, "title", f"Correction: {title or url}")
        sub(entry, "updated", isoformat(correction.corrected_at))
        sub(entry, "link", rel="alternate", href=url)
        sub(entry, "category", term=correction.kind)
        summary = correction.note or correction.text
        sub(entry, "summary", summary)
        if correction.note:
            sub(entry, "content", correction.text)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


# -- the editors' side --------------------------------------------------------------------

def _clean(value, name, limit, required=False):
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid("invalid fields", {name: f"{name} is required"})
        return None
    if not isinstance(value, str):
        raise Invalid("invalid fields", {name: f"{name} must be a string"})
    value = clean_text(value)
    if len(value) > limit:
        raise Invalid("invalid fields", {name: f"{name} must be at most {limit} characters"})
    return value


def _target(correction):
    """Audited on its article (a correction is part of the page's public record)."""
    return Target("page", correction.page_id, correction.site_id)


def _audited(correction, published=None):
    return dict(correction.public_dict(), correction=correction.id, cluster=correction.cluster_id,
                published=correction.published if published is None else published)


TRUE, FALSE = (True, "on", "1", "true", "yes"), (None, False, "", "0", "off", "false", "no")


def flag(value, name):
    """A yes/no field, from JSON (true/false) or a form (a checkbox: "on" or absent)."""
    if value in TRUE and value is not False:
        return True
    if value in FALSE:
        return False
    raise Invalid("invalid fields", {name: f"{name} must be true or false"})


def check_note(cluster, note):
    """The cleaned note of a correction published from `cluster`; 400 for a fact correction
    without one where the site requires it (correction_note_required)."""
    note = _clean(note, "note", CORRECTION_NOTE_MAX)
    if _kind_of(cluster) == "fact" and note is None and site_features.correction_note_required(
            cluster.site.settings):
        raise Invalid("invalid fields", {"note": "note is required to publish a fact correction on this site"})
    return note


def unpublish_of_cluster(cluster, actor, reason=None):
    """A reopened spot: its published corrections come off the log (in the caller's transaction)."""
    rows = db.session.execute(sa.select(Correction).where(
        Correction.cluster_id == cluster.id, Correction.published.is_(True))).scalars().all()
    for correction in rows:
        correction.published = False
        correction.changed_at = utcnow()
        audit(actor, "correction.unpublish", _target(correction), before=_audited(correction, True),
              after=_audited(correction), reason=reason)


def publish_fix(cluster, actor, note=None):
    """A fixed spot becomes a published correction (in the fix's transaction: the caller commits).
    A fact correction needs a note where the site requires one (400)."""
    note = check_note(cluster, note)
    kind = _kind_of(cluster)
    text = cluster.correction or cluster.best_suggestion() or cluster.exact
    correction = Correction(site_id=cluster.site_id, page_id=cluster.page_id, cluster_id=cluster.id, kind=kind,
                            text=text, note=note, created_by_id=actor.id)
    db.session.add(correction)
    db.session.flush()
    audit(actor, "correction.publish", _target(correction), after=_audited(correction))
    return correction


def _kind_of(cluster):
    """The spot's kind: the most reported one among its reports ("typo" when none says)."""
    kinds = {}
    for report in cluster.reports:
        kinds[report.kind] = kinds.get(report.kind, 0) + 1
    if not kinds:
        return "typo"
    return max(sorted(kinds), key=lambda kind: kinds[kind])


@unit_of_work
def write(actor, site_key, url, text, note=None):
    """An editor's correction written by hand for an article (kind `editor`), published at once."""
    require(actor, "reports")
    from ..models import Site  # noqa: PLC0415

    site = db.session.execute(sa.select(Site).where(Site.key == site_key)).scalar_one_or_none() \
        if isinstance(site_key, str) else None
    if site is None or not actor.can_site(site.id):
        raise Invalid("invalid fields", {"site": "site is unknown"})
    normalized = normalize_url(url) if isinstance(url, str) else None
    if normalized is None:
        raise Invalid("invalid fields", {"url": "url must be an absolute http(s) URL"})
    text = _clean(text, "text", CORRECTION_MAX, required=True)
    note = _clean(note, "note", CORRECTION_NOTE_MAX)
    page = find_page(site.id, normalized)
    if page is None:
        page = Page(site_id=site.id, url=normalized, url_hash=url_hash(normalized))
        db.session.add(page)
        db.session.flush()
    correction = Correction(site_id=site.id, page_id=page.id, kind="editor", text=text, note=note,
                            created_by_id=actor.id)
    db.session.add(correction)
    db.session.flush()
    audit(actor, "correction.publish", _target(correction), after=_audited(correction))
    db.session.commit()
    return correction


def _load(correction_id, actor):
    require(actor, "reports")
    query = site_filter(sa.select(Correction).where(Correction.id == correction_id), Correction, actor, None)
    correction = db.session.execute(query).scalar_one_or_none()
    if correction is None:
        raise NotFound("no such correction")
    return correction


@unit_of_work
def unpublish(correction_id, actor, reason=None):
    """Off the public log and the feed (the row and the audit trail stay)."""
    correction = _load(correction_id, actor)
    if correction.published:
        correction.published = False
        correction.changed_at = utcnow()
        audit(actor, "correction.unpublish", _target(correction), before=_audited(correction, True),
              after=_audited(correction), reason=reason)
        db.session.commit()
    return correction


def list_for_editors(actor, site_key=None, limit=100):
    require(actor, "reports")
    query = site_filter(sa.select(Correction), Correction, actor, site_key)
    return db.session.execute(query.order_by(Correction.corrected_at.desc(), Correction.id.desc())
                              .limit(limit)).scalars().all()
