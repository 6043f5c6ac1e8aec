"""Moderators keep working while a real worker stores a burst of comments.

Issue 13: during a 4,000-comment burst on SQLite, 6 moderators acting through the
moderation API got 503 "database unavailable" on 155 of 200 actions and the
dashboard answered 500 on sign-in and on creating a webhook: their transactions
read first and then failed to get the write lock the worker held for a whole
500-comment batch. Here (scaled to run in well under a minute) a real `moderation
worker` process stores BURST comments while MODERATORS threads approve and reject
through the moderation API and an admin signs in to the dashboard, acts on a
comment there and adds webhooks: no answer may be >= 500 (pages included) and every
action must be applied. Readers keep posting until the staff are done, so the worker
is storing throughout however fast it drains. The same test runs on PostgreSQL
(tools/with_postgres.sh), where it found a 500 on the comment queue (a surge started
mid-request, judgment.surge.active_surges).
"""
import re
import threading
import uuid

import pytest
import sqlalchemy as sa

from moderation.auth import create_user
from moderation.extensions import db
from moderation.models import AuditEntry, Comment, Webhook

from support.faults import Processes, flask_sender, post_all, wait_for
from support.payloads import ARTICLE


pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

BURST = 1800
MODERATORS = 6
ACTIONS = 200  # over all moderators, as in the issue
SIGN_INS = 12
PASSWORD = "correct horse battery staple"


def comments(n, tag, site="test-site"):
    return [("comments", {
        "site": site, "url": ARTICLE + f"?p={i % 40}", "title": "Новая трамвайная линия",
        "author": f"Читатель {tag} {i}", "body": f"Комментарий {tag} номер {i}: ждём трамвай {uuid.uuid4().hex[:6]}.",
        "client_id": f"{tag}{i:05d}-{uuid.uuid4().hex[:12]}",
    }) for i in range(n)]


def stored(app):
    with app.app_context():
        n = db.session.execute(
            sa.select(sa.func.count()).select_from(Comment).where(Comment.client_id.like("burst%"))
        ).scalar()
        db.session.remove()
        return n


class Seen:
    """Every answer the staff got, and the actions that were answered 200."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = []
        self.applied = {}  # comment id -> the status the moderator set

    def record(self, status, what):
        with self.lock:
            self.statuses.append((status, what))

    @property
    def server_errors(self):
        return [(s, w) for s, w in self.statuses if s >= 500]


def _csrf(client, path, seen):
    """The form's CSRF token; the page's answer counts as one of the staff's requests."""
    response = client.get(path, follow_redirects=True)
    seen.record(response.status_code, f"page {path}")
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    return found.group(1) if found else ""


def test_moderators_and_sign_ins_get_no_5xx_while_the_worker_stores_a_burst(
        app, make_app, site, staff, drain, tmp_path):
    # Exceptions become the 500 a real server would answer, instead of being raised into the test.
    web = make_app(RATELIMIT_ENABLED=False, PROPAGATE_EXCEPTIONS=False)
    # The comments the moderators decide: stored before the burst, all pending (pre-moderated site).
    targets = comments(ACTIONS + SIGN_INS, "target")
    assert not post_all(flask_sender(web), targets).failed
    drain()
    with app.app_context():
        ids = db.session.execute(
            sa.select(Comment.id).where(Comment.client_id.like("target%")).order_by(Comment.id)
        ).scalars().all()
        admin, _ = create_user(f"admin-{uuid.uuid4().hex[:6]}@news.example", "admin", PASSWORD)
        admin_email = admin.email
        db.session.commit()
    assert len(ids) == ACTIONS + SIGN_INS
    api_ids, dashboard_ids = ids[:ACTIONS], ids[ACTIONS:]
    tokens = [staff.token("moderator") for _ in range(MODERATORS)]

    burst = comments(BURST, "burst")
    assert not post_all(flask_sender(web), burst).failed  # all waiting in the inbox
    seen = Seen()
    start = threading.Event()

    def moderator(token, mine):
        client = web.test_client()
        headers = {"Authorization": "Bearer " + token}
        start.wait()
        for n, comment_id in enumerate(mine):
            action = ("approve", "reject", "spam")[n % 3]
            response = client.post(f"/api/v1/moderation/comments/{comment_id}/{action}", headers=headers,
                                   json={"reason": "burst test"} if action != "approve" else None)
            seen.record(response.status_code, f"api {action} {comment_id}")
            if response.status_code == 200:
                with seen.lock:
                    seen.applied[comment_id] = {"approve": "approved", "reject": "rejected", "spam": "spam"}[action]

    def admin_in_dashboard():
        start.wait()
        for n, comment_id in enumerate(dashboard_ids):
            client = web.test_client()
            response = client.post("/dashboard/login", data={
                "email": admin_email, "password": PASSWORD, "csrf_token": _csrf(client, "/dashboard/login", seen)})
            seen.record(response.status_code, "sign-in")
            if response.status_code != 302:
                continue
            token = _csrf(client, "/dashboard/comments", seen)
            response = client.post(f"/dashboard/comments/{comment_id}/approve", data={"csrf_token": token})
            seen.record(response.status_code, f"dashboard approve {comment_id}")
            if response.status_code == 302:
                with seen.lock:
                    seen.applied[comment_id] = "approved"
            if n % 3 == 0:
                new = f"/dashboard/admin/sites/{site.id}/webhooks/new"
                response = client.post(new, data={
                    "csrf_token": _csrf(client, new, seen), "url": f"https://93.184.216.34/hook/{n}",  # public: the form refuses names that do not resolve
                    "events": ["cluster.fixed"], "format": "json", "active": "1"})
                seen.record(response.status_code, "webhook create")

    share = ACTIONS // MODERATORS + 1
    threads = [threading.Thread(target=moderator, args=(tokens[i], api_ids[i * share:(i + 1) * share]), daemon=True)
               for i in range(MODERATORS)]
    threads.append(threading.Thread(target=admin_in_dashboard, daemon=True))
    for thread in threads:
        thread.start()

    # Comments keep arriving while the staff act, as in a real burst: the worker has work
    # for the whole time however fast it drains (PostgreSQL stores the first BURST in
    # seconds). They are counted in `arrived`.
    arrived = []

    def readers():
        start.wait()
        n = 0
        while any(thread.is_alive() for thread in threads):
            more = comments(100, f"burst{n:03d}-")
            assert not post_all(flask_sender(web), more, threads=2).failed
            arrived.extend(more)
            n += 1

    producer = threading.Thread(target=readers, daemon=True)
    producer.start()

    procs = Processes(app, tmp_path / "logs")
    try:
        worker = procs.worker("worker-1")
        # The staff act from the moment the worker is storing the burst.
        wait_for(lambda: stored(app) > 0, 90, "the worker stores the burst", interval=0.05)
        start.set()
        stored_at_start = stored(app)
        for thread in threads:
            thread.join(180)
        assert not any(thread.is_alive() for thread in threads)
        stored_at_end = stored(app)
        producer.join(60)
        assert not producer.is_alive()
        total = BURST + len(arrived)
        wait_for(lambda: stored(app) >= total, 180, "the whole burst is stored", interval=0.1)
        log = procs.log(worker)
    finally:
        start.set()
        procs.stop_all()

    assert not seen.server_errors, (
        f"{len(seen.server_errors)} of {len(seen.statuses)} staff requests answered >= 500: {seen.server_errors[:5]}")
    assert {s for s, _ in seen.statuses} <= {200, 302}, sorted({s for s, _ in seen.statuses})
    # The load really overlapped the burst: the worker committed stored comments while the
    # staff acted (how many depends on the machine's load: 70 at load 10, 500 when idle).
    assert stored_at_end > stored_at_start, (stored_at_start, stored_at_end)
    assert len(seen.applied) == ACTIONS + SIGN_INS
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(Comment.id, Comment.status).where(Comment.id.in_(ids))).all())
        assert statuses == seen.applied
        audited = db.session.execute(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.target_id.in_(ids),
                                                                     AuditEntry.target_type == "comment")
        ).scalar()
        assert audited == ACTIONS + SIGN_INS  # each action once, none doubled by a retry
        assert db.session.execute(sa.select(sa.func.count()).select_from(Webhook)).scalar() == len(
            range(0, SIGN_INS, 3))
        assert db.session.execute(
            sa.select(sa.func.count()).select_from(Comment).where(Comment.client_id.like("burst%"))
        ).scalar() == total
        db.session.remove()
    assert "Traceback" not in log
