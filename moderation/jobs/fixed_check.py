"""Already-fixed detection: re-fetch the articles of open error reports and flag the
clusters whose quote is gone from the page, so editors confirm instead of searching.

- **Flag, not status.** A detected cluster keeps status ``new`` and gets
  ``fixed_detected_at``: the status is an editor's decision and is what readers are told
  ("fixed"), and a machine's guess should not answer readers or leave the New queue.
  The editor confirms with the usual Fix (one click) or reopens nothing. No change to
  the status CheckConstraint either.
- **One fetch per page**, oldest-checked pages first, pages checked in the last half
  interval (at least 5 minutes) skipped, ``FIXED_CHECK_DELAY`` seconds between two fetches, only through
  `moderation.safe_fetch` (the site's own origins, no private addresses, no redirects off
  the host, timeout, 2 MB cap, text/html).
- **Guarded.** A quote counts as gone only when the page answered 200 with at least
  ``FIXED_CHECK_MIN_TEXT`` characters of text *and* the spot's surroundings (the 16
  characters before or after) are still on it: a 404, an empty page, a paywall or a
  different article never marks anything. A quote that comes back clears the flag.
- **Scheduling.** One of the periodic jobs in `moderation.tasks.PERIODIC`: every worker's
  maintenance (every ``MODERATION_WORKER_MAINTENANCE`` seconds) queues it at most once per
  ``FIXED_CHECK_INTERVAL`` across all workers (why not RQ's scheduler: see `moderation.tasks`).
- **Bounded.** A job stops after ``FIXED_CHECK_PAGES`` pages or ``FIXED_CHECK_BUDGET``
  seconds and enqueues a fresh job at the back of the queue, so drain jobs queued
  meanwhile run first (one worker never stalls ingest for long).
"""
import logging
import time
import unicodedata
from datetime import timedelta
from html.parser import HTMLParser

import sqlalchemy as sa
from flask import current_app

from .. import safe_fetch, tasks
from ..extensions import db
from ..models import Page, ReportCluster, Site
from ..models.base import utcnow
from ..models.clusters import CONTEXT_MATCH
from ..urls import origin_allowed
from . import in_app_context

log = logging.getLogger(__name__)

# A page checked this recently is skipped (unless forced), whatever the interval.
MIN_RECHECK_SECONDS = 300
# Elements whose text is not article text.
SKIPPED_TAGS = {"script", "style", "noscript", "template", "svg"}
# Invisible characters a CMS sprinkles into text (soft hyphen, zero-width space/joiners, BOM).
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


# -- page text and the decision ------------------------------------------------------------

class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag == "body":
            self.skipping = 0  # an unclosed <noscript> or <svg> in <head> hides no article
        # Block boundaries would otherwise glue words; `normalize` drops spaces anyway,
        # but the text is also measured for "substantial".
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in SKIPPED_TAGS and self.skipping:
            self.skipping -= 1
        self.parts.append(" ")

    def handle_startendtag(self, tag, attrs):
        self.parts.append(" ")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def page_text(html):
    """Visible text of an HTML page (scripts, styles and templates left out)."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def normalize(text):
    """Case- and whitespace-insensitive form for matching, like the cluster key's lowercase
    comparison; whitespace is dropped entirely because the widget reads the article's
    textContent, which glues block elements together where the page text has a space."""
    text = unicodedata.normalize("NFC", text or "").translate(INVISIBLE)
    return "".join(text.split()).lower()


def verdict(text, exact, prefix, suffix, min_text=200):
    """"present", "gone" or "unsure" for one quote on a page's `normalize`d text."""
    e = normalize(exact)
    p = normalize(prefix[-CONTEXT_MATCH:])
    s = normalize(suffix[:CONTEXT_MATCH])
    if not e or len(text) < min_text:
        return "unsure"  # nothing to look for, or an empty / error / paywall page
    if not p and not s:
        # No context: the selection itself decides (the page passed the size guard).
        return "present" if e in text else "gone"
    anchored = [p + e + s]
    if p:
        anchored.append(p + e)
    if s:
        anchored.append(e + s)
    if any(quote in text for quote in anchored):
        return "present"
    if (p and p in text) or (s and s in text):
        return "gone"  # the surroundings are there, the quote is not: it was edited
    return "unsure"  # neither: another article, or rewritten beyond recognition


# -- the job -------------------------------------------------------------------------------

def _pages_due(site_key, force, limit):
    """Page ids with open clusters not checked recently, never-checked and oldest first."""
    cfg = current_app.config
    unchecked = sa.func.count() - sa.func.count(ReportCluster.fixed_checked_at)
    oldest = sa.func.min(ReportCluster.fixed_checked_at)
    query = (
        sa.select(ReportCluster.page_id)
        .where(ReportCluster.status == "new")
        .group_by(ReportCluster.page_id)
        .order_by(unchecked.desc(), oldest, ReportCluster.page_id)
        .limit(limit)
    )
    if site_key:
        query = query.join(Site, Site.id == ReportCluster.site_id).where(Site.key == site_key)
    if not force:
        # Never zero: a job that hands over must not find the pages it just checked due again.
        window = max((cfg["FIXED_CHECK_INTERVAL"] or 0) / 2, MIN_RECHECK_SECONDS)
        query = query.having(sa.or_(unchecked > 0, oldest < utcnow() - timedelta(seconds=window)))
    return db.session.execute(query).scalars().all()


def check_page(page_id):
    """Fetch one page and update its open clusters. Returns (outcome word, clusters newly detected)."""
    from ..services.audit import audit  # noqa: PLC0415 - avoids an import cycle

    cfg = current_app.config
    page = db.session.get(Page, page_id)
    if page is None:
        return "missing", 0
    url, origins = page.url, list(page.site.allowed_origins or [])
    db.session.commit()  # no transaction held open while the network is slow
    now = utcnow()
    outcome, text, detected = None, None, 0
    if not origin_allowed(url, origins):
        outcome = "refused"  # the site's origins changed since the report
    else:
        try:
            fetched = safe_fetch.fetch(url, origins, allowed_networks=cfg["FETCH_ALLOWED_NETWORKS"],
                                       timeout=cfg["FETCH_TIMEOUT"], max_bytes=cfg["FETCH_MAX_BYTES"])
        except safe_fetch.Refused as exc:
            log.warning("fixed check: %s refused: %s", url, exc.reason)
            outcome = "refused"
        except safe_fetch.FetchError as exc:
            log.info("fixed check: %s failed: %s", url, exc.reason)
            outcome = "failed"
        else:
            if fetched.ok:
                text = normalize(page_text(fetched.text()))
            else:
                outcome = f"http {fetched.status}"
    clusters = db.session.execute(
        sa.select(ReportCluster).where(ReportCluster.page_id == page_id, ReportCluster.status == "new")
    ).scalars().all()
    for cluster in clusters:
        cluster.fixed_checked_at = now  # also after a failure: retried next interval, not in a loop
        if text is None:
            continue
        found = verdict(text, cluster.exact, cluster.prefix, cluster.suffix, cfg["FIXED_CHECK_MIN_TEXT"])
        if found == "gone" and cluster.fixed_detected_at is None:
            cluster.fixed_detected_at = now
            detected += 1
            audit(None, "report.fixed_detected", cluster, before={"fixed_detected_at": None},
                  after={"fixed_detected_at": now.isoformat()},
                  reason="the quote is no longer on the page")
        elif found == "present" and cluster.fixed_detected_at is not None:
            audit(None, "report.fixed_undetected", cluster,
                  before={"fixed_detected_at": cluster.fixed_detected_at.isoformat()},
                  after={"fixed_detected_at": None}, reason="the quote is on the page again")
            cluster.fixed_detected_at = None
    db.session.commit()
    return outcome or "checked", detected


def run_check(site_key=None, force=False, budget=None, max_pages=None, sleep=time.sleep):
    """Check due pages until none is left or the budget (seconds / pages) is spent.

    Returns {"pages": n, "detected": n, "outcomes": {word: n}, "more": bool}.
    """
    cfg = current_app.config
    delay = cfg["FIXED_CHECK_DELAY"]
    deadline = time.monotonic() + budget if budget else None
    summary = {"pages": 0, "detected": 0, "outcomes": {}, "more": False}
    done = set()
    while True:
        due = [pid for pid in _pages_due(site_key, force, 100 + len(done)) if pid not in done]
        if not due:
            break
        for page_id in due:
            if (max_pages is not None and summary["pages"] >= max_pages) or (
                    deadline is not None and time.monotonic() > deadline):
                summary["more"] = True
                break
            if summary["pages"] and delay:
                sleep(delay)  # politeness: one newsroom server, one request at a time, spaced
            outcome, detected = check_page(page_id)
            done.add(page_id)
            summary["detected"] += detected
            summary["pages"] += 1
            summary["outcomes"][outcome] = summary["outcomes"].get(outcome, 0) + 1
        if summary["more"]:
            break
    return summary


@in_app_context
def check_fixed_job():
    """The scheduled job: one bounded slice of the check; hands over if pages remain."""
    cfg = current_app.config
    summary = run_check(budget=cfg["FIXED_CHECK_BUDGET"], max_pages=cfg["FIXED_CHECK_PAGES"])
    if summary["more"]:
        tasks.enqueue(tasks.FIXED_CHECK)
    return summary
