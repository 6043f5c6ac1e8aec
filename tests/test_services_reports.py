"""Same-spot reports form one cluster; a decision on the cluster answers every reader."""
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, ReportCluster, TypoReport, User
from moderation.services import reports as service

from support.payloads import report_payload


def post_reports(client, *payloads):
    for payload in payloads:
        assert client.post("/api/v1/reports", json=payload,
                           environ_base={"REMOTE_ADDR": payload["client_id"][:8]}).status_code == 202


def clusters(app):
    with app.app_context():
        return [(c.id, c.exact, c.report_count, c.status)
                for c in db.session.execute(sa.select(ReportCluster).order_by(ReportCluster.id)).scalars()]


def test_readers_reporting_one_spot_make_one_cluster(app, client, site, drain):
    near = "Как сообщалось. Вчера мэр "  # the 16 characters next to the selection agree
    same = [report_payload(suggestion=s, prefix="Ранее " + near) for s in ("объявил", "объявил", "обявил")]
    # Context further away differs (e.g. the article was edited above): still the same spot.
    same[2]["prefix"] = "Совсем другое начало. " + near
    other = report_payload(exact="в течении", prefix="работы ", suffix=" года", suggestion="в течение")
    post_reports(client, *same, other)
    drain()
    assert [(exact, n, status) for _, exact, n, status in clusters(app)] == [
        ("обьявил", 3, "new"), ("в течении", 1, "new")]
    with app.app_context():
        cluster = db.session.execute(sa.select(ReportCluster)).scalars().first()
        assert cluster.suggestions() == [("объявил", 2), ("обявил", 1)]
        assert cluster.best_suggestion() == "объявил"


def test_fixing_a_cluster_answers_every_reader_and_later_ones(app, client, site, drain, staff):
    staff.token("editor", email="ed@news.example")
    payloads = [report_payload() for _ in range(3)]
    post_reports(client, *payloads)
    drain()
    [(cluster_id, _, _, _)] = clusters(app)
    with app.app_context():
        editor = db.session.execute(sa.select(User).where(User.email == "ed@news.example")).scalar_one()
        service.fix_cluster(cluster_id, editor)  # correction defaults to the best suggestion
        entry = db.session.execute(sa.select(AuditEntry)).scalar_one()
        assert (entry.action, entry.target_type, entry.target_id) == ("report.fix", "cluster", cluster_id)
    for payload in payloads:
        assert client.get(f"/api/v1/submissions/{payload['client_id']}", query_string={"site": "test-site"}).json["status"] == "fixed"
    late = report_payload()
    post_reports(client, late)
    drain()
    assert client.get(f"/api/v1/submissions/{late['client_id']}", query_string={"site": "test-site"}).json["status"] == "fixed"
    with app.app_context():
        assert db.session.get(ReportCluster, cluster_id).report_count == 4
        corrections = db.session.execute(sa.select(TypoReport.correction)).scalars().all()
        assert corrections == ["объявил"] * 4


def test_reopen_puts_a_decided_spot_back_in_new(app, client, site, drain, staff):
    staff.token("editor", email="ed2@news.example")
    post_reports(client, report_payload())
    drain()
    [(cluster_id, _, _, _)] = clusters(app)
    with app.app_context():
        editor = db.session.execute(sa.select(User).where(User.email == "ed2@news.example")).scalar_one()
        service.reject_cluster(cluster_id, editor, "не ошибка")
        service.reopen_cluster(cluster_id, editor)
        cluster = db.session.get(ReportCluster, cluster_id)
        assert (cluster.status, cluster.decided_at) == ("new", None)
        actions = db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
        assert actions == ["report.reject", "report.reopen"]


def test_status_tells_a_later_reader_the_spot_was_already_reported(app, client, site, drain):
    first, second = report_payload(), report_payload()
    post_reports(client, first)
    drain()
    post_reports(client, second)
    drain()
    assert client.get(f"/api/v1/submissions/{first['client_id']}", query_string={"site": "test-site"}).json["already_reported"] is False
    assert client.get(f"/api/v1/submissions/{second['client_id']}", query_string={"site": "test-site"}).json == {
        "id": second["client_id"], "status": "pending", "already_reported": True}


def test_wider_narrower_overlapping_and_respaced_selections_join_one_cluster(app, client, site, drain):
    sentence = ("В понедельник ", "мэр обьявил о запуске", " новой трамвайной линии")
    variants = [
        report_payload(prefix="Вчера мэр ", exact="обьявил", suffix=" о запуске новой линии"),
        # Wider: the reader took the neighbouring words too.
        report_payload(prefix="Вчера ", exact="мэр обьявил о", suffix=" запуске новой линии"),
        # Overlapping: starts inside the first selection, ends after it.
        report_payload(prefix="Вчера мэр обь", exact="явил о запуске", suffix=" новой линии", suggestion=None),
        # Other spacing and case (a line break in the page, a capital in the selection).
        report_payload(prefix="Вчера  мэр\n", exact="Обьявил", suffix=" о  запуске новой", suggestion="Объявил"),
        # A backwards selection is sent in reading order by the widget: the same anchor.
        report_payload(prefix="Вчера мэр ", exact="обьявил", suffix=" о запуске новой линии"),
    ]
    # The same word elsewhere in the article: another spot.
    elsewhere = report_payload(prefix=sentence[0], exact="обьявил", suffix=" о закрытии моста")
    post_reports(client, *variants, elsewhere)
    drain()
    rows = clusters(app)
    assert [(exact, n) for _, exact, n, _ in rows] == [("обьявил", 5), ("обьявил", 1)]
    with app.app_context():
        first = db.session.get(ReportCluster, rows[0][0])
        assert {r.exact for r in first.reports} == {"обьявил", "мэр обьявил о", "явил о запуске", "Обьявил"}
    # A later reader of the overlapping spot is told it was already reported.
    later = report_payload(prefix="Вчера мэр ", exact="обьявил о", suffix=" запуске новой линии")
    post_reports(client, later)
    drain()
    response = client.get(f"/api/v1/submissions/{later['client_id']}", query_string={"site": "test-site"})
    assert response.status_code == 200 and response.json.get("already_reported") is True
