"""Already-fixed detection against a real article server whose page changes between
fetches, through the real reader API, RQ worker, database and moderation API."""
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.jobs.fixed_check import check_fixed_job, normalize, page_text, run_check, verdict
from moderation.models import AuditEntry, ReportCluster, Site
from moderation.redis_keys import FIXED_CHECK_SCHEDULED as SCHEDULE_KEY

from support.article_server import ArticleServer
from support.payloads import new_client_id


API = "/api/v1/moderation"
PATH = "/news/tram"
TYPO = "Вчера мэр обьявил о запуске новой трамвайной линии через весь город."
FIXED = "Вчера мэр объявил о запуске новой трамвайной линии через весь город."
REST = [
    "Первые вагоны выйдут на маршрут в декабре, сообщили в транспортном управлении.",
    "Горожане смогут доехать от вокзала до университета за двадцать минут без пересадок, "
    "а праздничный рейс в день открытия будет бесплатным для всех пассажиров.",
]


def article(first, rest=REST):
    # The script repeats the old sentence: only the visible text may count.
    paragraphs = "".join(f"<p>{p}</p>" for p in [first, *rest])
    return (f'<!doctype html><html lang="ru"><head><title>Трамвай</title>'
            f'<script>window.cached = "{TYPO}";</script><style>p {{ margin: 0 }}</style></head>'
            f"<body><nav>Главная · Город</nav><article><h1>Новая линия</h1>{paragraphs}</article></body></html>"
            ).encode("utf-8")


@pytest.fixture
def newsroom(app):
    with ArticleServer() as server:
        server.page(PATH, article(TYPO))
        app.config.update(FETCH_ALLOWED_NETWORKS=("127.0.0.1/32",), FIXED_CHECK_DELAY=0, FETCH_TIMEOUT=5)
        with app.app_context():
            db.session.add(Site(key="local", name="Local News", allowed_origins=[server.origin],
                                moderation_mode="pre", language="ru"))
            db.session.commit()
        yield SimpleNamespace(server=server, url=server.url(PATH))


def report(client, url, exact, prefix, suffix, suggestion=None):
    payload = {"site": "local", "url": url, "exact": exact, "prefix": prefix, "suffix": suffix,
               "suggestion": suggestion, "client_id": new_client_id()}
    assert client.post("/api/v1/reports", json=payload).status_code == 202


def report_both(client, newsroom, drain):
    report(client, newsroom.url, "обьявил", "Вчера мэр ", " о запуске новой", "объявил")
    report(client, newsroom.url, "вагоны", "Первые ", " выйдут на маршрут")
    drain()


def check(app, **kwargs):
    with app.app_context():
        return run_check(**kwargs)


def clusters(app):
    with app.app_context():
        rows = db.session.execute(sa.select(ReportCluster)).scalars().all()
        return {c.exact: SimpleNamespace(status=c.status, detected=c.fixed_detected_at,
                                         checked=c.fixed_checked_at) for c in rows}


def test_a_fixed_quote_is_detected_once_per_page_and_an_unfixed_one_stays_open(app, client, newsroom, drain, staff):
    report_both(client, newsroom, drain)
    first = check(app)
    assert (first["pages"], first["detected"], first["outcomes"]) == (1, 0, {"checked": 1})
    assert newsroom.server.hits == [PATH]  # two clusters, one fetch
    assert all(c.detected is None and c.checked for c in clusters(app).values())

    newsroom.server.page(PATH, article(FIXED))
    second = check(app, force=True)
    assert (second["pages"], second["detected"]) == (1, 1)
    found = clusters(app)
    assert found["обьявил"].detected is not None and found["обьявил"].status == "new"
    assert found["вагоны"].detected is None

    items = client.get(API + "/clusters", headers=staff.headers("editor")).json["items"]
    shown = {item["exact"]: item["fixed_detected_at"] for item in items}
    assert shown["обьявил"] and shown["вагоны"] is None
    with app.app_context():
        [entry] = db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.action == "report.fixed_detected")).scalars().all()
        assert (entry.actor_label, entry.reason) == ("system", "the quote is no longer on the page")


def test_a_quote_back_on_the_page_clears_the_flag(app, client, newsroom, drain):
    report_both(client, newsroom, drain)
    newsroom.server.page(PATH, article(FIXED))
    assert check(app)["detected"] == 1
    newsroom.server.page(PATH, article(TYPO))
    check(app, force=True)
    assert clusters(app)["обьявил"].detected is None


@pytest.mark.parametrize("answer", [
    (404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>"),
    (200, {"Content-Type": "text/html"}, b"<html><body><p>Loading</p></body></html>"),
    (200, {"Content-Type": "text/html"}, "<p>Совсем другая статья о погоде: завтра снег и мороз, "
     "а к выходным синоптики обещают оттепель, гололёд на дорогах и сильный ветер в пригородах. "
     "Коммунальные службы переведены в режим повышенной готовности до конца недели.</p>".encode()),
    (503, {"Content-Type": "text/html"}, b"busy"),
], ids=["404", "empty", "another-article", "503"])
def test_a_missing_empty_or_different_page_marks_nothing(app, client, newsroom, drain, answer):
    report_both(client, newsroom, drain)
    newsroom.server.routes[PATH] = answer
    summary = check(app)
    assert summary["pages"] == 1 and summary["detected"] == 0
    assert all(c.detected is None and c.checked for c in clusters(app).values())


def test_recently_checked_pages_are_skipped_unless_forced(app, client, newsroom, drain):
    report_both(client, newsroom, drain)
    app.config["FIXED_CHECK_INTERVAL"] = 3600  # set after the drain: its worker would schedule a check
    assert check(app)["pages"] == 1
    assert check(app)["pages"] == 0
    assert newsroom.server.hits == [PATH]
    assert check(app, force=True)["pages"] == 1
    assert newsroom.server.hits == [PATH, PATH]


def test_pages_outside_the_sites_origins_are_never_fetched(app, client, newsroom, drain):
    report_both(client, newsroom, drain)
    with app.app_context():
        db.session.execute(sa.update(Site).where(Site.key == "local")
                           .values(allowed_origins=["https://news.example"]))
        db.session.commit()
    assert check(app)["outcomes"] == {"refused": 1}
    assert newsroom.server.hits == []


def test_a_loopback_page_is_refused_without_the_allow_list(app, client, newsroom, drain):
    report_both(client, newsroom, drain)
    app.config["FETCH_ALLOWED_NETWORKS"] = ()
    assert check(app)["outcomes"] == {"refused": 1}
    assert newsroom.server.hits == []


def test_decided_clusters_are_not_checked(app, client, newsroom, drain, staff):
    report(client, newsroom.url, "обьявил", "Вчера мэр ", " о запуске новой")
    drain()
    headers = staff.headers("editor")
    [item] = client.get(API + "/clusters", headers=headers).json["items"]
    assert client.post(f"{API}/clusters/{item['id']}/fix", headers=headers, json={}).status_code == 200
    assert check(app)["pages"] == 0 and newsroom.server.hits == []


def test_the_worker_schedules_the_check_once_per_interval(app, client, newsroom, drain):
    app.config["FIXED_CHECK_INTERVAL"] = 3600
    report(client, newsroom.url, "обьявил", "Вчера мэр ", " о запуске новой")
    newsroom.server.page(PATH, article(FIXED))
    drain()  # maintenance enqueues the check behind the drain job; both run
    assert newsroom.server.hits == [PATH]
    assert clusters(app)["обьявил"].detected is not None
    assert app.broker.redis.ttl(SCHEDULE_KEY) > 0

    report(client, newsroom.url, "вагоны", "Первые ", " выйдут на маршрут")
    drain()  # within the interval: no second check
    assert newsroom.server.hits == [PATH]


def test_a_job_hands_over_when_its_page_budget_is_spent(app, client, newsroom, drain):
    newsroom.server.page("/news/other", article(FIXED))
    report(client, newsroom.url, "обьявил", "Вчера мэр ", " о запуске новой")
    report(client, newsroom.server.url("/news/other"), "вагоны", "Первые ", " выйдут на маршрут")
    drain()
    app.config["FIXED_CHECK_PAGES"] = 1
    with app.app_context():
        summary = check_fixed_job()
    assert summary["pages"] == 1 and summary["more"] is True
    assert app.broker.queue.count == 1  # the rest, queued behind whatever came meanwhile
    drain()
    assert sorted(newsroom.server.hits) == sorted([PATH, "/news/other"])
    assert all(c.checked for c in clusters(app).values())


def test_the_cli_runs_the_check_now(app, client, newsroom, drain, runner):
    report_both(client, newsroom, drain)
    newsroom.server.page(PATH, article(FIXED))
    done = runner.invoke(args=["check-fixed", "--site", "local"])
    assert done.exit_code == 0, done.output
    assert "Checked 1 page(s) (checked: 1); 1 newly detected as fixed." in done.output
    missing = runner.invoke(args=["check-fixed", "--site", "nope"])
    assert missing.exit_code != 0 and "no site 'nope'" in missing.output


def test_page_text_leaves_out_scripts_and_styles():
    html = ("<html><head><script>var a = 'тайна';</script><style>.x{}</style></head><body>"
            "<p>Один&nbsp;два</p><p>три</p><noscript>включите JS</noscript></body></html>")
    assert page_text(html) == "Один\xa0два три".replace("\xa0", " ")
    # An unclosed skipped element before <body> must not hide the article.
    assert "статья" in page_text("<head><noscript><svg><body><p>статья</p>")


def test_matching_ignores_case_whitespace_and_invisible_characters():
    text = normalize("Вчера МЭР\n  обь\u00adявил о\u00a0запуске новой линии " * 10)
    assert verdict(text, "обьявил", "Вчера мэр ", " о запуске", min_text=50) == "present"
    fixed = normalize("Вчера мэр объявил о запуске новой линии " * 10)
    assert verdict(fixed, "обьявил", "Вчера мэр ", " о запуске", min_text=50) == "gone"
    assert verdict(fixed, "обьявил", "", "", min_text=50) == "gone"
    assert verdict(normalize("короткий текст"), "обьявил", "мэр ", "", min_text=50) == "unsure"
    other = normalize("совсем другая статья без знакомых слов " * 10)
    assert verdict(other, "обьявил", "Вчера мэр ", " о запуске", min_text=50) == "unsure"


def test_the_dashboard_shows_the_detected_badge(app, client, newsroom, drain, auth):
    report_both(client, newsroom, drain)
    newsroom.server.page(PATH, article(FIXED))
    check(app)
    auth.login(role="editor")
    queue = client.get("/dashboard/reports?status=new").get_data(as_text=True)
    assert queue.count("data-fixed-detected") == 1
    assert "Fixed on the page (detected)" in queue
    with app.app_context():
        cluster_id = db.session.execute(
            sa.select(ReportCluster.id).where(ReportCluster.exact == "обьявил")).scalar_one()
    item = client.get(f"/dashboard/reports/{cluster_id}").get_data(as_text=True)
    assert "Live page last checked" in item and "data-fixed-detected" in item


def test_the_dashboard_filters_the_detected_spots(app, client, newsroom, drain, auth):
    report_both(client, newsroom, drain)
    newsroom.server.page(PATH, article(FIXED))
    check(app)
    auth.login(role="editor")
    everything = client.get("/dashboard/reports?status=new").get_data(as_text=True)
    detected = client.get("/dashboard/reports?status=new&detected=1").get_data(as_text=True)
    assert "data-filter-detected" in everything
    assert everything.count('data-kind="cluster"') == 2
    assert detected.count('data-kind="cluster"') == 1 and "обьявил" in detected
