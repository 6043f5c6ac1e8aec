"""axe-core on every dashboard page, with items in the queues and the popups open: 0 violations."""
import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, Correction, ReportCluster, Site, User, Webhook

from support.axe import axe_violations, describe
from support.browser import TYPO, sign_in

pytestmark = pytest.mark.browser

# GET routes that are not pages: JSON, a file download, a redirect.
NOT_PAGES = {"dashboard.counts", "dashboard.comments_live", "dashboard.reports_live", "dashboard.export_download",
             "dashboard.home"}


@pytest.fixture
def world(app, live_server, auth, drain, staff):
    client = app.test_client()
    url = live_server + "/demo"
    assert client.post("/api/v1/comments", json={"site": "demo", "url": url, "author": "Анна", "body": "Корень",
                                                 "client_id": "axe-comment-0001"}).status_code == 202
    assert client.post("/api/v1/reports", json={"site": "demo", "url": url, "exact": TYPO, "prefix": "в четверг ",
                                                "suffix": " о начале", "suggestion": "объявил",
                                                "comment": "опечатка", "client_id": "axe-report-0001"}).status_code == 202
    drain()
    with app.app_context():
        root = db.session.execute(sa.select(Comment.id)).scalar_one()
    assert client.post(f"/api/v1/moderation/comments/{root}/approve", headers=staff.headers("moderator")).status_code == 200
    assert client.post("/api/v1/comments", json={"site": "demo", "url": url, "author": "Борис", "body": "Ответ",
                                                 "parent": root, "client_id": "axe-comment-0002"}).status_code == 202
    drain()
    email = auth.create("admin")
    with app.app_context():
        site = db.session.execute(sa.select(Site).where(Site.key == "demo")).scalar_one()
        webhook = Webhook(site_id=site.id, url="http://127.0.0.1:9/hook", events=["cluster.fixed"])
        # The corrections page with one published correction (its Unpublish form).
        correction = Correction(site_id=site.id, page_id=db.session.get(Comment, root).page_id, kind="editor",
                                text="Исправлено", note="Уточнение")
        db.session.add_all([webhook, correction])
        db.session.commit()
        return {
            "email": email, "comment_id": root, "cluster_id": db.session.execute(sa.select(ReportCluster.id)).scalar_one(),
            "site_id": site.id, "webhook_id": webhook.id,
            "user_id": db.session.execute(sa.select(User.id).where(User.email == email)).scalar_one(),
            # The reader panel: the first comment's author (the worker gave them a reader).
            "reader_id": db.session.get(Comment, root).reader_id,
        }


def pages(app, ids):
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("dashboard.") and "GET" in rule.methods and rule.endpoint not in NOT_PAGES:
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<int(max=2147483647):{arg}>", str(ids[arg]))
            found[rule.endpoint] = path
    return found


def test_every_dashboard_page_has_no_axe_violations(app, live_server, new_page, world):
    page = new_page()
    page.goto(live_server + "/dashboard/login")
    failures = {"login, signed out": axe_violations(page)}
    sign_in(page, live_server, world["email"])
    targets = pages(app, world)
    assert "dashboard.conversation" in targets and "dashboard.login" in targets
    for endpoint, path in sorted(targets.items()):
        page.goto(live_server + path)
        failures[path] = axe_violations(page)
    # The queues' popups: the keyboard help and the reason popup, open.
    page.goto(live_server + "/dashboard/comments")
    page.keyboard.press("?")
    failures["comments + help"] = axe_violations(page)
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    page.wait_for_selector("#reason-dialog:not([hidden])")
    failures["comments + reason popup"] = axe_violations(page)
    failures = {path: found for path, found in failures.items() if found}
    assert failures == {}, describe(failures)
    assert page.errors == []
