"""Surge mode: an article whose comments suddenly pour in, or turn to spam, is pre-moderated.

A viral article draws bots and brigades faster than moderators can react on a
post-moderated site. When, within the site's window, an article gets at least
`surge_comments` comments, or at least `surge_min_comments` of which a share of
`surge_spam_share` or more went to Spam/Rejected, the article switches to
pre-moderation by itself until `surge_quiet_minutes` pass without a trigger.
Every comment that trips or meets the surge is held with the reason, and the
dashboard lists the articles in surge (`active_surges`).
"""
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Page
from ..models.base import as_utc

DEFAULTS = {
    "surge_comments": 30,  # comments on one article within the window: surge (0: off)
    "surge_window_minutes": 10,
    "surge_spam_share": 0.5,  # share of spam/rejected among them: surge ...
    "surge_min_comments": 10,  # ... once there are at least this many
    "surge_quiet_minutes": 30,  # back to normal after this long without a trigger
}


def check(page, conf, now, counts):
    """Update `page`'s surge state with the comment arriving now. Returns the reason to hold, or None.

    `counts` is (comments, spam/rejected) on the article inside the window before
    this one, earlier comments of the same batch included (judgment.recent).
    """
    if not conf["surge_comments"]:
        return None
    total, junk = counts
    total += 1  # the comment being screened
    trigger = None
    window = conf["surge_window_minutes"]
    if total >= conf["surge_comments"]:
        trigger = f"surge: {total} comments on this article within {window} min"
    elif total >= conf["surge_min_comments"] and junk / total >= conf["surge_spam_share"]:
        trigger = f"surge: {junk} of {total} comments on this article within {window} min were spam or rejected"
    if trigger:
        page.surge_until = now + timedelta(minutes=conf["surge_quiet_minutes"])
        page.surge_reason = trigger[:200]
        return trigger + " (pre-moderated for now)"
    until = as_utc(page.surge_until)
    if until is not None and until > now:
        return f"{page.surge_reason or 'surge'} (pre-moderated until {until:%H:%M} UTC)"
    return None


def active_surges(site_ids, now):
    """Pages in surge on these sites (None: all), newest ending last."""
    # populate_existing: a page already loaded in this request (a comment's page) keeps
    # the values it was read with; on PostgreSQL (read committed) the worker may have
    # started its surge since, and the stale surge_until would be None here.
    query = (sa.select(Page).where(Page.surge_until > now).order_by(Page.surge_until.desc()).limit(50)
             .execution_options(populate_existing=True))
    if site_ids is not None:
        query = query.where(Page.site_id.in_(list(site_ids)))
    return db.session.execute(query).scalars().all()


def end_surge(page):
    page.surge_until = None
    page.surge_reason = None
