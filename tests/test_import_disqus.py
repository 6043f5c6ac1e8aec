"""`moderation import disqus`: exports in Disqus's documented XML format (disqus.xsd), imported for real."""
from datetime import datetime
from pathlib import Path

import pytest

from support.imports import allow_origins, page_urls, rows

FIXTURE = Path(__file__).parent / "fixtures" / "disqus_export.xml"
HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n'
        '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">\n')
THREAD = ('  <thread dsq:id="1"><link>https://news.example/a</link><title>A</title></thread>\n')


def post(dsq_id="10", thread="1", created="<createdAt>2020-01-01T00:00:00Z</createdAt>", extra=""):
    return (f'  <post dsq:id="{dsq_id}"><message>hi</message>{created}<isDeleted>false</isDeleted>'
            f'<isSpam>false</isSpam><author><name>R</name></author><thread dsq:id="{thread}" />{extra}</post>\n')


def import_disqus(runner, path, site="test-site"):
    return runner.invoke(args=["import", "disqus", str(path), "--site", site])


def test_disqus_threads_posts_parents_and_states(app, runner, site):
    result = import_disqus(runner, FIXTURE)
    assert result.exit_code == 0, result.output
    assert "2 threads, 6 comments: 6 imported, 0 updated, 0 unchanged, 1 skipped" in result.output
    assert "post dsq:id=9001 (thread dsq:id=424242 is not in the file)" in result.output

    found = rows(app)
    anna, boris, vera, spam, gleb, darya = (found[k] for k in ("5001", "5002", "5003", "5004", "6001", "6002"))
    # Tracking parameter and fragment dropped: the same page row live comments would use.
    assert anna["url"] == "https://news.example/2019/05/tram-line"
    assert darya["title"] == "Город принял бюджет"
    assert page_urls(app) == ["https://news.example/2019/05/tram-line", "https://news.example/2019/06/budget"]
    assert anna["created"] == datetime(2019, 5, 1, 9, 0, 0)
    assert (anna["author"], anna["email"]) == ("Anna", "anna@reader.example")
    assert (boris["author"], boris["email"]) == ("Boris", None)
    # A reply that came first in the file still points at its parent; the thread is the top comment.
    assert (boris["parent"], boris["thread"]) == (anna["id"], anna["id"])
    assert (vera["parent"], vera["thread"]) == (boris["id"], anna["id"])
    assert "<b>strongly</b>" in vera["html"]
    # Disqus messages are HTML: kept tags stay, anything else is shown as text, never run.
    assert "<img" not in anna["html"] and "&lt;img" in anna["html"]
    assert [x["status"] for x in (anna, boris, vera)] == ["approved"] * 3
    assert (spam["status"], spam["reason"]) == ("spam", "marked as spam in Disqus")
    assert (gleb["status"], gleb["reason"]) == ("rejected", "deleted in Disqus")
    assert darya["status"] == "pending"


def test_running_the_disqus_import_twice_gives_the_same_rows(app, runner, site):
    import_disqus(runner, FIXTURE)
    before = rows(app)
    again = import_disqus(runner, FIXTURE)
    assert again.exit_code == 0, again.output
    assert "0 imported, 0 updated, 6 unchanged, 1 skipped" in again.output
    assert rows(app) == before


def test_the_sample_export_isso_ships_for_its_own_importer(app, runner, site):
    """Isso's test file has Disqus's quirks: an empty <thread>, an empty title, an orphan post."""
    isso = pytest.importorskip("isso")
    sample = Path(isso.__file__).parent / "tests" / "disqus.xml"
    allow_origins(app, "http://localhost:4000", "http://example.org")  # the sample's own pages
    result = import_disqus(runner, sample)
    assert result.exit_code == 0, result.output
    assert "2 threads, 3 comments: 3 imported" in result.output and "1 skipped" in result.output
    found = rows(app)
    assert sorted(found) == ["4", "5", "8"]
    assert found["5"]["parent"] == found["4"]["id"]
    assert found["8"]["url"] == "http://localhost:4000/blog/2013/02/12/redacted/index.html"
    assert found["8"]["title"] is None


@pytest.mark.parametrize("body, message", [
    (HEAD + THREAD + post() + "  <post dsq:id=\"11\"><message>x</post>\n</disqus>\n",
     "line 5, column 32: not well-formed XML (mismatched tag"),
    (HEAD + THREAD + post() + post("11", created="") + "</disqus>\n",
     'line 5, <post dsq:id="11">: missing <createdAt>'),
    (HEAD + THREAD + post(created="<createdAt>yesterday</createdAt>") + "</disqus>\n",
     "<createdAt> 'yesterday' is not YYYY-MM-DDTHH:MM:SSZ"),
    (HEAD + THREAD + '  <post><message>x</message></post>\n</disqus>\n',
     "line 4, <post>: missing the dsq:id attribute"),
    (HEAD + THREAD + '  <post dsq:id="12"><createdAt>2020-01-01T00:00:00Z</createdAt></post>\n</disqus>\n',
     'line 4, <post dsq:id="12">: missing <thread dsq:id=...>'),
    (HEAD + '  <thread dsq:id="2"><title>No link</title></thread>\n' + post(thread="2") + "</disqus>\n",
     'line 3, <thread dsq:id="2">: the thread has no URL'),
    (HEAD + THREAD + post() + post() + "</disqus>\n",
     'line 5, <post dsq:id="10">: the same dsq:id as the post on line 4'),
    (HEAD + THREAD + THREAD + "</disqus>\n",
     'line 4, <thread dsq:id="1">: the same dsq:id as the thread on line 3'),
    ('<?xml version="1.0"?>\n<rss><channel /></rss>\n', "the root element is <rss>"),
    ("", "not well-formed XML"),
])
def test_malformed_exports_name_the_line_and_import_nothing(app, runner, site, tmp_path, body, message):
    path = tmp_path / "export.xml"
    path.write_text(body, encoding="utf-8")
    result = import_disqus(runner, path)
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert rows(app) == {} and page_urls(app) == []


@pytest.mark.parametrize("doctype", [
    # Billion laughs: entity expansion.
    '<!DOCTYPE disqus [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    # XXE: an external entity pointing at a local file.
    '<!DOCTYPE disqus [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
])
def test_entity_tricks_are_refused(app, runner, site, tmp_path, doctype):
    path = tmp_path / "evil.xml"
    path.write_text('<?xml version="1.0"?>\n' + doctype + "\n" + HEAD.split("\n", 1)[1] + THREAD
                    + post(extra="") .replace("hi", "&b;" if "ENTITY a" in doctype else "&secret;")
                    + "</disqus>\n", encoding="utf-8")
    result = import_disqus(runner, path)
    assert result.exit_code == 1
    assert "refused unsafe XML" in result.output, result.output
    assert rows(app) == {}


def test_a_thread_on_another_origin_is_refused_by_line_and_nothing_is_written(app, runner, site, tmp_path):
    path = tmp_path / "export.xml"
    elsewhere = '  <thread dsq:id="2"><link>https://evil.example/a</link><title>B</title></thread>\n'
    path.write_text(HEAD + elsewhere + post(thread="2") + "</disqus>\n", encoding="utf-8")
    result = import_disqus(runner, path)
    assert result.exit_code == 1
    assert ('line 3, <thread dsq:id="2">: https://evil.example/a is not on the allowed origins of site '
            "'test-site' (https://news.example)") in result.output
    assert rows(app) == {} and page_urls(app) == []
    allow_origins(app, "https://evil.example")  # the newsroom says it is theirs: then it imports
    assert import_disqus(runner, path).exit_code == 0
    assert page_urls(app) == ["https://evil.example/a"]
