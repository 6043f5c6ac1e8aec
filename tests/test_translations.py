"""Dashboard catalogs: complete, compiled, and in step with the templates and code."""
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "moderation" / "translations"


def _po(lang):
    with (CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def test_every_string_in_the_code_is_in_the_russian_catalog_and_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
         "-k", "lazy_gettext", "--no-location", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    catalog = _po("ru")
    have = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    assert wanted - set(have) == set(), "run `make translations` and translate the new strings"
    untranslated = [key for key in wanted if not have[key].string or have[key].fuzzy]
    assert untranslated == []


def _plain(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_compiled_catalog_matches_the_po():
    po = {_plain(m.id): _plain(m.string) for m in _po("ru") if m.id and not m.fuzzy}
    with (CATALOGS / "ru" / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        mo = {_plain(m.id): _plain(m.string) for m in read_mo(fh) if m.id}
    assert po == mo, "run `make translations` (pybabel compile)"


def test_dashboard_speaks_russian(app, client, auth):
    auth.login(role="editor")
    page = client.get("/dashboard/comments", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    assert "Комментарии" in page and "Ошибки в текстах" in page and "Ожидают" in page
    english = client.get("/dashboard/comments", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Pending" in english and "Ожидают" not in english
