"""`moderation import wordpress`: WXR exports (WordPress eXtended RSS 1.2), imported for real.

The fixture is written by hand after WordPress's own export (wp-admin/includes/export.php):
Russian posts, a reply chain three deep, every comment_approved value but post-trashed, a
pingback, a trackback, CDATA bodies with HTML and entities (and a "]]>" split the way
wxr_cdata() splits it), a reply whose parent is not in the file, a post without comments
and a page.
"""
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import ImportedComment
from support.imports import allow_origins, page_urls, rows
from support.payloads import ORIGIN

FIXTURE = Path(__file__).parent / "fixtures" / "wordpress_export.xml"
HEAD = ('<?xml version="1.0" encoding="UTF-8" ?>\n'
        '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">\n'
        '<channel>\n'
        '<wp:wxr_version>1.2</wp:wxr_version>\n')
TAIL = "</channel>\n</rss>\n"
COMMENTED = ["https://news.example/2024/05/byudzhet-2025/", "https://news.example/2024/05/tramvaj-do-vokzala/",
             "https://news.example/o-redakcii/"]


def comment(comment_id="10", approved="1", date="2020-01-01 00:00:00", kind="comment", parent="0", body="hi",
            fields=None):
    values = {"comment_id": comment_id, "comment_author": "R", "comment_date_gmt": date,
              "comment_content": f"<![CDATA[{body}]]>", "comment_approved": approved,
              "comment_type": kind, "comment_parent": parent, **(fields or {})}
    return ("<wp:comment>" + "".join(f"<wp:{k}>{v}</wp:{k}>" for k, v in values.items() if v is not None)
            + "</wp:comment>\n")


def item(*comments, post_id="1", link="https://news.example/a"):
    link_tag = f"<link>{link}</link>" if link is not None else ""
    return f"<item><title>A</title>{link_tag}<wp:post_id>{post_id}</wp:post_id>\n" + "".join(comments) + "</item>\n"


def import_wordpress(runner, path, site="test-site"):
    return runner.invoke(args=["import", "wordpress", str(path), "--site", site])


def write(tmp_path, body):
    path = tmp_path / "export.xml"
    path.write_text(body, encoding="utf-8")
    return path


def test_wordpress_threads_parents_dates_authors_and_states(app, runner, site):
    result = import_wordpress(runner, FIXTURE)
    assert result.exit_code == 0, result.output
    # Counts printed: threads and comments imported; pingback and trackback skipped, by type.
    assert "wordpress: 3 threads with 9 comments to import into site 'test-site'" in result.output
    assert "3 threads, 9 comments: 9 imported, 0 updated, 0 unchanged, 2 skipped" in result.output
    assert "skipped: 1 pingback, 1 trackback (notices of links from other sites, not reader comments)" in result.output
    assert ("wordpress comment 1010: parent 999 is not in thread 101; imported as a top-level comment"
            in result.output)

    found = rows(app)
    # No pingback (1005), no trackback (1008).
    assert sorted(found) == ["1001", "1002", "1003", "1004", "1006", "1007", "1009", "1010", "1011"]
    anna, boris, vera, spam, pending, trash, anonymous, orphan, page = (
        found[k] for k in ("1001", "1002", "1003", "1004", "1006", "1007", "1009", "1010", "1011"))
    # The post without comments (103, "pogoda") gets no page row; the page (post_type page) does.
    assert page_urls(app) == COMMENTED
    assert (anna["url"], anna["title"]) == (COMMENTED[1], "Трамвайную линию продлят до вокзала")
    assert (page["url"], page["title"]) == (COMMENTED[2], "О редакции")
    # comment_date_gmt, not the site's local comment_date (three hours ahead).
    assert anna["created"] == datetime(2024, 5, 1, 9, 30, 0)
    assert (anna["author"], anna["email"]) == ("Анна Петрова", "anna@reader.example")
    assert (boris["author"], boris["email"]) == ("Борис", None)
    assert (anonymous["author"], anonymous["email"]) == ("Anonymous", None)
    assert orphan["author"] == "Дмитрий «Дима» К."  # WordPress keeps names entity-encoded
    assert anna["client_id"] == "import:wordpress:1001"

    # Three levels: Vera replies to Boris, who replies to Anna; Vera comes first in the file.
    assert (anna["parent"], anna["thread"]) == (None, None)
    assert (boris["parent"], boris["thread"]) == (anna["id"], anna["id"])
    assert (vera["parent"], vera["thread"]) == (boris["id"], anna["id"])
    assert (orphan["parent"], orphan["thread"]) == (None, None)

    # Bodies through the one sanitizer: kept tags and entities stay (the browser shows «»), the rest is text.
    assert "<strong>десять лет</strong> &laquo;обещаний&raquo; &amp; отписок." in anna["html"]
    assert "<script" not in anna["html"] and "&lt;script&gt;" in anna["html"]
    assert anna["html"].count("<p>") == 2  # paragraphs by blank lines, as WordPress shows them
    assert 'href="https://city.example/tram-5"' in vera["html"] and 'rel="nofollow ugc noopener"' in vera["html"]
    assert "onclick" not in vera["html"] and "<img" not in vera["html"]
    # "]]>" in a body is split over two CDATA sections by WordPress (wxr_cdata): read back whole.
    assert page["body"].endswith("<code>if (tariff[zone[1]]>0)</code>")
    assert "<code>if (tariff[zone[1]]&gt;0)</code>" in page["html"]

    assert [x["status"] for x in (anna, boris, vera, orphan, page, anonymous)] == ["approved"] * 6
    assert (pending["status"], pending["reason"]) == ("pending", None)
    assert (spam["status"], spam["reason"]) == ("spam", "marked as spam in WordPress")
    assert (trash["status"], trash["reason"]) == ("rejected", "deleted in WordPress")
    with app.app_context():
        websites = dict(db.session.execute(sa.select(ImportedComment.external_id, ImportedComment.website)).all())
    assert websites["1001"] == "https://anna.example/blog" and websites["1002"] is None


def test_imported_wordpress_comments_are_published_to_readers(app, runner, site, client):
    import_wordpress(runner, FIXTURE)
    listing = client.get("/api/v1/comments", query_string={"site": "test-site", "url": COMMENTED[1]})
    assert listing.status_code == 200
    threads = listing.get_json()["comments"]
    # Spam and pending comments are not shown; the orphan reply is a thread of its own.
    assert [t["author"] for t in threads] == ["Анна Петрова", "Дмитрий «Дима» К."]
    # The whole chain under its top comment: Boris's reply and Vera's reply to him.
    assert [r["author"] for r in threads[0]["replies"]] == ["Борис", "Вера"]


def test_running_the_wordpress_import_twice_gives_the_same_rows(app, runner, site):
    assert import_wordpress(runner, FIXTURE).exit_code == 0
    before = rows(app)
    again = import_wordpress(runner, FIXTURE)
    assert again.exit_code == 0, again.output
    assert "3 threads, 9 comments: 0 imported, 0 updated, 9 unchanged, 2 skipped" in again.output
    assert rows(app) == before
    assert page_urls(app) == COMMENTED


def test_a_comment_approved_in_wordpress_since_is_updated(app, runner, site, tmp_path):
    import_wordpress(runner, FIXTURE)
    changed = FIXTURE.read_text(encoding="utf-8").replace(
        "<wp:comment_content><![CDATA[А до Заречья когда?]]></wp:comment_content>\n"
        "\t\t\t<wp:comment_approved><![CDATA[0]]>",
        "<wp:comment_content><![CDATA[А до Заречья когда?]]></wp:comment_content>\n"
        "\t\t\t<wp:comment_approved><![CDATA[1]]>")
    assert changed != FIXTURE.read_text(encoding="utf-8")
    result = import_wordpress(runner, write(tmp_path, changed))
    assert "0 imported, 1 updated, 8 unchanged" in result.output, result.output
    assert rows(app)["1006"]["status"] == "approved"


def test_links_are_normalized_like_every_page_url(app, runner, site, tmp_path):
    path = write(tmp_path, HEAD + item(comment(), link="https://NEWS.example:443/a?utm_source=feed#comments") + TAIL)
    assert import_wordpress(runner, path).exit_code == 0
    assert page_urls(app) == ["https://news.example/a"]


def test_a_comment_without_a_gmt_date_takes_the_site_date(app, runner, site, tmp_path):
    local = {"comment_date": "2009-03-04 05:06:07"}
    path = write(tmp_path, HEAD + item(comment(date="0000-00-00 00:00:00", fields=local)) + TAIL)
    result = import_wordpress(runner, path)
    assert result.exit_code == 0, result.output
    assert rows(app)["10"]["created"] == datetime(2009, 3, 4, 5, 6, 7)


def test_a_trashed_post_s_comments_arrive_rejected_and_other_types_are_skipped_by_name(app, runner, site, tmp_path):
    path = write(tmp_path, HEAD + item(comment(approved="post-trashed"), comment("11", kind="order_note")) + TAIL)
    result = import_wordpress(runner, path)
    assert result.exit_code == 0, result.output
    assert "1 threads, 1 comments: 1 imported, 0 updated, 0 unchanged, 1 skipped" in result.output
    assert "skipped: 1 of comment_type 'order_note' (not reader comments)" in result.output
    assert (rows(app)["10"]["status"], rows(app)["10"]["reason"]) == ("rejected", "its post was deleted in WordPress")


@pytest.mark.parametrize("body, message", [
    (HEAD + item(comment()) + "<item><title>x</item>\n" + TAIL,
     "line 8, column 16: not well-formed XML (mismatched tag"),
    (HEAD + item(comment(), comment(comment_id=None)) + TAIL,
     "line 7, <wp:comment>: missing <wp:comment_id>"),
    (HEAD + item(comment(), comment("11", approved="maybe")) + TAIL,
     "line 7, <wp:comment> wp:comment_id=11: unknown <wp:comment_approved> 'maybe' "
     "(WordPress uses 1, 0, spam, trash, post-trashed)"),
    (HEAD + item(comment(date="yesterday")) + TAIL,
     "line 6, <wp:comment> wp:comment_id=10: <wp:comment_date_gmt> 'yesterday' is not YYYY-MM-DD HH:MM:SS"),
    (HEAD + item(comment(), comment()) + TAIL,
     "line 7, <wp:comment> wp:comment_id=10: the same wp:comment_id as the comment on line 6"),
    (HEAD + item(comment()) + item(comment("11")) + TAIL,
     "line 8, <item> wp:post_id=1: the same wp:post_id as the item on line 5"),
    (HEAD + item(comment(), link=None) + TAIL,
     "line 5, <item> wp:post_id=1: the thread has no URL"),
    (HEAD + "<item><title>A</title><link>https://news.example/a</link></item>\n" + TAIL,
     "line 5, <item>: missing <wp:post_id>"),
    ('<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Feed</title>\n'
     '<item><title>A</title><link>https://news.example/a</link></item></channel></rss>\n',
     "line 3, <item>: an <item> before <wp:wxr_version>: not a WordPress export (WXR)"),
    ('<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Feed</title></channel></rss>\n',
     "not a WordPress export (WXR): its <channel> has no <wp:wxr_version>"),
    ('<?xml version="1.0"?>\n<disqus xmlns="http://disqus.com"></disqus>\n',
     "line 2: the root element is <{http://disqus.com}disqus>, not a WordPress export's <rss> (WXR)"),
    ("", "not well-formed XML"),
])
def test_malformed_exports_name_the_line_and_import_nothing(app, runner, site, tmp_path, body, message):
    result = import_wordpress(runner, write(tmp_path, body))
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert "Nothing was imported." in result.output
    assert rows(app) == {} and page_urls(app) == []


def test_a_bad_comment_late_in_the_file_stops_the_run_before_anything_is_written(app, runner, site, tmp_path):
    path = write(tmp_path, HEAD + item(comment()) + item(comment("11", approved="?"), post_id="2",
                                                         link="https://news.example/b") + TAIL)
    result = import_wordpress(runner, path)
    assert result.exit_code == 1 and "line 9, <wp:comment> wp:comment_id=11" in result.output
    assert rows(app) == {} and page_urls(app) == []


@pytest.mark.parametrize("doctype, entity", [
    # Billion laughs: entity expansion.
    ('<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>', "&b;"),
    # XXE: an external entity pointing at a local file.
    ('<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>', "&secret;"),
])
def test_entity_tricks_are_refused(app, runner, site, tmp_path, doctype, entity):
    head = HEAD.replace("\n", "\n" + doctype + "\n", 1)
    # Outside CDATA, where an entity would be expanded.
    body = head + item(comment().replace("<![CDATA[hi]]>", entity)) + TAIL
    result = import_wordpress(runner, write(tmp_path, body))
    assert result.exit_code == 1
    assert "refused unsafe XML" in result.output, result.output
    assert rows(app) == {}


def test_a_post_on_another_origin_is_refused_by_line_and_nothing_is_written(app, runner, site, tmp_path):
    path = write(tmp_path, HEAD + item(comment(), link="https://evil.example/a") + TAIL)
    result = import_wordpress(runner, path)
    assert result.exit_code == 1
    assert ("line 5, <item> wp:post_id=1: https://evil.example/a is not on the allowed origins of site "
            f"'test-site' ({ORIGIN})") in result.output
    assert rows(app) == {} and page_urls(app) == []
    allow_origins(app, "https://evil.example")  # the newsroom says it is theirs: then it imports
    assert import_wordpress(runner, path).exit_code == 0
    assert page_urls(app) == ["https://evil.example/a"]


def test_the_same_ids_from_wordpress_and_disqus_do_not_collide(app, runner, site, tmp_path):
    """import:<source>:<id>: comment 10 of WordPress is not post 10 of Disqus."""
    disqus = tmp_path / "disqus.xml"
    disqus.write_text(
        '<?xml version="1.0"?>\n<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">'
        '<thread dsq:id="1"><link>https://news.example/a</link></thread><post dsq:id="10"><message>hi</message>'
        '<createdAt>2020-01-01T00:00:00Z</createdAt><thread dsq:id="1" /></post></disqus>\n', encoding="utf-8")
    assert runner.invoke(args=["import", "disqus", str(disqus), "--site", "test-site"]).exit_code == 0
    assert import_wordpress(runner, write(tmp_path, HEAD + item(comment()) + TAIL)).exit_code == 0
    assert rows(app, "wordpress")["10"]["client_id"] == "import:wordpress:10"
    assert rows(app, "disqus")["10"]["client_id"] == "import:disqus:10"
