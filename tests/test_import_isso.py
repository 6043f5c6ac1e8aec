"""`moderation import isso`: databases built by Isso's own code (isso.db.SQLite3), imported for real."""
import sqlite3
import time
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

isso_config = pytest.importorskip("isso.config")
isso_db = pytest.importorskip("isso.db")

from moderation.auth import create_user  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.models import Comment, ImportedComment, Page  # noqa: E402
from moderation.services.moderation import reject_comment  # noqa: E402

from support.payloads import ORIGIN  # noqa: E402

T0 = datetime(2021, 3, 4, 5, 6, 7, tzinfo=timezone.utc).timestamp()


def isso_database(path):
    """An empty database exactly as Isso creates it (its tables, trigger and user_version)."""
    return isso_db.SQLite3(str(path), isso_config.load(isso_config.default_file()))


def add(isso, uri, text, author="Reader", email=None, website=None, parent=None, mode=1, created=T0):
    row = isso.comments.add(uri, {
        "text": text, "author": author, "email": email, "website": website, "parent": parent,
        "mode": mode, "remote_addr": "192.0.2.0", "created": created,
    })
    return row["id"]


@pytest.fixture
def isso_file(tmp_path):
    """Two threads: replies, a pending comment, a deleted one kept for its reply, hostile text."""
    path = tmp_path / "comments.db"
    isso = isso_database(path)
    isso.threads.new("/2021/03/tram/", "Tram line reopens")
    first = add(isso, "/2021/03/tram/", "First!\n\nSecond paragraph", author="Anna",
                email="anna@reader.example", website="https://anna.example")
    add(isso, "/2021/03/tram/", "A reply <script>alert(1)</script>", author="Boris", parent=first,
        created=T0 + 60)
    add(isso, "/2021/03/tram/", "Waiting for a moderator", author="Vera", mode=2, created=T0 + 120)
    isso.threads.new("/2021/04/budget/?utm_source=x", "Budget")
    doomed = add(isso, "/2021/04/budget/?utm_source=x", "To be deleted", author="Gleb", created=T0 + 5)
    add(isso, "/2021/04/budget/?utm_source=x", "Reply to a deleted one", author=None, parent=doomed,
        created=T0 + 9)
    isso.comments.delete(doomed)  # has a reply, so Isso keeps it as mode 4 with its text wiped
    return path


def import_isso(runner, path, *extra, site="test-site"):
    return runner.invoke(args=["import", "isso", str(path), "--site", site, *extra])


def snapshot(app):
    with app.app_context():
        rows = db.session.execute(
            sa.select(Comment, Page.url, Page.title, ImportedComment.external_id, ImportedComment.website)
            .join(Page, Page.id == Comment.page_id)
            .join(ImportedComment, ImportedComment.comment_id == Comment.id)
            .order_by(ImportedComment.external_id)
        ).all()
        return [
            {
                "ext": ext, "url": url, "title": title, "website": website, "id": c.id, "author": c.author,
                "email": c.email, "body": c.body_raw, "html": c.body_html, "status": c.status,
                "reason": c.decision_reason, "parent": c.parent_id, "thread": c.thread_id,
                "created": c.created_at.replace(tzinfo=None), "client_id": c.client_id,
            }
            for c, url, title, ext, website in rows
        ]


def test_isso_threads_and_comments_arrive_with_dates_authors_parents_and_states(app, runner, site, isso_file):
    result = import_isso(runner, isso_file)
    assert result.exit_code == 0, result.output
    assert "2 threads, 5 comments: 5 imported, 0 updated, 0 unchanged, 0 skipped" in result.output

    rows = {r["ext"]: r for r in snapshot(app)}
    anna, boris, vera, gleb, reply = (rows[str(i)] for i in range(1, 6))
    # Isso keeps paths; the site's origin makes them our normalized page URLs (tracking query dropped).
    assert anna["url"] == ORIGIN + "/2021/03/tram/" and anna["title"] == "Tram line reopens"
    assert gleb["url"] == ORIGIN + "/2021/04/budget/"
    assert anna["created"] == datetime(2021, 3, 4, 5, 6, 7)
    assert (anna["author"], anna["email"], anna["website"]) == ("Anna", "anna@reader.example", "https://anna.example")
    assert anna["html"] == "<p>First!</p><p>Second paragraph</p>"
    # Sanitized like a live comment: the script is text, not markup.
    assert "<script>" not in boris["html"] and "&lt;script&gt;" in boris["html"]
    assert (boris["parent"], boris["thread"]) == (anna["id"], anna["id"])
    assert (anna["status"], boris["status"], vera["status"]) == ("approved", "approved", "pending")
    assert (gleb["status"], gleb["reason"], gleb["body"]) == ("rejected", "deleted in Isso", "")
    assert reply["parent"] == gleb["id"] and reply["author"] == "Anonymous"


def test_imported_comments_are_published_to_readers(app, runner, site, client, isso_file):
    import_isso(runner, isso_file)
    listing = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ORIGIN + "/2021/03/tram/"})
    assert listing.status_code == 200
    threads = listing.get_json()["comments"]
    assert [t["author"] for t in threads] == ["Anna"]  # Vera's is still pending
    assert [r["author"] for r in threads[0]["replies"]] == ["Boris"]


def test_running_the_import_twice_gives_the_same_rows(app, runner, site, isso_file):
    first = import_isso(runner, isso_file)
    before = snapshot(app)
    second = import_isso(runner, isso_file)
    assert second.exit_code == 0, second.output
    assert "0 imported, 0 updated, 5 unchanged" in second.output
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Page)).scalar_one() == 2
    assert first.exit_code == 0


def test_a_changed_source_updates_but_a_moderators_decision_here_stands(app, runner, site, isso_file):
    import_isso(runner, isso_file)
    with app.app_context():
        anna_id = db.session.execute(
            sa.select(ImportedComment.comment_id).where(ImportedComment.external_id == "1")
        ).scalar_one()
        user, _ = create_user("mod@news.example", "moderator")
        reject_comment(anna_id, user, reason="Off-topic")  # what the dashboard's Reject does
    isso = isso_database(isso_file)
    isso.comments.activate(3)  # Vera approved in Isso after our first import
    with sqlite3.connect(isso_file) as conn:
        conn.execute("UPDATE comments SET text = 'First! (edited)' WHERE id IN (1, 2)")

    result = import_isso(runner, isso_file)
    assert "0 imported, 2 updated, 2 unchanged, 0 skipped, 1 kept as moderated here" in result.output, result.output
    rows = {r["ext"]: r for r in snapshot(app)}
    assert rows["3"]["status"] == "approved"
    assert rows["2"]["body"] == "First! (edited)"
    assert (rows["1"]["status"], rows["1"]["reason"], rows["1"]["body"]) == (
        "rejected", "Off-topic", "First!\n\nSecond paragraph"
    )


def test_a_file_that_is_not_an_isso_database_is_refused_by_name(app, runner, site, tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR, title VARCHAR)")
        conn.execute("CREATE TABLE comments (id INTEGER PRIMARY KEY, body TEXT)")
    result = import_isso(runner, other)
    assert result.exit_code == 1
    assert "not an Isso database (table 'comments' lacks" in result.output
    assert "author" in result.output and "mode" in result.output

    text = tmp_path / "notes.db"
    text.write_text("this is not SQLite at all, just text long enough to have a header" * 10)
    result = import_isso(runner, text)
    assert result.exit_code == 1 and "not a readable SQLite database" in result.output
    assert "Nothing was imported." in result.output

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    result = import_isso(runner, empty)
    assert result.exit_code == 1 and "no 'threads' table" in result.output
    assert snapshot(app) == []


def test_a_bad_row_names_itself_and_leaves_no_half_thread(app, runner, site, isso_file):
    with sqlite3.connect(isso_file) as conn:
        conn.execute("UPDATE comments SET mode = 7 WHERE id = 5")  # second thread
    result = import_isso(runner, isso_file)
    assert result.exit_code == 1
    assert "comments row id=5: unknown mode 7" in result.output
    assert "1 threads, 3 comments: 3 imported" in result.output
    assert "Imported before the error: 1 thread(s)" in result.output
    rows = snapshot(app)
    # The first thread was committed; nothing of the broken one was.
    assert sorted(r["ext"] for r in rows) == ["1", "2", "3"]
    with app.app_context():
        assert db.session.execute(sa.select(Page.url)).scalars().all() == [ORIGIN + "/2021/03/tram/"]


def test_paths_need_a_base_url_when_the_site_has_only_wildcard_origins(app, runner, isso_file):
    from moderation.models import Site

    with app.app_context():
        db.session.add(Site(key="wild", name="Wild", allowed_origins=["https://*.news.example"]))
        db.session.commit()
    result = import_isso(runner, isso_file, site="wild")
    assert result.exit_code == 1 and "give --base-url" in result.output and "threads row id=1" in result.output

    result = import_isso(runner, isso_file, "--base-url", "https://www.news.example", site="wild")
    assert result.exit_code == 0, result.output
    assert {r["url"] for r in snapshot(app)} == {
        "https://www.news.example/2021/03/tram/", "https://www.news.example/2021/04/budget/",
    }


def test_an_unknown_site_is_an_error(app, runner, isso_file):
    result = import_isso(runner, isso_file, site="nope")
    assert result.exit_code == 1 and "no site with key 'nope'" in result.output


def test_a_thread_on_another_origin_is_refused_by_row(app, runner, site, isso_file):
    with sqlite3.connect(isso_file) as conn:
        conn.execute("UPDATE threads SET uri = 'https://evil.example/x' WHERE id = 2")
    result = import_isso(runner, isso_file)
    assert result.exit_code == 1
    assert ("threads row id=2: https://evil.example/x is not on the allowed origins of site 'test-site'"
            in result.output)
    assert sorted(r["ext"] for r in snapshot(app)) == ["1", "2", "3"]  # the first thread only


def test_nul_esc_and_other_controls_are_removed_like_from_the_widget(app, runner, site, isso_file):
    with sqlite3.connect(isso_file) as conn:
        conn.execute("UPDATE comments SET text = ?, author = ? WHERE id = 1",
                     ("Bell\x07 and \x1b[31mred\x1b[0m and NUL\x00 here\n\ttab kept", "An\x00na\x1b"))
        conn.execute("UPDATE threads SET uri = ? WHERE id = 1", ("/2021/03/tr\x00am/\x1b",))
    result = import_isso(runner, isso_file)
    assert result.exit_code == 0, result.output
    first = next(r for r in snapshot(app) if r["ext"] == "1")
    assert first["body"] == "Bell and [31mred[0m and NUL here\n\ttab kept"
    assert first["author"] == "Anna"
    assert first["url"] == ORIGIN + "/2021/03/tram/"
    assert not any(ch in first["html"] for ch in "\x00\x07\x1b")


def test_text_that_is_not_utf8_names_its_row_and_column(app, runner, site, isso_file):
    with sqlite3.connect(isso_file) as conn:
        conn.execute("UPDATE comments SET author = CAST(X'416EFF6E61' AS TEXT) WHERE id = 4")
    result = import_isso(runner, isso_file)
    assert result.exit_code == 1
    assert "comments row id=4: column 'author' is not valid UTF-8 (byte 2: b'\\xffna')" in result.output
    assert "Traceback" not in result.output
    assert sorted(r["ext"] for r in snapshot(app)) == ["1", "2", "3"]


def test_a_recursive_view_named_threads_is_refused_at_once(app, runner, site, tmp_path):
    path = tmp_path / "trap.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE comments (tid INTEGER, id INTEGER PRIMARY KEY, parent INTEGER, created REAL, "
                     "modified REAL, mode INTEGER, text TEXT, author TEXT, email TEXT, website TEXT)")
        conn.execute("CREATE VIEW threads AS WITH RECURSIVE r(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM r) "
                     "SELECT id, '/p/' || id AS uri, 'T' AS title FROM r")
    started = time.monotonic()
    result = import_isso(runner, path)
    assert result.exit_code == 1
    assert "not an Isso database ('threads' is a view, not a table)" in result.output
    assert time.monotonic() - started < 10 and snapshot(app) == []


def test_every_statement_on_the_file_runs_under_a_time_budget(isso_file):
    from moderation.porting.common import MalformedInput
    from moderation.porting.isso import IssoReader

    reader = IssoReader(isso_file, ORIGIN, budget=0.3)
    try:
        started = time.monotonic()
        with pytest.raises(MalformedInput, match="took longer than 0.3 s"):
            reader._query("a runaway query", "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) "
                                             "SELECT count(*) FROM r")
        assert time.monotonic() - started < 5
        assert reader.counts() == (2, 5)  # the budget is per statement: the next one runs
    finally:
        reader.close()


def test_a_reader_cannot_squat_the_ids_an_import_will_use(app, runner, site, post_site, client, drain, isso_file):
    app.config["RATELIMIT_ENABLED"] = False
    # What the import once used ("import-isso-<site>-<id>"): any reader could send it first.
    for external_id in range(1, 7):
        squat = {"site": "post-site", "url": ORIGIN + "/a", "author": "Squatter", "body": "mine",
                 "client_id": f"import-isso-{site.id}-{external_id}"}
        assert client.post("/api/v1/comments", json=squat).status_code == 202
    refused = client.post("/api/v1/comments", json=dict(squat, client_id="import:isso:1"))
    assert refused.status_code == 400 and set(refused.json["fields"]) == {"client_id"}
    drain()
    result = import_isso(runner, isso_file)
    assert result.exit_code == 0, result.output
    assert "5 imported" in result.output
    with app.app_context():
        ids = db.session.execute(sa.select(Comment.client_id).where(Comment.site_id == site.id)).scalars().all()
    assert ids and all(cid.startswith("import:isso:") for cid in ids)
