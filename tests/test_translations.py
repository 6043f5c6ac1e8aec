"""Dashboard catalogs: complete, compiled, and in step with the templates and code; every
stored code (audit action, status) shown in words, in English, Russian and Kazakh."""
import ast
import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "moderation" / "translations"
TRANSLATED = ("ru", "kk")  # the dashboard's languages besides English, the source


def _po(lang):
    with (CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


@pytest.fixture(scope="module")
def wanted(tmp_path_factory):
    """Every msgid of the code and templates, extracted afresh (not the committed .pot)."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
         "-k", "lazy_gettext", "--no-location", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_string_in_the_code_is_in_the_catalog_and_translated(wanted, lang):
    catalog = _po(lang)
    have = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    assert wanted - set(have) == set(), "run `make translations` and translate the new strings"
    untranslated = [key for key in wanted if not have[key].string or have[key].fuzzy
                    or (isinstance(have[key].string, tuple) and not all(have[key].string))]
    assert untranslated == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_their_placeholders(lang):
    def names(text):
        return sorted(re.findall(r"%\((\w+)\)[sd]", text))

    for m in _po(lang):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(names(s) == names(ids[-1]) for s in strings), (lang, m.id, m.string)


def _plain(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


@pytest.mark.parametrize("lang", TRANSLATED)
def test_compiled_catalog_matches_the_po(lang):
    po = {_plain(m.id): _plain(m.string) for m in _po(lang) if m.id and not m.fuzzy}
    with (CATALOGS / lang / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        mo = {_plain(m.id): _plain(m.string) for m in read_mo(fh) if m.id}
    assert po == mo, "run `make translations` (pybabel compile)"


def test_dashboard_speaks_russian(app, client, auth):
    auth.login(role="editor")
    page = client.get("/dashboard/comments", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    assert "Комментарии" in page and "Ошибки в текстах" in page and "Ожидают" in page
    english = client.get("/dashboard/comments", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Pending" in english and "Ожидают" not in english


# ---------- Kazakh, and stored codes in words ----------
KK = {"Accept-Language": "kk-KZ,kk;q=0.9"}


def _written_audit_actions():
    """Audit action codes written anywhere in moderation/: the string constants shaped like
    `comment.approve` in modules that write audit entries, and the action registry's codes,
    less notification events, endpoints and column references."""
    from moderation.models.notifications import EVENTS

    found = set()
    for path in (ROOT / "moderation").rglob("*.py"):
        source = path.read_text()
        if "AuditEntry(" not in source and "audit(" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and re.fullmatch(r"[a-z]+\.[a-z_]+", node.value):
                found.add(node.value)
    from moderation.services.actions import ACTIONS  # the registry's codes, written through audit()

    found |= {action.audit for action in ACTIONS}
    return {code for code in found if code not in EVENTS and not code.startswith("dashboard.")
            and not code.endswith(".id")}


def test_every_audit_action_and_status_has_a_label():
    from moderation.dashboard.labels import ACTIONS, STATUSES
    from moderation.models.content import COMMENT_STATUSES, REPORT_STATUSES

    written = _written_audit_actions()
    assert {"comment.approve", "report.fix", "person.erase", "webhook.delete"} <= written  # the scan works
    assert written - set(ACTIONS) == set(), "give the new audit action a label in dashboard/labels.py"
    assert set(STATUSES) == set(COMMENT_STATUSES) | set(REPORT_STATUSES)


def test_sign_in_page_speaks_kazakh(client):
    page = client.get("/dashboard/login", headers=KK).get_data(as_text=True)
    assert '<html lang="kk">' in page and "Кіру" in page and "Құпиясөз" in page
    assert "Sign in" not in page


def _approved_comment(app, client, auth, drain):
    """Two comments stored through the API and worker, the first approved by a moderator."""
    from moderation.extensions import db
    from moderation.models import Comment
    from support.payloads import comment_payload

    for _ in range(2):
        assert client.post("/api/v1/comments", json=comment_payload()).status_code == 202
    drain()
    with app.app_context():
        first = db.session.execute(sa.select(Comment.id).order_by(Comment.id).limit(1)).scalar_one()
    auth.login(role="moderator")
    token = auth.csrf("/dashboard/")
    assert client.post(f"/dashboard/comments/{first}/approve", data={"csrf_token": token}).status_code == 302
    return first


def test_queue_history_audit_and_stats_speak_kazakh(app, client, auth, site, drain):
    comment_id = _approved_comment(app, client, auth, drain)
    queue = client.get("/dashboard/comments", headers=KK).get_data(as_text=True)
    for word in ("Пікірлер", "Күтудегілер", "Мақұлдау", "Қабылдамау", "Спам",
                 "Әрекеттер журналы", "Пернетақта", "Қазақша"):
        assert word in queue, word
    assert "Pending" not in queue and "Approve" not in queue
    history = html.unescape(client.get(f"/dashboard/comments/{comment_id}", headers=KK).get_data(as_text=True))
    assert "Пікір мақұлданды" in history and "күтуде → мақұлданды" in history
    audit = html.unescape(client.get("/dashboard/audit", headers=KK).get_data(as_text=True))
    assert "Пікір мақұлданды" in audit and "күйі:" in audit and "күтуде → мақұлданды" in audit
    assert "Барлық әрекеттер" in audit and ">Қате түзетілді</option>" in audit  # the action filter
    # The code stays a value (filters, links), never the text a person reads.
    visible = re.sub(r"<[^>]+>", " ", audit)
    assert "comment.approve" not in visible and "pending" not in visible and "approved" not in visible
    stats = client.get("/dashboard/stats", headers=KK).get_data(as_text=True)
    assert "Модераторлар бойынша шешімдер" in stats and "Шешімге дейінгі медианалық уақыт" in stats


def test_russian_audit_log_shows_words_not_codes(app, client, auth, site, drain):
    _approved_comment(app, client, auth, drain)
    audit = html.unescape(client.get("/dashboard/audit", headers={"Accept-Language": "ru"}).get_data(as_text=True))
    assert "Комментарий одобрен" in audit and "ожидает → одобрен" in audit and "статус:" in audit
    visible = re.sub(r"<[^>]+>", " ", audit)
    assert "comment.approve" not in visible and "pending → approved" not in visible


def test_the_saved_language_choice_takes_kazakh(app, client, auth):
    auth.login(role="editor")
    token = auth.csrf("/dashboard/comments")
    assert client.post("/dashboard/language", data={"csrf_token": token, "locale": "kk",
                                                    "next": "/dashboard/comments"}).status_code == 302
    page = client.get("/dashboard/comments", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="kk">' in page and "Күтудегілер" in page
