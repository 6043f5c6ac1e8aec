"""The audit log page: site scoping per user, filters, newest-first keyset pagination."""
import html
import re
from datetime import datetime, timezone

import pytest

from moderation.extensions import db
from moderation.models import AuditEntry

AUDIT = "/dashboard/audit"


def seed(app, count=1, **fields):
    """Audit rows straight into the database; returns their ids (oldest first)."""
    values = dict(actor_label="mod@news.example", action="comment.approve", target_type="comment",
                  target_id=1, before={"status": "pending"}, after={"status": "approved"})
    values.update(fields)
    with app.app_context():
        rows = [AuditEntry(**values) for _ in range(count)]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def shown(response):
    """Ids of the entries on the page, in page order."""
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'data-entry="(\d+)"', response.get_data(as_text=True))]


def test_every_role_can_open_the_audit_log(app, client, auth, site):
    [entry] = seed(app, site_id=site.id, reason="Off-topic")
    for role in ("moderator", "editor", "admin"):
        assert auth.login(role=role).status_code == 302
        response = client.get(AUDIT)
        assert shown(response) == [entry]
        page = html.unescape(response.get_data(as_text=True))
        assert "comment.approve" in page and "pending → approved" in page and "Off-topic" in page
        assert "Test News" in page  # the site's name
        assert 'href="/dashboard/audit" aria-current="page"' in page
        auth.logout()


def test_site_limited_user_sees_only_their_sites_entries(app, client, auth, site, post_site):
    mine = seed(app, 2, site_id=site.id)
    theirs = seed(app, 2, site_id=post_site.id)
    siteless = seed(app, target_type="user", action="user.create", before=None, after={"role": "editor"})

    assert auth.login(auth.create("moderator", site_ids=[site.id])).status_code == 302
    assert shown(client.get(AUDIT)) == mine[::-1]
    # Filters and paging cannot reach past the scope either.
    assert shown(client.get(AUDIT, query_string={"before": theirs[-1] + 10})) == mine[::-1]
    assert shown(client.get(AUDIT, query_string={"action": "user.create"})) == []
    auth.logout()

    assert auth.login(auth.create("editor", site_ids=[site.id, post_site.id])).status_code == 302
    assert shown(client.get(AUDIT)) == (mine + theirs)[::-1]
    auth.logout()

    assert auth.login(auth.create("editor")).status_code == 302  # no sites listed: every site
    assert shown(client.get(AUDIT)) == (mine + theirs + siteless)[::-1]


def test_admin_changes_appear_in_the_log(app, client, auth, site):
    email = auth.create("admin")
    auth.login(email)
    token = auth.csrf(f"/dashboard/admin/sites/{site.id}")
    assert client.post(f"/dashboard/admin/sites/{site.id}/rotate-key", data={"csrf_token": token}).status_code == 302
    page = html.unescape(client.get(AUDIT).get_data(as_text=True))
    assert "site.rotate_key" in page and email in page and "test-site → " in page
    assert f'href="/dashboard/admin/sites/{site.id}"' in page


@pytest.mark.parametrize("query, expected", [
    ({"user": "ANNA@news.example "}, "anna"),
    ({"action": "comment.reject"}, "rejected"),
    ({"since": "2026-03-01"}, "march_and_later"),
    ({"until": "2026-02-28"}, "february"),
    ({"since": "2026-03-01", "until": "2026-03-01"}, "march_first"),
    ({"user": "anna@news.example", "action": "comment.approve"}, "nothing"),
    ({"since": "not a date", "before": "x"}, "all"),  # ignored, not an error
    ({"before": "9" * 30}, "all"),  # beyond any id: everything, not a database error
])
def test_filters(app, client, auth, site, query, expected):
    def at(day, hour=12):
        return datetime(2026, *day, hour, tzinfo=timezone.utc)

    ids = {
        "feb": seed(app, site_id=site.id, actor_label="bob@news.example", created_at=at((2, 28), 23))[0],
        "mar1": seed(app, site_id=site.id, actor_label="anna@news.example", action="comment.reject",
                     created_at=at((3, 1), 0))[0],
        "mar2": seed(app, site_id=site.id, actor_label="bob@news.example", created_at=at((3, 2)))[0],
    }
    wanted = {
        "anna": ["mar1"], "rejected": ["mar1"], "march_and_later": ["mar2", "mar1"], "february": ["feb"],
        "march_first": ["mar1"], "nothing": [], "all": ["mar2", "mar1", "feb"],
    }[expected]
    assert auth.login(role="editor").status_code == 302
    assert shown(client.get(AUDIT, query_string=query)) == [ids[k] for k in wanted]


def test_keyset_pagination_newest_first(app, client, auth, site):
    ids = seed(app, 205, site_id=site.id)
    seed(app, 3, site_id=site.id, action="comment.spam")  # filtered out below
    assert auth.login(role="moderator").status_code == 302

    pages, url = [], AUDIT + "?action=comment.approve"
    while url:
        response = client.get(url)
        pages.append(shown(response))
        more = re.search(r'class="more" href="([^"]+)"', response.get_data(as_text=True))
        url = html.unescape(more.group(1)) if more else None
        if url:
            assert "action=comment.approve" in url  # filters survive paging
    assert [len(p) for p in pages] == [100, 100, 5]
    assert [i for page in pages for i in page] == ids[::-1]
    assert shown(client.get(AUDIT, query_string={"before": ids[100]})) == ids[:100][::-1]


def test_user_data_is_escaped(app, client, auth, site):
    seed(app, site_id=site.id, actor_label="<b>x</b>@news.example", reason="<script>alert(1)</script>",
         action="comment.fix", before={"body": "<img src=x onerror=alert(1)>"}, after={"body": "fine"})
    assert auth.login(role="editor").status_code == 302
    raw = client.get(AUDIT).get_data(as_text=True)
    assert "<script>alert(1)" not in raw and "<img src=x" not in raw and "<b>x</b>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw and "&lt;img src=x onerror=alert(1)&gt;" in raw


def test_audit_log_requires_sign_in(client):
    response = client.get(AUDIT)
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]
