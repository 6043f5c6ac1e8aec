"""The moderation API on readers: the reader on each item, the reader panel, ban / unban /
trust / premoderate audited through the services, with the role and site rules of comments."""
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Reader, TypoReport
from moderation.models.base import utcnow

from support.accounts import make_site
from support.payloads import ARTICLE, ORIGIN
from support.readers import make_reader, reader_comment
from support.database import recorded_statements

API = "/api/v1/moderation"


def audit_rows(app, action):
    with app.app_context():
        return [e.to_dict() for e in db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).scalars()]


def test_comment_items_carry_their_reader_with_history(app, client, site, staff):
    anna = make_reader(app, site.id, sso_user="4711", name="Анна К.")
    reader_comment(app, anna, status="approved")
    reader_comment(app, anna, status="rejected")
    reader_comment(app, anna, status="spam")
    mine = reader_comment(app, anna)
    nobody = reader_comment(app, anna)
    with app.app_context():  # an older comment: no reader known
        from moderation.models import Comment
        db.session.get(Comment, nobody).reader_id = None
        db.session.commit()
    items = {i["id"]: i for i in client.get(f"{API}/comments", headers=staff.headers("moderator")).json["items"]}
    assert items[mine]["reader"] == {"id": f"sso:{site.id}:4711", "kind": "sso", "name": "Анна К.",
                                     "approved": 1, "rejected": 2, "banned_until": None}
    assert items[nobody]["reader"] is None


def test_listing_looks_readers_up_in_a_batch(app, client, site, staff):
    """Two queries for the readers of a page (readers, history), not one per item."""
    for n in range(5):
        reader_comment(app, make_reader(app, site.id, name=f"r{n}"))
    headers = staff.headers("moderator")
    client.get(f"{API}/comments", headers=headers)  # the token's first use writes its last_used_at

    def statements():
        with recorded_statements(app) as seen:
            items = client.get(f"{API}/comments", headers=headers).json["items"]
        assert all(i["reader"] for i in items)
        return len(items), len(seen)

    few = statements()
    for n in range(10):
        reader_comment(app, make_reader(app, site.id, name=f"s{n}"))
    many = statements()
    assert few[0] == 5 and many[0] == 15 and many[1] == few[1]


def test_report_items_carry_their_reader(app, client, site, staff):
    reader = make_reader(app, site.id, name="Читатель")
    with app.app_context():
        from support.readers import _page
        page = _page(site.id, ARTICLE)
        row = TypoReport(client_id="r-1", site_id=site.id, page_id=page.id, exact="обьявил", status="new",
                         reader_id=reader.id)
        db.session.add(row)
        db.session.commit()
    items = client.get(f"{API}/reports", headers=staff.headers("editor")).json["items"]
    assert items[0]["reader"]["id"] == reader.key and items[0]["reader"]["kind"] == "anonymous"


def test_ban_for_days_and_until_lifted_then_unban_audited(app, client, site, staff):
    reader = make_reader(app, site.id)
    headers = staff.headers("moderator")
    before = utcnow()
    response = client.post(f"{API}/readers/{reader.key}/ban", json={"days": 7, "reason": "insults"}, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["banned_until"] > before.isoformat() and not response.json["banned_until_lifted"]
    assert response.json["ban_reason"] == "insults"
    response = client.post(f"{API}/readers/{reader.key}/ban", headers=headers)
    assert response.json["banned_until"] == "9999-01-01T00:00:00Z" and response.json["banned_until_lifted"]
    cid = reader_comment(app, reader)
    item = next(i for i in client.get(f"{API}/comments", headers=headers).json["items"] if i["id"] == cid)
    assert item["reader"]["banned_until"] == "9999-01-01T00:00:00Z"
    response = client.post(f"{API}/readers/{reader.key}/unban", json={"reason": "appealed"}, headers=headers)
    assert response.status_code == 200 and response.json["banned_until"] is None
    bans, unbans = audit_rows(app, "reader.ban"), audit_rows(app, "reader.unban")
    assert len(bans) == 2 and bans[0]["reason"] == "insults" and bans[0]["target_type"] == "reader"
    assert bans[1]["after"]["banned_until"] == "9999-01-01T00:00:00Z"
    assert unbans[0]["reason"] == "appealed" and unbans[0]["after"]["banned_until"] is None


def test_trust_and_premoderate_switch_and_exclude_each_other(app, client, site, staff):
    reader = make_reader(app, site.id)
    headers = staff.headers("moderator")
    assert client.post(f"{API}/readers/{reader.key}/trust", headers=headers).json["trusted"] is True
    body = client.post(f"{API}/readers/{reader.key}/premoderate", json={"reason": "trolling"}, headers=headers).json
    assert body["premoderate"] is True and body["trusted"] is False
    body = client.post(f"{API}/readers/{reader.key}/premoderate", json={"on": False}, headers=headers).json
    assert body["premoderate"] is False
    assert len(audit_rows(app, "reader.trust")) == 1 and len(audit_rows(app, "reader.premoderate")) == 2


def test_bad_fields_are_400_and_change_nothing(app, client, site, staff):
    reader = make_reader(app, site.id)
    headers = staff.headers("moderator")
    for path, body, field in (("ban", {"days": 0}, "days"), ("ban", {"days": "7"}, "days"),
                              ("ban", {"days": 3651}, "days"), ("ban", {"reason": 5}, "reason"),
                              ("trust", {"on": "no"}, "on")):
        response = client.post(f"{API}/readers/{reader.key}/{path}", json=body, headers=headers)
        assert response.status_code == 400 and field in response.json["fields"], (body, response.json)
    assert client.post(f"{API}/readers/{reader.key}/ban", data="x", headers=headers).status_code == 415
    with app.app_context():
        row = db.session.get(Reader, reader.id)
        assert row.banned_until is None and not row.trusted
    assert audit_rows(app, "reader.ban") == []


def test_get_reader_shows_comments_across_articles_history_and_the_address_hint(app, client, site, staff):
    reader = make_reader(app, site.id, name="Гость", address="10.0.0.1")
    neighbour = make_reader(app, site.id, name="Сосед", address="10.0.0.1")
    reader_comment(app, reader, url=ARTICLE, status="approved", address="10.0.0.1")
    reader_comment(app, reader, url=f"{ORIGIN}/other-article", status="rejected", address="10.0.0.1",
                   decision_reason="off-topic")
    reader_comment(app, neighbour, status="approved", address="10.0.0.1")
    response = client.get(f"{API}/readers/{reader.key}", headers=staff.headers("moderator"))
    assert response.status_code == 200
    body = response.json
    assert body["id"] == reader.key and body["site"] == site.key and body["name"] == "Гость"
    assert body["history"] == {"approved": 1, "rejected": 1, "spam": 0}
    assert {(c["url"], c["status"]) for c in body["comments"]} == {
        (ARTICLE, "approved"), (f"{ORIGIN}/other-article", "rejected")}
    assert body["address_shared_by"] == 2  # a hint: the neighbour's comment is not in their history
    assert "email_hash" not in body and "address_hash" not in body


def test_sso_reader_ids_with_a_slash_are_reachable(app, client, site, staff):
    reader = make_reader(app, site.id, sso_user="team/4711", name="Анна")
    headers = staff.headers("moderator")
    assert client.get(f"{API}/readers/{reader.key}", headers=headers).json["id"] == reader.key
    assert client.post(f"{API}/readers/{reader.key}/ban", json={"days": 1}, headers=headers).status_code == 200


def test_roles_and_sites(app, client, site, staff):
    other = make_site(app, key="other-site", name="Other", allowed_origins=[ORIGIN])
    mine, theirs = make_reader(app, site.id), make_reader(app, other.id)
    limited = staff.headers("moderator", site_ids=(site.id,))
    assert client.get(f"{API}/readers/{mine.key}", headers=limited).status_code == 200
    for path in ("", "/ban", "/unban", "/trust", "/premoderate"):
        method = client.get if not path else client.post
        response = method(f"{API}/readers/{theirs.key}{path}", headers=limited)
        assert response.status_code == 404, (path, response.status_code)  # the same as "no such reader"
        assert method(f"{API}/readers/anon:nobody{path}", headers=limited).status_code == 404
        assert method(f"{API}/readers/{theirs.key}{path}").status_code == 401
    with app.app_context():
        assert db.session.get(Reader, theirs.id).banned_until is None
    # An admin without site limits reaches both.
    assert client.post(f"{API}/readers/{theirs.key}/ban", headers=staff.headers("admin")).status_code == 200
