"""The stats page: figures computed from seeded rows, limited to the user's sites."""
import re
import uuid
from collections import Counter
from datetime import datetime, time, timedelta, timezone

from moderation.extensions import db
from moderation.models import AuditEntry, Comment, Page, ReportCluster
from moderation.models.sites import url_hash

from support.accounts import AuthActions

NOW = datetime.now(timezone.utc)
WINDOW_START = datetime.combine(NOW.date() - timedelta(days=29), time(), tzinfo=timezone.utc)


def ago(**delta):
    return NOW - timedelta(**delta)


def _page(site_id):
    url = f"https://news.example/{uuid.uuid4().hex}"
    page = Page(site_id=site_id, url=url, url_hash=url_hash(url), title="Article")
    db.session.add(page)
    db.session.flush()
    return page


def _comment(page, status, created, decided_after=None):
    row = Comment(
        client_id=str(uuid.uuid4()), site_id=page.site_id, page_id=page.id, author="Reader",
        body_raw="text", body_html="<p>text</p>", status=status, created_at=created,
        decided_at=created + decided_after if decided_after is not None else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def _cluster(page, status, first, decided_after=None):
    row = ReportCluster(
        key=uuid.uuid4().hex, site_id=page.site_id, page_id=page.id, exact="typo", status=status,
        report_count=1, first_reported_at=first, last_reported_at=first,
        decided_at=first + decided_after if decided_after is not None else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def _decision(actor, action, site_id, target_type="comment", created=NOW):
    db.session.add(AuditEntry(actor_label=actor, action=action, target_type=target_type, target_id=1,
                              site_id=site_id, created_at=created))


def seed(app, mine, other):
    """Rows on `mine` (the limited user's site) and on `other`. Returns ids and comment times."""
    with app.app_context():
        a, b = _page(mine), _page(other)
        ids = {
            # Inserted first: the oldest pending comment and new cluster overall, but not on `mine`.
            "other_pending": _comment(b, "pending", ago(days=5)).id,
            "other_new": _cluster(b, "new", ago(days=10)).id,
            "pending": _comment(a, "pending", ago(days=1)).id,
            "new": _cluster(a, "new", ago(hours=6)).id,
        }
        _comment(a, "pending", ago(minutes=1))
        _comment(a, "approved", ago(hours=2), timedelta(minutes=10))
        _comment(a, "rejected", ago(hours=3), timedelta(minutes=20))
        _comment(a, "spam", ago(days=3), timedelta(minutes=60))
        _comment(a, "pending", ago(hours=1), timedelta(minutes=30))  # reopened: no decision now
        _comment(a, "approved", ago(days=40), timedelta(minutes=1))  # before the window
        _comment(b, "approved", ago(hours=1), timedelta(minutes=5))
        _cluster(a, "fixed", ago(days=2), timedelta(hours=1))
        _cluster(a, "rejected", ago(days=1), timedelta(hours=3))
        _cluster(b, "fixed", ago(days=2), timedelta(hours=10))
        for action in ("comment.approve", "comment.reject", "comment.spam"):
            _decision("alice@news.example", action, mine)
        _decision("alice@news.example", "report.fix", mine, "cluster")
        _decision("alice@news.example", "job.retry", None, "job")  # not a decision
        _decision("bob@news.example", "comment.approve", mine)
        _decision("bob@news.example", "comment.reopen", mine)  # undoes one: not counted
        _decision("bob@news.example", "comment.approve", other)
        _decision("bob@news.example", "comment.spam", other)
        _decision("carol@news.example", "comment.approve", mine, created=ago(days=40))
        _decision("<b>eve</b>@news.example", "comment.approve", mine)
        created = {
            site: [c.created_at for c in db.session.query(Comment).filter_by(site_id=site)]
            for site in (mine, other)
        }
        db.session.commit()
    return ids, created


def stats_page(app, role="editor", site_ids=()):
    client = app.test_client()
    auth = AuthActions(app, client)
    auth.login(email=auth.create(role, site_ids=site_ids))
    response = client.get("/dashboard/stats")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def median(page, kind):
    found = re.search(rf'data-stat="median-{kind}">([^<]+)<', page)
    return found.group(1).strip() if found else None


def per_day(page):
    rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td>(\d+)</td>(?:<td>(\d+)</td>)?</tr>", page)
    return {day: int(comments) for day, comments, _reports in rows}


def moderators(page):
    table = re.search(r'data-table="moderators">(.*?)</table>', page, re.S).group(1)
    return {row[0]: [int(n) for n in row[1:]] for row in
            (re.findall(r"<td>([^<]*)</td>", tr) for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)) if row}


def oldest_link(page, queue):
    row = re.search(rf'<tr data-queue="{queue}">(.*?)</tr>', page, re.S).group(1)
    found = re.search(r'href="(/dashboard/[a-z]+/\d+)"', row)
    return found.group(1) if found else None


def expected_per_day(times):
    counts = Counter(t.replace(tzinfo=timezone.utc).date().isoformat() for t in times
                     if t.replace(tzinfo=timezone.utc) >= WINDOW_START)
    days = [(NOW.date() - timedelta(days=i)).isoformat() for i in range(29, -1, -1)]
    return {day: counts.get(day, 0) for day in days}


def test_figures_are_limited_to_the_users_sites(app, site, post_site):
    ids, created = seed(app, site.id, post_site.id)
    page = stats_page(app, "editor", site_ids=[site.id])

    assert median(page, "comments") == "20 min"  # 10, 20 and 60 minutes
    assert median(page, "reports") == "2 h 0 min"  # 1 and 3 hours
    assert per_day(page) == expected_per_day(created[site.id])
    assert per_day(page)[ago(days=3).date().isoformat()] == 1
    assert oldest_link(page, "pending") == f"/dashboard/comments/{ids['pending']}"
    assert oldest_link(page, "new") == f"/dashboard/reports/{ids['new']}"
    assert oldest_link(page, "flagged") is None
    assert moderators(page) == {
        "alice@news.example": [3, 1, 4],
        "bob@news.example": [1, 0, 1],
        "&lt;b&gt;eve&lt;/b&gt;@news.example": [1, 0, 1],
    }
    # The chart is drawn from the same figures, and labels are escaped.
    assert f"<title>{ago(days=3).date().isoformat()}: 1</title>" in page
    assert "<b>eve</b>" not in page


def test_a_user_of_every_site_sees_every_site(app, site, post_site):
    ids, created = seed(app, site.id, post_site.id)
    page = stats_page(app, "admin")

    assert median(page, "comments") == "15 min"  # 5, 10, 20 and 60 minutes
    assert median(page, "reports") == "3 h 0 min"  # 1, 3 and 10 hours
    assert per_day(page) == expected_per_day(created[site.id] + created[post_site.id])
    assert oldest_link(page, "pending") == f"/dashboard/comments/{ids['other_pending']}"
    assert oldest_link(page, "new") == f"/dashboard/reports/{ids['other_new']}"
    assert moderators(page)["bob@news.example"] == [3, 0, 3]
    assert "carol@news.example" not in page  # decided before the window


def test_a_moderator_sees_comment_figures_only(app, site, post_site):
    ids, _ = seed(app, site.id, post_site.id)
    page = stats_page(app, "moderator", site_ids=[site.id])

    assert median(page, "comments") == "20 min"
    assert median(page, "reports") is None
    assert 'data-queue="new"' not in page and "/dashboard/reports/" not in page
    assert moderators(page)["alice@news.example"] == [3, 3]  # comments, total
    assert oldest_link(page, "pending") == f"/dashboard/comments/{ids['pending']}"


def test_empty_stats_render(app, site):
    page = stats_page(app, "editor")
    assert median(page, "comments") == "No decisions yet."
    assert set(per_day(page).values()) == {0} and len(per_day(page)) == 30
    assert "Nothing waiting." in page


def test_stats_need_a_signed_in_user(client):
    response = client.get("/dashboard/stats")
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


def test_stats_is_in_the_navigation(app, site):
    assert 'href="/dashboard/stats"' in stats_page(app, "moderator")


def test_day_labels_of_a_chart_never_sit_side_by_side():
    """30 days labelled every 7th: the first and the last labels met ("11-3012-01")."""
    from moderation.dashboard.stats_views import columns, last_days

    days = last_days(datetime(2026, 12, 1).date())
    ticks = [i for i, bar in enumerate(columns([(d, 1) for d in days])["bars"]) if bar["tick"]]
    assert ticks[-1] == len(days) - 1  # today is labelled
    assert min(b - a for a, b in zip(ticks, ticks[1:])) >= 7
