"""Issue 18: the public corrections log (GET /api/v1/corrections) and the site's Atom feed."""
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Correction, Page
from moderation.models.sites import url_hash

from support.payloads import ARTICLE, ORIGIN

ATOM = "{http://www.w3.org/2005/Atom}"
OTHER = ORIGIN + "/2026/11/bridge"


def add_correction(app, site, url=ARTICLE, kind="fact", text="Иванов", note="An earlier version misspelled it.",
                   minutes_ago=0, published=True):
    with app.app_context():
        page = db.session.execute(sa.select(Page).where(Page.url_hash == url_hash(url))).scalar_one_or_none()
        if page is None:
            page = Page(site_id=site.id, url=url, url_hash=url_hash(url), title="Tram <line> & more")
            db.session.add(page)
            db.session.flush()
        when = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
        row = Correction(site_id=site.id, page_id=page.id, kind=kind, text=text, note=note, corrected_at=when,
                         changed_at=when, published=published)
        db.session.add(row)
        db.session.commit()
        return row.id


def corrections(client, url=ARTICLE, **headers):
    return client.get("/api/v1/corrections", query_string={"site": "test-site", "url": url}, headers=headers)


def test_no_corrections_is_an_empty_list(client, site):
    response = corrections(client)
    assert response.status_code == 200 and response.json == {"corrections": []}


def test_published_corrections_newest_first(app, client, site):
    add_correction(app, site, kind="typo", text="объявил", note=None, minutes_ago=10)
    add_correction(app, site, kind="editor", text="The tram opens in May, not June.", note=None, minutes_ago=5)
    add_correction(app, site, text="hidden", published=False)
    add_correction(app, site, url=OTHER, text="another article")
    response = corrections(client, url=ARTICLE + "?utm_source=feed")  # normalized like everywhere
    assert response.status_code == 200
    found = response.json["corrections"]
    assert [(c["kind"], c["text"], c["note"]) for c in found] == [
        ("editor", "The tram opens in May, not June.", None), ("typo", "объявил", None)]
    assert all(c["corrected_at"].endswith("Z") for c in found)
    datetime.fromisoformat(found[0]["corrected_at"].replace("Z", "+00:00"))


def test_corrections_are_cacheable_like_the_list(app, client, site):
    response = corrections(client, Origin=ORIGIN)
    assert response.headers["Cache-Control"].startswith("public, max-age=0, s-maxage=")
    assert "origin" in response.headers["Vary"].lower()
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    etag = response.headers["ETag"]
    assert corrections(client, **{"If-None-Match": etag}).status_code == 304
    correction_id = add_correction(app, site)
    changed = corrections(client, **{"If-None-Match": etag})
    assert changed.status_code == 200 and len(changed.json["corrections"]) == 1
    etag = changed.headers["ETag"]
    with app.app_context():  # unpublished: the ETag moves again
        row = db.session.get(Correction, correction_id)
        row.published, row.changed_at = False, datetime.now(timezone.utc) + timedelta(seconds=1)
        db.session.commit()
    gone = corrections(client, **{"If-None-Match": etag})
    assert gone.status_code == 200 and gone.json == {"corrections": []}


def test_bad_corrections_queries(client, site):
    assert client.get("/api/v1/corrections", query_string={"site": "test-site"}).status_code == 400
    assert client.get("/api/v1/corrections", query_string={"url": ARTICLE}).status_code == 400
    assert client.get("/api/v1/corrections", query_string={"site": "nope", "url": ARTICLE}).status_code == 403
    assert client.get("/api/v1/corrections.atom").status_code == 400


def test_the_atom_feed_is_valid_and_newest_first(app, client, site):
    add_correction(app, site, kind="typo", text="объявил", note=None, minutes_ago=10)
    add_correction(app, site, url=OTHER, text="<b>Smith</b> & Co", note='Said "Smyth" <sic>', minutes_ago=1)
    add_correction(app, site, text="hidden", published=False)
    response = client.get("/api/v1/corrections.atom", query_string={"site": "test-site"})
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    assert response.headers["Cache-Control"].startswith("public, max-age=0, s-maxage=")
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{tag}").text
    assert feed.find(f"{ATOM}author/{ATOM}name").text == "Test News"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    links = [entry.find(f"{ATOM}link[@rel='alternate']").get("href") for entry in entries]
    assert links == [OTHER, ARTICLE]  # newest first, each linking its article
    ids = [entry.find(f"{ATOM}id").text for entry in entries]
    assert len(set(ids)) == 2
    first = entries[0]
    assert first.find(f"{ATOM}summary").text == 'Said "Smyth" <sic>'  # escaped text, parsed back as text
    assert first.find(f"{ATOM}content").text == "<b>Smith</b> & Co"
    assert first.find(f"{ATOM}category").get("term") == "fact"
    updated = [datetime.fromisoformat(e.find(f"{ATOM}updated").text.replace("Z", "+00:00")) for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert feed.find(f"{ATOM}updated").text == entries[0].find(f"{ATOM}updated").text
    etag = response.headers["ETag"]
    again = client.get("/api/v1/corrections.atom", query_string={"site": "test-site"},
                       headers={"If-None-Match": etag})
    assert again.status_code == 304


# -- the editors' side: publishing from a fix, by hand, unpublishing ----------------------

def reported_spot(app, client, drain, kind="typo"):
    from moderation.models import ReportCluster  # noqa: PLC0415
    from support.payloads import report_payload  # noqa: PLC0415

    assert client.post("/api/v1/reports", json=report_payload(kind=kind)).status_code == 202
    drain()
    with app.app_context():
        return db.session.execute(sa.select(ReportCluster.id)).scalar_one()


def audit_actions(app):
    from moderation.models import AuditEntry  # noqa: PLC0415

    with app.app_context():
        return [e.action for e in db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_a_typo_fix_is_not_published_unless_chosen(app, client, site, drain, staff):
    cluster_id = reported_spot(app, client, drain)
    response = client.post(f"/api/v1/moderation/clusters/{cluster_id}/fix", json={"correction": "объявил"},
                           headers=staff.headers("editor"))
    assert response.status_code == 200
    assert corrections(client).json == {"corrections": []}
    assert "correction.publish" not in audit_actions(app)


def test_a_published_fix_is_on_the_log_and_a_reopen_takes_it_off(app, client, site, drain, staff):
    cluster_id = reported_spot(app, client, drain)
    headers = staff.headers("editor")
    response = client.post(f"/api/v1/moderation/clusters/{cluster_id}/fix",
                           json={"correction": "объявил", "publish": True, "note": "A typo in the lede."},
                           headers=headers)
    assert response.status_code == 200, response.json
    [found] = corrections(client).json["corrections"]
    assert (found["kind"], found["text"], found["note"]) == ("typo", "объявил", "A typo in the lede.")
    assert audit_actions(app)[-2:] == ["report.fix", "correction.publish"]
    assert client.post(f"/api/v1/moderation/clusters/{cluster_id}/reopen", headers=headers).status_code == 200
    assert corrections(client).json == {"corrections": []}
    assert audit_actions(app)[-1] == "correction.unpublish"


def test_a_fact_correction_needs_a_note_where_the_site_says_so(app, client, site, drain, staff):
    from moderation.models import ReportCluster, Site  # noqa: PLC0415

    cluster_id = reported_spot(app, client, drain, kind="fact")
    headers = staff.headers("editor")
    response = client.post(f"/api/v1/moderation/clusters/{cluster_id}/fix",
                           json={"correction": "Иванов", "publish": True}, headers=headers)
    assert response.status_code == 400 and "note" in response.json["fields"]
    with app.app_context():
        assert db.session.get(ReportCluster, cluster_id).status == "new"  # nothing changed
    response = client.post(f"/api/v1/moderation/clusters/{cluster_id}/fix",
                           json={"correction": "Иванов", "publish": "maybe", "note": "x"}, headers=headers)
    assert response.status_code == 400 and "publish" in response.json["fields"]
    with app.app_context():
        row = db.session.get(Site, site.id)
        row.settings = dict(row.settings or {}, correction_note_required=False)
        db.session.commit()
    response = client.post(f"/api/v1/moderation/clusters/{cluster_id}/fix",
                           json={"correction": "Иванов", "publish": True}, headers=headers)
    assert response.status_code == 200
    [found] = corrections(client).json["corrections"]
    assert (found["kind"], found["note"]) == ("fact", None)


def test_an_editor_writes_and_unpublishes_a_correction(app, client, site, staff):
    headers = staff.headers("editor")
    response = client.post("/api/v1/moderation/corrections", headers=headers, json={
        "site": "test-site", "url": ARTICLE + "#top", "text": "The tram opens in May.", "note": "We said June."})
    assert response.status_code == 200, response.json
    correction_id = response.json["id"]
    assert response.json["kind"] == "editor" and response.json["published"] is True
    [found] = corrections(client).json["corrections"]
    assert (found["kind"], found["text"], found["note"]) == ("editor", "The tram opens in May.", "We said June.")
    listing = client.get("/api/v1/moderation/corrections", headers=headers)
    assert [item["id"] for item in listing.json["items"]] == [correction_id]
    for bad in ({"site": "test-site", "url": ARTICLE}, {"site": "nope", "url": ARTICLE, "text": "x"},
                {"site": "test-site", "url": "not a url", "text": "x"}, {"site": ["x"], "url": ARTICLE, "text": "x"}):
        assert client.post("/api/v1/moderation/corrections", headers=headers, json=bad).status_code == 400, bad
    moderator = staff.headers("moderator")  # reports are editors' work
    assert client.post("/api/v1/moderation/corrections", headers=moderator, json={
        "site": "test-site", "url": ARTICLE, "text": "x"}).status_code == 403
    response = client.post(f"/api/v1/moderation/corrections/{correction_id}/unpublish", headers=headers,
                           json={"reason": "duplicate"})
    assert response.status_code == 200 and response.json["published"] is False
    assert corrections(client).json == {"corrections": []}
    assert audit_actions(app)[-2:] == ["correction.publish", "correction.unpublish"]
    assert client.post("/api/v1/moderation/corrections/999/unpublish", headers=headers).status_code == 404
