"""Our service the production way: gunicorn + external Redis on loopback + `moderation worker`s.

The benchmark's site allows https://news.example and its rate limits are set so high
(MODERATION_LIMIT_*) that they never answer 429 — the check itself still runs on every POST.
"""
import os
import sys
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from bench.procs import ROOT, free_port, wait_http

SITE_KEY = "bench"
ORIGIN = "https://news.example"
SECRET = "benchmark-only secret, not used anywhere else"
# Limits no benchmark reaches (every wrk request comes from 127.0.0.1: one reader).
HIGH_LIMIT = "1000000000/minute;1000000000/day"


def environment(db_url, redis_url, data_dir):
    env = dict(os.environ)
    env.update(
        MODERATION_ENV="production", SECRET_KEY=SECRET, DATABASE_URL=db_url, REDIS_URL=redis_url,
        MODERATION_DATA_DIR=str(data_dir), MODERATION_LIMIT_REPORTS=HIGH_LIMIT,
        MODERATION_LIMIT_COMMENTS=HIGH_LIMIT, MODERATION_LIMIT_FLAGS=HIGH_LIMIT,
        PYTHONPATH=str(ROOT),
    )
    return env


def make_app(db_url, redis_url, data_dir):
    from moderation import create_app  # noqa: PLC0415

    return create_app({
        "ENV_NAME": "production", "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": db_url,
        "REDIS_URL": redis_url, "DATA_DIR": str(data_dir),
    })


def reader_identity(i):
    """The queued identity of the drain workloads' i-th submission (5,000 anonymous readers, as
    the reader API queues them: identity.edge.Identity.as_payload()), so the drain resolves
    readers, their bans and reader-keyed velocity as in production."""
    return {"sso": None, "anon_key": f"anon:bench-{i % 5000:05d}"}


def article(n):
    return f"{ORIGIN}/2026/11/article-{n}"


def prepare(app, pages):
    """Migrate, create the site and `pages` = [(url, published comment count)]. Returns the site id."""
    from flask_migrate import upgrade  # noqa: PLC0415

    from moderation.extensions import db  # noqa: PLC0415
    from moderation.models import Comment, Page, Site  # noqa: PLC0415
    from moderation.models.sites import url_hash  # noqa: PLC0415

    with app.app_context():
        upgrade()
        site = Site(key=SITE_KEY, name="Bench news", allowed_origins=[ORIGIN], moderation_mode="pre",
                    language="en")
        db.session.add(site)
        db.session.commit()
        start = datetime.now(timezone.utc) - timedelta(days=1)
        for url, count in pages:
            page = Page(site_id=site.id, url=url, url_hash=url_hash(url), title="Bench article", comments_version=1)
            db.session.add(page)
            db.session.flush()
            rows = [{
                "client_id": f"seed-{page.id}-{i}", "site_id": site.id, "page_id": page.id,
                "author": f"Reader {i % 500}", "email": None,
                "body_raw": f"Comment number {i}: a few words about the article.",
                "body_html": f"<p>Comment number {i}: a few words about the article.</p>",
                "status": "approved", "spam_score": 0.01, "spam_reasons": [], "reporter_hash": f"{i % 500:064x}",
                "created_at": start + timedelta(seconds=i),
            } for i in range(count)]
            for first in range(0, len(rows), 5000):
                db.session.execute(sa.insert(Comment), rows[first:first + 5000])
            db.session.commit()
        site_id = site.id
        train_spam_model()
        db.session.remove()
    return site_id


def train_spam_model():
    """A ready spam model, so the drain scores every comment as a newsroom's worker does
    (until a model has seen a few examples of each class, screening skips the step)."""
    from moderation.judgment.spam_model import learn  # noqa: PLC0415

    spam = [f"Cheap pills at www.pills{i}.example, buy now, {i}0% off!" for i in range(20)]
    spam += [f"Earn ${i}00 a day from home, click http://money{i}.example" for i in range(20)]
    ham = [f"The tram line on street {i} was long overdue, thanks for the report." for i in range(20)]
    ham += [f"I disagree with the mayor on point {i}, but the article is fair." for i in range(20)]
    learn([(f"Bot {i}", body, True) for i, body in enumerate(spam)]
          + [(f"Reader {i}", body, False) for i, body in enumerate(ham)])


def start_web(procs, env, workers, name="ours-web"):
    port = free_port()
    proc = procs.start(name, [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                              "--log-level", "warning", "wsgi:app"], env=env)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", proc=proc)
    return base, proc


def start_workers(procs, env, count):
    return [procs.start(f"ours-worker-{n}", [sys.executable, "-m", "moderation", "worker"], env=env)
            for n in range(count)]


def comment_count(app):
    from moderation.extensions import db  # noqa: PLC0415
    from moderation.models import Comment  # noqa: PLC0415

    with app.app_context():
        try:
            return db.session.execute(sa.select(sa.func.count()).select_from(Comment)).scalar_one()
        finally:
            db.session.remove()
