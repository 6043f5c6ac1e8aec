"""`moderation export` and the dashboard download: JSON and CSV that read back to what the database holds."""
import csv
import re
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Comment, Page, Site, TypoReport
from moderation.models.base import isoformat
from moderation.models.sites import url_hash
from moderation.porting.export import COLUMNS

DISQUS = Path(__file__).parent / "fixtures" / "disqus_export.xml"
HOSTILE_BODY = '=HYPERLINK("https://evil.example","click")'


@pytest.fixture
def data(app, runner, site):
    """Imported Disqus comments, a hostile comment, a report and audit entries on `site`;
    one comment, report and entry on another site that must never leak into its export."""
    assert runner.invoke(args=["import", "disqus", str(DISQUS), "--site", site.key]).exit_code == 0
    with app.app_context():
        other = Site(key="other-site", name="Other", allowed_origins=["https://other.example"])
        db.session.add(other)
        db.session.flush()
        pages = {}
        for site_id, url in ((site.id, "https://news.example/2020/01/x"), (other.id, "https://other.example/y")):
            pages[site_id] = Page(site_id=site_id, url=url, url_hash=url_hash(url), title="Page")
            db.session.add(pages[site_id])
        db.session.flush()
        when = datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
        for site_id, author in ((site.id, "@evil"), (other.id, "Elsewhere")):
            db.session.add(Comment(
                client_id=f"c-{site_id}", site_id=site_id, page_id=pages[site_id].id, author=author,
                email="-x@reader.example", body_raw=HOSTILE_BODY, body_html="<p>x</p>", status="pending",
                spam_reasons=["link"], created_at=when,
            ))
            db.session.add(TypoReport(
                client_id=f"r-{site_id}", site_id=site_id, page_id=pages[site_id].id, exact="teh",
                suggestion="+the", kind="typo", status="new", created_at=when,
            ))
            db.session.add(AuditEntry(
                actor_label="system", action="comment.approve", target_type="comment", target_id=1,
                site_id=site_id, before={"status": "pending"}, after={"status": "approved"}, created_at=when,
            ))
        db.session.commit()
    return site


def export(runner, *args, site="test-site"):
    result = runner.invoke(args=["export", "--site", site, *args])
    assert result.exit_code == 0, result.output
    return result.output


def db_comments(app, site_key="test-site"):
    with app.app_context():
        found = db.session.execute(
            sa.select(Comment, Page.url).join(Page, Page.id == Comment.page_id).join(Site, Site.id == Comment.site_id)
            .where(Site.key == site_key).order_by(Comment.id)
        ).all()
        return [
            {"id": c.id, "client_id": c.client_id, "url": url, "parent": c.parent_id, "thread": c.thread_id,
             "author": c.author, "email": c.email, "body": c.body_raw, "body_html": c.body_html,
             "status": c.status, "spam_reasons": list(c.spam_reasons or []), "reason": c.decision_reason,
             "created_at": isoformat(c.created_at)}
            for c, url in found
        ]


def test_json_export_reads_back_to_the_database_rows(app, runner, data):
    exported = json.loads(export(runner, "--format", "json"))
    expected = db_comments(app)
    assert len(exported) == len(expected) == 7
    assert [{k: row[k] for k in expected[0]} for row in exported] == expected
    assert set(exported[0]) == set(COLUMNS["comments"])
    imported = [row for row in exported if row["imported_from"] == "disqus"]
    assert len(imported) == 6 and all(row["title"] for row in imported)


def test_csv_export_parses_with_the_csv_module_and_cannot_start_a_formula(app, runner, data):
    text = export(runner, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(text)))
    expected = db_comments(app)
    assert list(table[0].keys()) == list(COLUMNS["comments"])
    assert [int(row["id"]) for row in table] == [c["id"] for c in expected]
    by_id = {int(row["id"]): row for row in table}
    for comment in expected:
        row = by_id[comment["id"]]
        assert row["status"] == comment["status"] and row["created_at"] == comment["created_at"]
        assert row["parent"] == ("" if comment["parent"] is None else str(comment["parent"]))
    hostile = next(row for row in table if row["client_id"] == f"c-{data.id}")
    # Spreadsheet formulas arrive as text: apostrophe first, nothing lost after it.
    assert hostile["body"] == "'" + HOSTILE_BODY
    assert hostile["author"] == "'@evil" and hostile["email"] == "'-x@reader.example"
    assert json.loads(hostile["spam_reasons"]) == ["link"]
    assert "Город принял бюджет" in text  # UTF-8 survives


def test_since_reports_audit_and_other_sites(app, runner, data):
    since = json.loads(export(runner, "--since", "2019-06-01"))
    assert sorted(row["author"] for row in since) == ["@evil", "Gleb", "Дарья"]

    reports = json.loads(export(runner, "--what", "reports"))
    assert [(r["exact"], r["suggestion"], r["url"]) for r in reports] == [
        ("teh", "+the", "https://news.example/2020/01/x")
    ]
    report_csv = list(csv.DictReader(io.StringIO(export(runner, "--what", "reports", "--format", "csv"))))
    assert report_csv[0]["suggestion"] == "'+the"

    audit = list(csv.DictReader(io.StringIO(export(runner, "--what", "audit", "--format", "csv"))))
    assert len(audit) == 1 and json.loads(audit[0]["after"]) == {"status": "approved"}

    other = json.loads(export(runner, site="other-site"))
    assert [row["author"] for row in other] == ["Elsewhere"]
    assert json.loads(export(runner, "--since", "2030-01-01")) == []


def test_output_file_and_bad_arguments(app, runner, data, tmp_path):
    target = tmp_path / "comments.csv"
    result = runner.invoke(args=["export", "--site", "test-site", "--format", "csv", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert len(list(csv.reader(target.open(encoding="utf-8")))) == 1 + 7

    bad = runner.invoke(args=["export", "--site", "test-site", "--since", "last week"])
    assert bad.exit_code == 2 and "'last week' is not a date" in bad.output
    assert runner.invoke(args=["export", "--site", "nope"]).exit_code == 1
    assert runner.invoke(args=["export", "--site", "test-site", "--format", "xml"]).exit_code == 2


# -- dashboard ---------------------------------------------------------------------

def test_editor_downloads_an_attachment_with_the_same_content(app, client, auth, data, runner):
    auth.login(role="editor")
    page = client.get("/dashboard/export")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/dashboard/export"' in html and "Test News" in html and "Other" in html

    response = client.get("/dashboard/export/download",
                          query_string={"site": "test-site", "what": "comments", "format": "csv"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="test-site-comments-') and disposition.endswith('.csv"')
    download = response.get_data(as_text=True)
    assert "\r\n" in download  # RFC 4180 line ends; the CLI runner folds them to "\n" in its output
    assert download.replace("\r\n", "\n") == export(runner, "--format", "csv")

    as_json = client.get("/dashboard/export/download",
                         query_string={"site": "test-site", "what": "audit", "format": "json", "since": "2020-01-01"})
    assert as_json.status_code == 200 and as_json.mimetype == "application/json"
    assert [e["action"] for e in as_json.get_json()] == ["comment.approve"]


def test_export_is_for_admins_and_editors_on_their_own_sites(app, client, auth, data):
    with app.app_context():
        other_id = db.session.execute(sa.select(Site.id).where(Site.key == "other-site")).scalar_one()
    email = auth.create("editor", site_ids=(other_id,))
    auth.login(email=email)
    page = client.get("/dashboard/export").get_data(as_text=True)
    assert "Other" in page and "Test News" not in page
    hidden = client.get("/dashboard/export/download", query_string={"site": "test-site"})
    assert hidden.status_code == 404 and "No such site among yours." in hidden.get_data(as_text=True)
    assert client.get("/dashboard/export/download", query_string={"site": "other-site"}).status_code == 200

    bad = client.get("/dashboard/export/download",
                     query_string={"site": "other-site", "format": "xml", "since": "soon"})
    assert bad.status_code == 400
    body = bad.get_data(as_text=True)
    assert "Choose JSON or CSV." in body and "Not a date (YYYY-MM-DD)." in body

    auth.logout()
    auth.login(role="moderator")
    assert client.get("/dashboard/export").status_code == 403
    assert client.get("/dashboard/export/download", query_string={"site": "test-site"}).status_code == 403
    assert 'href="/dashboard/export"' not in client.get("/dashboard/comments").get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_the_login(client, data):
    response = client.get("/dashboard/export/download", query_string={"site": "test-site"})
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


@pytest.mark.browser
def test_an_editor_downloads_a_csv_in_chromium(app, runner, live_server, new_page, auth):
    with app.app_context():  # the demo site serves loopback; the export's pages are on news.example
        demo = db.session.execute(sa.select(Site).where(Site.key == "demo")).scalar_one()
        demo.allowed_origins = list(demo.allowed_origins or ()) + ["https://news.example"]
        db.session.commit()
    assert runner.invoke(args=["import", "disqus", str(DISQUS), "--site", "demo"]).exit_code == 0
    email = auth.create("editor")
    page = new_page(accept_downloads=True)
    page.goto(live_server + "/dashboard/login")
    page.fill("#email", email)
    page.fill("#password", auth.PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=Export")
    page.wait_for_url(live_server + "/dashboard/export")
    page.select_option("select[name=site]", "demo")
    page.select_option("select[name=what]", "comments")
    page.check("input[name=format][value=csv]")
    with page.expect_download() as info:
        page.click("form.stack button[type=submit]")
    download = info.value
    assert re.fullmatch(r"demo-comments-\d{8}-\d{4}\.csv", download.suggested_filename)
    table = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert sorted(row["author"] for row in table) == ["Anna", "Boris", "Gleb", "Vera", "Watches", "Дарья"]
    assert page.errors == []


@pytest.mark.parametrize("cell", [
    "=1+1", " =1+1", "\u200b=HYPERLINK(\"https://evil.example\")", "\ufeff=1+1", "\u00a0+1", "\u2060@SUM(A1)",
    "\t=1", "\r=1", "\n-1", " \u200e\u200f -cmd", "\x1b=1", "\uff1d1+1", "\u3000=1", "\t", "\r",
])
def test_csv_cells_that_spreadsheets_would_run_are_quoted(cell):
    from moderation.porting.export import safe_cell

    assert safe_cell(cell) == "'" + cell  # quoted, and nothing lost after the apostrophe


@pytest.mark.parametrize("cell", ["plain text", " leading space", "a=b", "\u200bзапятая", "", "1-2", "'=already"])
def test_csv_cells_without_a_formula_start_are_left_alone(cell):
    from moderation.porting.export import safe_cell

    assert safe_cell(cell) == cell
