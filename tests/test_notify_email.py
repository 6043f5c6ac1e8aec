"""Staff and reader e-mail through a real SMTP server (aiosmtpd on a free loopback port)."""
import re
from datetime import timedelta

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, ReportCluster, Site, User
from moderation.models.base import utcnow
from moderation.models.notifications import NotificationPreference, ReaderSubscription

from support.payloads import comment_payload, report_payload

API = "/api/v1/moderation"


def set_mode(app, email, mode, locale=None, last_digest_at=None):
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one()
        user.locale = locale
        db.session.add(NotificationPreference(user_id=user.id, email_mode=mode, last_digest_at=last_digest_at))
        db.session.commit()
        return user.id


def link(text, path):
    match = re.search(r"http://localhost(/notify/" + path + r"/[\w.\-]+)", text)
    assert match, text
    return match.group(1)


def test_immediate_mail_per_role_site_and_language_with_one_click_unsubscribe(app, client, auth, site, post_site, smtp,
                                                                               drain):
    editor = auth.create("editor", email="editor@news.example")
    moderator = auth.create("moderator", email="moderator@news.example")
    elsewhere = auth.create("editor", email="other@news.example", site_ids=[post_site.id])
    quiet = auth.create("editor", email="quiet@news.example")
    editor_id = set_mode(app, editor, "immediate", locale="en")
    set_mode(app, moderator, "immediate", locale="ru")
    set_mode(app, elsewhere, "immediate")
    set_mode(app, quiet, "daily")
    client.post("/api/v1/reports", json=report_payload())
    client.post("/api/v1/comments", json=comment_payload(body="Когда запустят <линию>?"))
    drain()
    assert smtp.to(elsewhere) == [] and smtp.to(quiet) == []  # other site; digest only
    assert [m["Subject"] for m in smtp.to(moderator)] == ["Комментарии ждут модерации: 1"]  # no reports scope
    subjects = sorted(m["Subject"] for m in smtp.to(editor))
    assert subjects == ["Comments awaiting moderation: 1", "New error reports: 1"]
    ru = smtp.to(moderator)[0]
    assert ru["Content-Language"] == "ru" and ru["From"] == "newsroom@news.example"
    body = ru.get_content()
    assert "Когда запустят <линию>?" in body and "http://localhost/dashboard/comments" in body
    en = [m for m in smtp.to(editor) if "error" in m["Subject"]][0]
    assert en["Content-Language"] == "en" and en["Auto-Submitted"] == "auto-generated"
    assert "«обьявил»" not in en.get_content() and '"обьявил" (1 reader)' in en.get_content()
    assert en["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = link(en["List-Unsubscribe"], "unsubscribe")
    assert path in en.get_content()
    # One click, no login: GET shows a button (link scanners change nothing), POST unsubscribes.
    page = client.get(path)
    assert page.status_code == 200 and "<form" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(NotificationPreference, editor_id).email_mode == "immediate"
    assert client.post(path).status_code == 200  # no CSRF token: what a mail client sends
    with app.app_context():
        assert db.session.get(NotificationPreference, editor_id).email_mode == "off"
    assert client.post(path[:-3] + "xyz").status_code == 404  # forged token
    client.post("/api/v1/comments", json=comment_payload(body="ещё один"))
    drain()
    assert len(smtp.to(editor)) == 2 and len(smtp.to(moderator)) == 2


def test_no_mail_for_what_was_handled_before_the_job_ran_and_none_without_smtp(app, client, auth, site, drain):
    editor = auth.create("editor", email="editor@news.example")
    set_mode(app, editor, "immediate")
    client.post("/api/v1/comments", json=comment_payload())
    drain()  # SMTP_HOST unset: logged, the job succeeds, nothing raised
    assert app.broker.queue.failed_job_registry.count == 0


def test_hourly_digest_from_the_worker_maintenance_loop(app, client, auth, site, smtp, drain):
    from moderation.redis_keys import DIGEST_CHECK_SCHEDULED as DIGEST_LOCK
    from moderation.tasks import schedule

    editor = auth.create("editor", email="digest@news.example")
    user_id = set_mode(app, editor, "hourly", locale="ru", last_digest_at=utcnow() - timedelta(hours=2))
    fresh = auth.create("moderator", email="fresh@news.example")
    set_mode(app, fresh, "daily")  # no window yet: the first check starts it
    app.broker.redis.set(DIGEST_LOCK, "1", ex=60)  # as if another worker had just checked
    client.post("/api/v1/reports", json=report_payload())
    client.post("/api/v1/comments", json=comment_payload())
    drain()
    assert smtp.messages == []  # digest users get no immediate mail
    app.broker.redis.delete(DIGEST_LOCK)
    drain()  # the worker's maintenance step queues the check, the worker runs it
    assert len(smtp.messages) == 1
    assert schedule(app, "digests") is None  # N workers, one check per interval
    digest = smtp.to(editor)[0]
    assert digest["Subject"] == "Сводка за час: ошибок — 1, комментариев — 1"
    assert "List-Unsubscribe" in digest and "обьявил" in digest.get_content()
    with app.app_context():
        pref = db.session.get(NotificationPreference, user_id)
        assert utcnow() - pref.last_digest_at.replace(tzinfo=utcnow().tzinfo) < timedelta(minutes=5)
        assert db.session.execute(sa.select(NotificationPreference.last_digest_at).join(User).where(
            User.email == fresh)).scalar_one() is not None
    app.broker.redis.delete(DIGEST_LOCK)
    assert schedule(app, "digests") is not None
    drain()
    assert len(smtp.messages) == 1  # not due again for an hour


def test_preferences_page(app, client, auth, site):
    auth.login(role="moderator")
    page = client.get("/dashboard/notifications")
    assert page.status_code == 200 and 'value="daily"' in page.get_data(as_text=True)
    token = auth.csrf("/dashboard/notifications")
    assert client.post("/dashboard/notifications", data={"email_mode": "daily"}).status_code == 400  # no CSRF
    assert client.post("/dashboard/notifications", data={"csrf_token": token, "email_mode": "weekly"}).status_code == 400
    assert client.post("/dashboard/notifications", data={"csrf_token": token, "email_mode": "daily"}).status_code == 302
    with app.app_context():
        pref = db.session.execute(sa.select(NotificationPreference)).scalar_one()
        assert pref.email_mode == "daily" and pref.last_digest_at is not None


# -- readers ------------------------------------------------------------------------------------

def test_reader_confirms_then_hears_when_the_error_is_fixed(app, client, site, staff, smtp, drain):
    assert client.post("/api/v1/reports", json=report_payload(notify_email="bad")).status_code == 400
    assert client.post("/api/v1/reports", json=report_payload(notify_email="reader@mail.example")).status_code == 202
    drain()
    assert len(smtp.messages) == 1  # only the confirmation
    confirm = smtp.messages[0]
    assert confirm["To"] == "reader@mail.example" and confirm["Content-Language"] == "ru"  # the site's language
    assert confirm["Subject"].startswith("Подтвердите")
    confirm_path = link(confirm.get_content(), "confirm")
    with app.app_context():
        cluster_id = db.session.execute(sa.select(ReportCluster.id)).scalar_one()
    headers = staff.headers("editor")
    # Fixed before the reader confirmed: nothing is sent.
    client.post(f"{API}/clusters/{cluster_id}/fix", json={"correction": "объявил"}, headers=headers)
    drain()
    assert len(smtp.messages) == 1
    client.post(f"{API}/clusters/{cluster_id}/reopen", headers=headers)
    assert client.get(confirm_path).status_code == 200
    assert client.post(confirm_path).status_code == 200
    client.post(f"{API}/clusters/{cluster_id}/fix", json={"correction": "объявил"}, headers=headers)
    drain()
    fixed = smtp.messages[-1]
    assert len(smtp.messages) == 2 and fixed["Subject"].startswith("Исправлено")
    assert "«обьявил» → «объявил»" in fixed.get_content()
    assert client.post(link(fixed["List-Unsubscribe"], "unsubscribe")).status_code == 200
    with app.app_context():
        assert db.session.execute(sa.select(ReaderSubscription)).scalar_one().unsubscribed_at is not None


def test_reply_mail_only_for_approved_replies(app, client, post_site, staff, smtp, drain):
    first = comment_payload(site="post-site", notify_email="asker@mail.example", email="asker@mail.example")
    client.post("/api/v1/comments", json=first)
    drain()
    confirm = smtp.to("asker@mail.example")[0]
    assert confirm["Content-Language"] == "en" and "replies" in confirm["Subject"]
    client.post(link(confirm.get_content(), "confirm"))
    with app.app_context():
        parent_id = db.session.execute(sa.select(Comment.id)).scalar_one()
        # Hold replies for a moderator on this post-moderated site.
        db.session.get(Site, post_site.id).settings = {"suspect_words": ["реклама"]}
        db.session.commit()
    reply = comment_payload(site="post-site", parent=parent_id, author="Bob", body="реклама: купите слона")
    client.post("/api/v1/comments", json=reply)
    drain()
    with app.app_context():
        reply_row = db.session.execute(sa.select(Comment).where(Comment.client_id == reply["client_id"])).scalar_one()
        assert reply_row.status == "pending"
    assert len(smtp.messages) == 1  # never mail about an unapproved comment
    headers = staff.headers("moderator")
    client.post(f"{API}/comments/{reply_row.id}/approve", headers=headers)
    drain()
    assert len(smtp.messages) == 2
    mail = smtp.messages[-1]
    assert mail["Subject"] == "New reply to your comment on Open News"
    assert "Bob replied" in mail.get_content() and "купите слона" in mail.get_content()


def test_one_confirmation_mail_a_day_per_address_and_one_link_confirms_all(app, client, site, smtp, drain):
    for exact in ("обьявил", "трамвайй", "линнию"):
        payload = report_payload(exact=exact, suggestion=None, notify_email="Victim@mail.example")
        assert client.post("/api/v1/reports", json=payload).status_code == 202
        drain()
    assert len(smtp.messages) == 1  # not three: the field cannot flood an inbox
    client.post(link(smtp.messages[0].get_content(), "confirm"))
    with app.app_context():
        subs = db.session.execute(sa.select(ReaderSubscription)).scalars().all()
        assert len(subs) == 3 and all(s.confirmed_at for s in subs)


def test_bad_tokens_are_404_and_change_nothing(app, client, site):
    for path in ("/notify/unsubscribe/garbage", "/notify/confirm/garbage", "/notify/unsubscribe/WyJ4IiwxXQ.x"):
        assert client.get(path).status_code == 404
        assert client.post(path).status_code == 404
    with app.test_request_context():
        from moderation.notify.mail import confirm_token, unsubscribe_token

        # A valid unsubscribe token is not a valid confirmation token (separate salts).
        assert client.post("/notify/confirm/" + unsubscribe_token("reader", 1)).status_code == 404
        assert client.get("/notify/unsubscribe/" + confirm_token(1)).status_code == 404


def test_a_kazakh_moderator_gets_kazakh_mail(app, client, auth, site, smtp, drain):
    moderator = auth.create("moderator", email="kk-moderator@news.example")
    set_mode(app, moderator, "immediate", locale="kk")
    client.post("/api/v1/comments", json=comment_payload(body="Жол қашан жөнделеді?"))
    drain()
    [mail] = smtp.to(moderator)
    assert mail["Content-Language"] == "kk"
    assert mail["Subject"] == "Модерацияны күтіп тұрған пікірлер: 1"
    assert "Жол қашан жөнделеді?" in mail.get_content() and "Мақұлдау: http" in mail.get_content()


def test_every_mail_language_has_every_template_with_the_same_fields():
    """A language's templates are a translated copy: the same files, the same {{ fields }}."""
    import re  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from moderation.notify.mail import MAIL_LANGUAGES  # noqa: PLC0415

    root = Path(__file__).resolve().parent.parent / "templates" / "email"
    names = {p.name for p in (root / "en").glob("*.txt")}
    fields = re.compile(r"{{\s*([a-z_][a-z_.]*)")
    for lang in MAIL_LANGUAGES:
        assert {p.name for p in (root / lang).glob("*.txt")} == names, lang
        for name in names:
            assert set(fields.findall((root / lang / name).read_text())) == \
                set(fields.findall((root / "en" / name).read_text())), (lang, name)
