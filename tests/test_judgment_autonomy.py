"""Earned autonomy: the spam model sends comments to Spam by itself only where it has proved itself."""
import sqlalchemy as sa

from moderation.extensions import db
from moderation.jobs.learning import INBOX_KEY, RETRAIN_QUEUED_KEY, learn_from_decisions
from moderation.judgment import autonomy
from moderation.judgment.screening import MODEL_SPAM
from moderation.judgment.spam_model import record_examples, retrain
from moderation.models import AuditEntry, Comment, Page, SpamExample, SpamSiteState
from moderation.models.sites import url_hash

from support.payloads import ORIGIN, comment_payload

SPAM = ("Promo{n}", "Check out my channel http://views{n}.example and subscribe!!! Free money {n}")
HAM = ("Reader{n}", "The tram line on street {n} should have opened years ago, said my neighbour.")
SPAMMY = "Check out my channel and subscribe for free money, views views views"


def decisions(app, site_id, count):
    """`count` decided comments on the site (half spam), recorded as examples, then one retrain."""
    with app.app_context():
        page = Page(site_id=site_id, url=f"{ORIGIN}/old", url_hash=url_hash(f"{ORIGIN}/old"))
        db.session.add(page)
        db.session.flush()
        rows = []
        for n in range(count):
            author, body = (SPAM if n % 2 else HAM)
            rows.append(Comment(client_id=f"decided-{n:05d}", site_id=site_id, page_id=page.id,
                                author=author.format(n=n), body_raw=body.format(n=n), body_html="<p>x</p>",
                                status="spam" if n % 2 else "approved"))
        db.session.add_all(rows)
        db.session.flush()
        record_examples({row.id: row.status == "spam" for row in rows})
        db.session.commit()
        assert retrain() is not None
        return db.session.get(SpamSiteState, site_id)


def screen_spammy(app, client, drain, n=0):
    payload = comment_payload(site="post-site", body=SPAMMY, author=f"Grow Views {n}",
                              url=f"{ORIGIN}/fresh/{n}")
    assert client.post("/api/v1/comments", json=payload,
                       environ_base={"REMOTE_ADDR": f"10.9.0.{n + 1}"}).status_code == 202
    drain()
    with app.app_context():
        row = db.session.execute(sa.select(Comment).where(Comment.client_id == payload["client_id"])).scalar_one()
        return row.status, list(row.spam_reasons), row.spam_score


def test_the_lower_bound_needs_many_examples():
    assert autonomy.wilson_lower(100, 100) < autonomy.TARGET  # no mistake in 100 is not proof yet
    assert autonomy.wilson_lower(133, 133) >= autonomy.TARGET
    assert autonomy.wilson_lower(200, 205) < autonomy.TARGET
    # [threshold, spam above, harmless above, spam measured, harmless measured]
    curve = [[0.5, 300, 9, 320, 400], [0.9, 250, 1, 320, 400], [0.99, 50, 0, 320, 400]]
    assert autonomy.earned_threshold(curve)[0] == 0.9
    assert autonomy.earned_threshold(curve, floor=0.95) is None  # 50 of 320 spam at 0.99: too few caught
    # A spam-heavy past proves little about harmless comments: 300 of 320 spam caught and no
    # harmless one hit, but only 80 harmless ones measured.
    assert autonomy.proven_precision(300, 0, 320, 80) < autonomy.TARGET
    assert autonomy.proven_precision(300, 0, 320, 250) >= autonomy.TARGET


def test_the_model_only_holds_before_it_has_earned_auto_spam(app, client, post_site, drain):
    # 150 decisions: still learning; a comment it rates as spam is held, never binned.
    state = decisions(app, post_site.id, 150)
    assert state.decisions == 150 and state.evaluated == 0
    status, reasons, score = screen_spammy(app, client, drain)
    assert score is not None and score >= 0.5
    assert status == "pending" and not any(r.startswith(MODEL_SPAM) for r in reasons)
    with app.app_context():
        words = autonomy.describe(db.session.get(SpamSiteState, post_site.id), 150)
    assert words["mode"] == "learning" and words["text"].startswith("learning: 150 of 200 decisions")


def test_enough_decisions_but_not_enough_proof_still_only_holds(app, client, post_site, drain):
    # 240 clean decisions, 120 of them spam: even with no mistake the bound stays below 0.98.
    state = decisions(app, post_site.id, 240)
    assert state.evaluated == 240 and autonomy.auto_spam_threshold(state) is None
    status, reasons, _ = screen_spammy(app, client, drain)
    assert status == "pending" and not any(r.startswith(MODEL_SPAM) for r in reasons)


def test_the_model_auto_spams_once_earned_and_an_admin_can_switch_it_off(app, client, auth, post_site, drain):
    state = decisions(app, post_site.id, 400)
    assert state.evaluated == 400
    threshold = autonomy.auto_spam_threshold(state, 0.8)
    assert threshold is not None
    status, reasons, score = screen_spammy(app, client, drain)
    assert status == "spam" and score >= threshold
    assert any(r.startswith(f"{MODEL_SPAM}, score") and "precise on this site's last 400 decisions" in r
               for r in reasons), reasons

    auth.login(role="admin")
    path = f"/dashboard/admin/sites/{post_site.id}/screening"
    page = client.get(path).get_data(as_text=True)
    assert "auto-spam on:" in page and "precise on your last 400 decisions" in page
    off = f"/dashboard/admin/sites/{post_site.id}/spam-model"
    assert client.post(off, data={"auto_spam": "off"}).status_code == 400  # no CSRF token
    assert client.post(off, data={"auto_spam": "off", "csrf_token": auth.csrf(path)}).status_code == 302
    assert "auto-spam switched off by an admin" in client.get(path).get_data(as_text=True)
    with app.app_context():
        entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "site.spam_model")).scalar_one()
        assert (entry.before, entry.after) == ({"auto_spam": "on"}, {"auto_spam": "off"})
    status, reasons, _ = screen_spammy(app, client, drain, n=1)
    assert status == "pending"


def test_the_model_state_page_renders_for_a_new_site(app, client, auth, site):
    auth.login(role="admin")
    page = client.get(f"/dashboard/admin/sites/{site.id}/screening")
    assert page.status_code == 200
    assert "learning: 0 of 200 decisions" in page.get_data(as_text=True)


def test_not_spam_from_the_spam_queue_is_learned_harder_and_pauses_auto_spam(app, client, post_site, drain, staff):
    decisions(app, post_site.id, 400)
    status, reasons, _ = screen_spammy(app, client, drain)
    assert status == "spam"
    with app.app_context():
        comment_id = db.session.execute(
            sa.select(Comment.id).where(Comment.status == "spam", Comment.client_id.notlike("decided-%"))
        ).scalar_one()
    headers = staff.headers("moderator")
    assert client.post(f"/api/v1/moderation/comments/{comment_id}/approve", headers=headers).status_code == 200
    with app.app_context():
        assert app.broker.redis.lrange(INBOX_KEY, 0, -1) == [f"{comment_id}:5.0".encode()]
        # What the learning job does with it, step by step: learned at weight 5, and auto-spam
        # pauses on the site (the model was wrong) until a retrain measures again.
        app.broker.redis.delete(INBOX_KEY)
        learn_from_decisions([comment_id], {comment_id: 5.0})
        example = db.session.execute(sa.select(SpamExample).where(SpamExample.comment_id == comment_id)).scalar_one()
        assert example.is_spam is False and example.weight == 5.0
        state = db.session.get(SpamSiteState, post_site.id)
        assert state.paused_at is not None and autonomy.auto_spam_threshold(state) is None
        assert autonomy.describe(state, 401)["mode"] == "paused"
        assert app.broker.redis.exists(RETRAIN_QUEUED_KEY)
    drain()  # the retrain it queued
    with app.app_context():
        state = db.session.get(SpamSiteState, post_site.id)
        assert state.paused_at is None and state.decisions == 401
