"""Authorization of every dashboard and moderation-API route, enumerated from `app.url_map`.

Each route is classified below (who may use it, which object its URL names). The test fails
when a route is added without a classification, so a new view cannot skip this check.
For every route: anonymous → redirect to sign-in (dashboard) / 401 (API); a role without the
scope → 403; a user limited to site A naming site B's object → 404; and, as a control that
the checks above can fail, the right user gets past authorization (no 401/403/404).
"""
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import url_for

from moderation.extensions import db
from moderation.models import BlockedCommenter, Comment, Correction, Reader, ReportCluster, Site, TypoReport, User, Webhook

from support.accounts import AuthActions, Staff, make_site
from support.payloads import ORIGIN, comment_payload, report_payload

ROLES = ("admin", "editor", "moderator")
SCOPES = {"admin": {"admin", "reports", "comments"}, "editor": {"reports", "comments"},
          "moderator": {"comments"}}
# Objects that belong to a site: a user limited to other sites must get a 404 for them.
SITE_OBJECTS = {"comment", "cluster", "report", "page", "reader", "reader_key", "correction"}

# endpoint: (scope, object named in the URL). scope: "public" (no sign-in), "signed-in" (any role),
# or the role scope the route needs.
DASHBOARD = {
    "dashboard.login": ("public", None),
    "dashboard.logout": ("signed-in", None),
    "dashboard.set_language": ("signed-in", None),
    "dashboard.home": ("signed-in", None),
    "dashboard.counts": ("signed-in", None),
    "dashboard.audit": ("signed-in", None),
    "dashboard.claim_item": ("comments", "comment"),  # kind=cluster needs "reports": checked below
    "dashboard.stats": ("comments", None),
    "dashboard.comments": ("comments", None),
    "dashboard.comment": ("comments", "comment"),
    "dashboard.comments_live": ("comments", None),
    "dashboard.conversation": ("comments", "comment"),
    "dashboard.comment_action": ("comments", "comment"),
    "dashboard.block_author": ("comments", "comment"),
    "dashboard.reader": ("comments", "reader"),
    "dashboard.reader_action": ("comments", "reader"),
    "dashboard.comments_bulk": ("comments", None),
    "dashboard.reports": ("reports", None),
    "dashboard.report": ("reports", "cluster"),
    "dashboard.reports_live": ("reports", None),
    "dashboard.report_action": ("reports", "cluster"),
    "dashboard.reports_bulk": ("reports", None),
    "dashboard.health": ("admin", None),
    "dashboard.retry_job": ("admin", "job"),
    "dashboard.retry_all": ("admin", None),
    "dashboard.admin_sites": ("admin", None),
    "dashboard.admin_site_new": ("admin", None),
    "dashboard.admin_site_edit": ("admin", "site"),
    "dashboard.admin_site_rotate_key": ("admin", "site"),
    "dashboard.site_screening": ("admin", "site"),
    "dashboard.site_spam_model": ("admin", "site"),
    "dashboard.site_sso": ("admin", "site"),
    "dashboard.site_sso_secret": ("admin", "site"),
    "dashboard.unblock": ("admin", "block"),
    "dashboard.admin_users": ("admin", None),
    "dashboard.admin_user_new": ("admin", None),
    "dashboard.admin_user_edit": ("admin", "user"),
    "dashboard.admin_user_password": ("admin", "user"),
    "dashboard.end_surge": ("comments", "page"),
    "dashboard.erase_author": ("admin", None),  # admins are never limited to sites
    "dashboard.export": ("reports", None),
    "dashboard.export_download": ("reports", None),
    "dashboard.notify_preferences": ("signed-in", None),
    "dashboard.notify_webhooks": ("admin", None),
    "dashboard.notify_webhook_new": ("admin", "site"),
    "dashboard.notify_webhook_edit": ("admin", "webhook"),
    "dashboard.notify_webhook_delete": ("admin", "webhook"),
    "dashboard.notify_webhook_test": ("admin", "webhook"),
    "dashboard.corrections_log": ("reports", None),
    "dashboard.correction_write": ("reports", None),
    "dashboard.correction_unpublish": ("reports", "correction"),
}
API = {
    "moderation_api.list_comments": ("comments", None),
    "moderation_api.approve_comment": ("comments", "comment"),
    "moderation_api.reject_comment": ("comments", "comment"),
    "moderation_api.fix_comment": ("comments", "comment"),
    "moderation_api.spam_comment": ("comments", "comment"),
    "moderation_api.reopen_comment": ("comments", "comment"),
    "moderation_api.feature_comment": ("comments", "comment"),
    "moderation_api.unfeature_comment": ("comments", "comment"),
    "moderation_api.list_corrections": ("reports", None),
    "moderation_api.write_correction": ("reports", None),
    "moderation_api.unpublish_correction": ("reports", "correction"),
    "moderation_api.list_reports": ("reports", None),
    "moderation_api.fix_report": ("reports", "report"),
    "moderation_api.reject_report": ("reports", "report"),
    "moderation_api.list_clusters": ("reports", None),
    "moderation_api.fix_cluster": ("reports", "cluster"),
    "moderation_api.reject_cluster": ("reports", "cluster"),
    "moderation_api.reopen_cluster": ("reports", "cluster"),
    "moderation_api.get_reader": ("comments", "reader_key"),
    "moderation_api.ban_reader": ("comments", "reader_key"),
    "moderation_api.unban_reader": ("comments", "reader_key"),
    "moderation_api.trust_reader": ("comments", "reader_key"),
    "moderation_api.premoderate_reader": ("comments", "reader_key"),
}
# Query strings a GET needs to be a valid request ({site}: the site the objects belong to).
EXTRA_QUERY = {"dashboard.export_download": "?site={site}&what=comments&format=json",
               "dashboard.comments_live": "?after=0", "dashboard.reports_live": "?after=0"}
# URL arguments that are not object ids.
EXTRA_ARGS = {"dashboard.comment_action": {"action": "reject"}, "dashboard.reader_action": {"action": "ban"}, "dashboard.report_action": {"action": "reject"},
              "dashboard.claim_item": {"kind": "comment"}}
ID_ARGS = {"comment_id": "comment", "cluster_id": "cluster", "report_id": "report", "site_id": "site",
           "user_id": "user", "block_id": "block", "job_id": "job", "item_id": "comment", "page_id": "page",
           "webhook_id": "webhook", "reader_id": "reader", "reader_key": "reader_key", "correction_id": "correction"}
# Routes whose right answer for the right user is still a 404 (the object does not exist).
EXPECTED_404 = {"dashboard.retry_job"}  # no failed job with the made-up id


def routes(app, prefix):
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, rule))
    return sorted(found, key=lambda r: (r[0], r[1]))


def test_every_dashboard_and_moderation_route_is_classified(app):
    dashboard = {endpoint for endpoint, _, _ in routes(app, "/dashboard")}
    api = {endpoint for endpoint, _, _ in routes(app, "/api/v1/moderation")}
    assert dashboard - set(DASHBOARD) == set(), "classify these routes in DASHBOARD"
    assert api - set(API) == set(), "classify these routes in API"
    assert set(DASHBOARD) - dashboard == set() and set(API) - api == set(), "stale entries"


# -- the world: two sites, objects on each, users of every role -------------------------------------

@pytest.fixture
def world(app, drain):
    app.config["RATELIMIT_ENABLED"] = False
    site_a = make_site(app, key="site-a", name="A News", allowed_origins=[ORIGIN], moderation_mode="pre",
                        language="en")
    site_b = make_site(app, key="site-b", name="B News", allowed_origins=[ORIGIN], moderation_mode="pre",
                        language="en")
    client = app.test_client()
    for site in (site_a, site_b):
        for make, path in ((comment_payload, "/api/v1/comments"), (report_payload, "/api/v1/reports")):
            response = client.post(path, json=make(site=site.key, url=f"{ORIGIN}/{site.key}/article"))
            assert response.status_code == 202, response.json
    drain()
    objects = {}
    with app.app_context():
        for site in (site_a, site_b):
            comment = db.session.execute(sa.select(Comment).where(Comment.site_id == site.id)).scalar_one()
            report = db.session.execute(sa.select(TypoReport).where(TypoReport.site_id == site.id)).scalar_one()
            cluster = db.session.execute(
                sa.select(ReportCluster).where(ReportCluster.site_id == site.id)).scalar_one()
            block = BlockedCommenter(site_id=site.id, kind="address", value_hash="f" * 64)
            # A receiver nobody listens on: the test-send route fails to deliver, harmlessly.
            webhook = Webhook(site_id=site.id, url="http://127.0.0.1:9/hook", events=["cluster.fixed"])
            reader = Reader(key=f"anon:reader-of-{site.key}", site_id=site.id, kind="anonymous")
            correction = Correction(site_id=site.id, page_id=comment.page_id, kind="editor", text="corrected")
            db.session.add_all([block, webhook, reader, correction])
            db.session.commit()
            objects[site.key] = {"comment": comment.id, "report": report.id, "cluster": cluster.id,
                                 "site": site.id, "block": block.id, "job": "no-such-job",
                                 "page": comment.page_id, "webhook": webhook.id,
                                 "reader": reader.id, "reader_key": reader.key, "correction": correction.id}
    staff, accounts = Staff(app), AuthActions(app, client)
    users = {}
    for role in ROLES:
        for limited in (False, True):
            name = role + ("@a" if limited else "")
            sites = (site_a.id,) if limited else ()
            email = accounts.create(role, site_ids=sites)
            users[name] = SimpleNamespace(email=email, token=staff.token(role, site_ids=sites), client=None)
    target = accounts.create("moderator")  # the account admin routes edit
    with app.app_context():
        target_id = db.session.execute(sa.select(User.id).where(User.email == target)).scalar_one()
    for key in objects:
        objects[key]["user"] = target_id
    return SimpleNamespace(app=app, objects=objects, users=users, site_a=site_a, site_b=site_b)


def signed_in(world, name):
    """A test client signed in as `name` (cached), with its CSRF token."""
    user = world.users[name]
    if user.client is None:
        client = world.app.test_client()
        actions = AuthActions(world.app, client)
        assert actions.login(email=user.email).status_code == 302
        user.client = client
        user.csrf = actions.csrf("/dashboard/audit")
    return user.client, user.csrf


def anonymous_client(world):
    client = world.app.test_client()
    return client, AuthActions(world.app, client).csrf()


def url(world, endpoint, rule, site_key):
    values = dict(EXTRA_ARGS.get(endpoint, {}))
    for arg in rule.arguments:
        if arg in ID_ARGS:
            values[arg] = world.objects[site_key][ID_ARGS[arg]]
    query = EXTRA_QUERY.get(endpoint, "")
    if query:
        with world.app.app_context():  # the key as it is now: an earlier route may have rotated it
            query = query.format(site=db.session.get(Site, world.objects[site_key]["site"]).key)
    with world.app.test_request_context():
        return url_for(endpoint, **values) + query


FORM = {"reason": "checked", "body": "Edited text", "correction": "fixed", "action": "reject",
        "email": "new-user@news.example", "role": "moderator", "password": "a fine long password 1",
        "name": "Some News", "allowed_origins": "https://some.example", "locale": "en"}


def dashboard_call(world, client, csrf, method, path, ids=None):
    if method == "GET":
        return client.get(path)
    data = dict(FORM, csrf_token=csrf)
    if ids is not None:
        data["ids"] = ids
    return client.post(path, data=data)


def api_call(world, token, method, path):
    headers = {"Authorization": "Bearer " + token} if token else {}
    if method == "GET":
        return world.app.test_client().get(path, headers=headers)
    body = {"reason": "checked", "body": "Edited text"}
    if path == "/api/v1/moderation/corrections":  # a correction written by hand names its article
        with world.app.app_context():  # the key as it is now: an earlier route may have rotated it
            key = db.session.get(Site, world.objects["site-a"]["site"]).key
        body.update(site=key, url=f"{ORIGIN}/site-a/article", text="corrected by hand")
    return world.app.test_client().post(path, json=body, headers=headers)


def is_login_redirect(response):
    return response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


# -- anonymous ---------------------------------------------------------------------------------------

def test_anonymous_is_sent_to_sign_in_on_every_dashboard_route(world):
    client, csrf = anonymous_client(world)
    checked = 0
    for endpoint, method, rule in routes(world.app, "/dashboard"):
        if DASHBOARD[endpoint][0] == "public":
            continue
        response = dashboard_call(world, client, csrf, method, url(world, endpoint, rule, "site-a"))
        assert is_login_redirect(response), (endpoint, method, response.status_code)
        checked += 1
    assert checked >= 30
    with world.app.app_context():  # and nothing happened
        assert db.session.get(Comment, world.objects["site-a"]["comment"]).status == "pending"


def test_anonymous_gets_401_on_every_moderation_api_route(world):
    for endpoint, method, rule in routes(world.app, "/api/v1/moderation"):
        path = url(world, endpoint, rule, "site-a")
        for token in (None, "mod_not-a-real-token"):
            response = api_call(world, token, method, path)
            assert response.status_code == 401, (endpoint, token, response.status_code)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


# -- wrong role --------------------------------------------------------------------------------------

def test_a_role_without_the_scope_gets_403_on_every_dashboard_route(world):
    checked = 0
    for endpoint, method, rule in routes(world.app, "/dashboard"):
        scope = DASHBOARD[endpoint][0]
        if scope in ("public", "signed-in"):
            continue
        for role in ROLES:
            if scope in SCOPES[role]:
                continue
            client, csrf = signed_in(world, role)
            response = dashboard_call(world, client, csrf, method, url(world, endpoint, rule, "site-a"))
            assert response.status_code == 403, (endpoint, method, role, response.status_code)
            checked += 1
    assert checked >= 25


def test_a_moderator_may_not_claim_an_error_report(world):
    client, csrf = signed_in(world, "moderator")
    with world.app.test_request_context():
        path = url_for("dashboard.claim_item", kind="cluster", item_id=world.objects["site-a"]["cluster"])
    assert client.post(path, data={"csrf_token": csrf}, headers={"X-CSRFToken": csrf}).status_code == 403


def test_a_role_without_the_scope_gets_403_on_every_api_route(world):
    checked = 0
    for endpoint, method, rule in routes(world.app, "/api/v1/moderation"):
        scope = API[endpoint][0]
        for role in ROLES:
            if scope in SCOPES[role]:
                continue
            response = api_call(world, world.users[role].token, method, url(world, endpoint, rule, "site-a"))
            assert response.status_code == 403, (endpoint, role, response.status_code)
            checked += 1
    assert checked >= 7


# -- another site's object ---------------------------------------------------------------------------

def _limited_user_for(scope):
    return "editor@a" if scope == "reports" else "moderator@a"


def test_another_sites_object_is_404_on_every_dashboard_route(world):
    checked = 0
    for endpoint, method, rule in routes(world.app, "/dashboard"):
        scope, target = DASHBOARD[endpoint]
        if target not in SITE_OBJECTS:
            continue
        for name in {_limited_user_for(scope), "editor@a"}:
            client, csrf = signed_in(world, name)
            response = dashboard_call(world, client, csrf, method, url(world, endpoint, rule, "site-b"))
            assert response.status_code == 404, (endpoint, method, name, response.status_code)
            checked += 1
    assert checked >= 6
    with world.app.app_context():  # and nothing happened to site B's items
        assert db.session.get(Comment, world.objects["site-b"]["comment"]).status == "pending"
        assert db.session.get(ReportCluster, world.objects["site-b"]["cluster"]).status == "new"


def test_another_sites_object_is_404_on_every_api_route(world):
    checked = 0
    for endpoint, method, rule in routes(world.app, "/api/v1/moderation"):
        scope, target = API[endpoint]
        if target not in SITE_OBJECTS:
            continue
        response = api_call(world, world.users[_limited_user_for(scope)].token, method,
                            url(world, endpoint, rule, "site-b"))
        assert response.status_code == 404, (endpoint, response.status_code)
        checked += 1
    assert checked >= 10


def test_bulk_actions_skip_another_sites_items(world):
    for endpoint, kind, name in (("dashboard.comments_bulk", "comment", "moderator@a"),
                                 ("dashboard.reports_bulk", "cluster", "editor@a")):
        client, csrf = signed_in(world, name)
        with world.app.test_request_context():
            path = url_for(endpoint)
        response = dashboard_call(world, client, csrf, "POST", path, ids=[str(world.objects["site-b"][kind])])
        assert response.status_code == 302
    with world.app.app_context():
        assert db.session.get(Comment, world.objects["site-b"]["comment"]).status == "pending"
        assert db.session.get(ReportCluster, world.objects["site-b"]["cluster"]).status == "new"


def test_lists_show_only_the_users_sites(world):
    client, _ = signed_in(world, "editor@a")
    for path, kind in (("/dashboard/comments", "comment"), ("/dashboard/reports", "cluster")):
        html = client.get(path).get_data(as_text=True)
        assert f'data-id="{world.objects["site-a"][kind]}"' in html
        assert f'data-id="{world.objects["site-b"][kind]}"' not in html
    token = world.users["editor@a"].token
    for path, kind in (("/api/v1/moderation/comments", "comment"), ("/api/v1/moderation/clusters", "cluster"),
                       ("/api/v1/moderation/reports", "report")):
        for query in ("", "?site=site-b"):
            ids = {item["id"] for item in api_call(world, token, "GET", path + query).get_json()["items"]}
            assert world.objects["site-b"][kind] not in ids
            if not query:
                assert world.objects["site-a"][kind] in ids


# -- control: the right user gets through --------------------------------------------------------------

def test_the_right_user_gets_past_authorization_everywhere(world):
    """Without this, a route answering 403/404 to everyone would pass the tests above."""
    seen = []
    # Deleting and signing out come last: later routes still need the object and the session.
    ordered = sorted(routes(world.app, "/dashboard"), key=lambda r: (r[0] == "dashboard.logout", r[0].endswith("_delete")))
    for endpoint, method, rule in ordered:
        scope, target = DASHBOARD[endpoint]
        name = _limited_user_for(scope) if target in SITE_OBJECTS else "admin"
        client, csrf = signed_in(world, name)
        response = dashboard_call(world, client, csrf, method, url(world, endpoint, rule, "site-a"))
        # 400 only for a POSTed form the view found invalid (our generic form data), never for CSRF.
        expected = {404} if endpoint in EXPECTED_404 else {200, 302, 400} if method == "POST" else {200, 302}
        assert response.status_code in expected, (endpoint, method, name, response.status_code)
        assert "CSRF" not in response.get_data(as_text=True), endpoint
        if response.status_code == 302 and endpoint != "dashboard.logout":
            assert not is_login_redirect(response), endpoint
        seen.append(endpoint)
    for endpoint, method, rule in routes(world.app, "/api/v1/moderation"):
        scope, target = API[endpoint]
        name = _limited_user_for(scope)
        response = api_call(world, world.users[name].token, method, url(world, endpoint, rule, "site-a"))
        # 409: the item is no longer in a state for that action (an earlier call decided it).
        assert response.status_code in (200, 409), (endpoint, name, response.status_code, response.json)
        seen.append(endpoint)
    assert set(seen) == set(DASHBOARD) | set(API)
