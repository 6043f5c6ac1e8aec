"""The served widget is the minified build of its source, and within the size budget."""
import gzip
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


BUNDLES = {"en": "widget.js", "ru": "widget.ru.js", "kk": "widget.kk.js"}
TITLES = {"en": "Report an error", "ru": "Сообщить об ошибке", "kk": "Қате туралы хабарлау"}


def _bundle(lang):
    return (ROOT / "static" / "js" / BUNDLES[lang]).read_text(encoding="utf-8")


def test_every_bundle_is_the_current_build_and_within_budget():
    """--check needs no Node: each bundle's header names the digest of its inputs (with
    node_modules it also rebuilds them with terser and compares)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_widget.py"), "--check"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    for lang, name in BUNDLES.items():
        assert f"{name}: " in result.stdout
        served = (ROOT / "static" / "js" / name).read_bytes()
        assert served.startswith(f"/*{lang} ".encode())
        assert len(gzip.compress(served, 9)) <= 8 * 1024, name


def test_a_bundle_with_an_edited_source_or_string_is_stale(tmp_path, monkeypatch):
    tool = _build_tool()
    sources, _gaps = tool.prepare()
    assert tool.stale(sources) == []
    edited = dict(sources, ru=sources["ru"].replace("Сообщить об ошибке", "Сообщите об ошибке"))
    assert tool.stale(edited) == ["widget.ru.js"]
    monkeypatch.setattr(tool, "STATIC_JS", tmp_path)
    assert tool.stale(sources) == ["widget.js", "widget.ru.js", "widget.kk.js"]  # missing files


def test_each_bundle_holds_its_own_language_only():
    for lang in BUNDLES:
        served = _bundle(lang)
        assert f'title:"{TITLES[lang]}"' in served
        for other, title in TITLES.items():
            if other != lang:
                assert title not in served, f"{BUNDLES[lang]} carries {other}"
        assert served.count("title:\"") == 1


def test_widget_has_no_eval_or_inline_handlers():
    source = (ROOT / "static" / "js" / "src" / "widget.js").read_text()
    for banned in ("eval(", "new Function", "setAttribute(\"on", "document.write", "insertAdjacentHTML"):
        assert banned not in source
    # The one HTML sink is the comment body the server sanitized with bleach.
    assert source.count("innerHTML") == 1 and "body.innerHTML = c.body_html" in source


def test_readme_and_embedding_guide_quote_every_bundles_integrity_hash(app, client):
    """The embed snippets must be copy-pasteable: their SRI values match the files."""
    from moderation.assets import integrity

    readme = (ROOT / "README.md").read_text()
    guide = (ROOT / "docs" / "embedding.md").read_text()
    for name in BUNDLES.values():
        with app.app_context():
            value = integrity(f"js/{name}")
        assert f'src="https://SERVICE/static/js/{name}"' in guide
        assert f'integrity="{value}"' in readme and f'integrity="{value}"' in guide, name
        response = client.get(f"/static/js/{name}")
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_demo_and_the_site_snippet_name_the_bundle_of_the_sites_language(app, client):
    from moderation.assets import widget_file

    with app.app_context():
        assert [widget_file(lang) for lang in ("ru", "kk", "en", "de", "")] == [
            "js/widget.ru.js", "js/widget.kk.js", "js/widget.js", "js/widget.js", "js/widget.js"]
    page = client.get("/demo").get_data(as_text=True)
    assert 'src="/static/js/widget.ru.js"' in page


# ---------- widget strings: the Babel domain "widget" (docs/i18n.md) ----------
import importlib.util  # noqa: E402
import json  # noqa: E402

import pytest  # noqa: E402

from babel.messages.pofile import read_po  # noqa: E402

CATALOGS = ROOT / "moderation" / "translations"
WIDGET_LANGUAGES = ("ru", "kk", "en")


def _build_tool():
    spec = importlib.util.spec_from_file_location("build_widget", ROOT / "tools" / "build_widget.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _widget_po(lang, root=CATALOGS):
    with (root / lang / "LC_MESSAGES" / "widget.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def _extract_widget_pot(tmp_path):
    """What `make translations` extracts from the source today (python -m: the extractor lives in tools/)."""
    pot = tmp_path / "widget.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel-widget.cfg",
         "--no-location", "--omit-header", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        return {(m.context, m.id) for m in read_po(fh) if m.id}


def test_every_widget_key_is_translated_in_ru_kk_and_en_and_the_build_carries_it(tmp_path):
    wanted = _extract_widget_pot(tmp_path)
    keys = {key for key, _english in wanted}
    assert {"title", "send", "min", "replyTo", "fixMail"} <= keys and len(keys) == len(wanted)
    for lang in WIDGET_LANGUAGES:
        served = _bundle(lang)
        catalog = _widget_po(lang)
        have = {(m.context, m.id): m for m in catalog if m.id}
        assert wanted - set(have) == set(), f"{lang}: run `make translations`"
        untranslated = [key for key, english in wanted
                        if not have[(key, english)].string.strip() or have[(key, english)].fuzzy]
        assert untranslated == [], f"{lang}/widget.po: translate {untranslated}"
        for key, english in wanted:
            text = have[(key, english)].string
            # The spaces around "min ago" or "Reply to" are how the widget joins its words.
            assert (text[:1] == " ") == (english[:1] == " ") and (text[-1:] == " ") == (english[-1:] == " "), key
            assert f"{key}:{json.dumps(text, ensure_ascii=False)}" in served, f"{lang}.{key} missing from {BUNDLES[lang]}"
    assert _widget_po("ru").get("Report an error", context="title").string == "Сообщить об ошибке"
    assert _widget_po("kk").get("Report an error", context="title").string == "Қате туралы хабарлау"


def test_a_new_language_catalog_reaches_the_widget_and_gaps_fall_back_to_english(tmp_path, monkeypatch):
    """The documented step: `pybabel init -D widget -l de`, translate, build."""
    catalogs = tmp_path / "translations"
    for lang in WIDGET_LANGUAGES:
        (catalogs / lang / "LC_MESSAGES").mkdir(parents=True)
        (catalogs / lang / "LC_MESSAGES" / "widget.po").write_bytes(
            (CATALOGS / lang / "LC_MESSAGES" / "widget.po").read_bytes())
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "init", "-D", "widget", "-l", "de",
         "-i", str(CATALOGS / "widget.pot"), "-d", str(catalogs)],
        cwd=ROOT, check=True, capture_output=True,
    )
    po = catalogs / "de" / "LC_MESSAGES" / "widget.po"
    text = po.read_text(encoding="utf-8").replace(
        'msgctxt "title"\nmsgid "Report an error"\nmsgstr ""', 'msgctxt "title"\nmsgid "Report an error"\nmsgstr "Fehler melden"')
    assert "Fehler melden" in text
    po.write_text(text, encoding="utf-8")

    tool = _build_tool()
    before, _gaps = tool.prepare()
    monkeypatch.setattr(tool, "CATALOGS", catalogs)
    assert tool.catalog_languages() == ["en", "ru", "kk", "de"]
    sources, gaps = tool.prepare()
    assert 'title: "Fehler melden"' in sources["de"]
    assert 'send: "Send"' in sources["de"], "an untranslated key falls back to English"
    assert "de: send" in gaps and "de: title" not in gaps and not [g for g in gaps if not g.startswith("de:")]
    # A fourth language adds a bundle and nothing to the others.
    assert {lang: sources[lang] for lang in before} == before
    assert tool.bundle_name("de") == "widget.de.js" and "Fehler melden" not in sources["ru"]
    if not tool.MINIFIER.exists():
        pytest.skip("no node_modules: the bundle itself needs terser (`make install`)")
    built, _ = tool.build({"de": sources["de"]})
    assert 'title:"Fehler melden"' in built["widget.de.js"]
    assert tool.sizes(built["widget.de.js"])[1] <= tool.BUDGET_GZIP


def test_the_source_keeps_english_only_so_translations_live_in_the_catalogs():
    tool = _build_tool()
    from calmjs.parse import es5

    source = (ROOT / "static" / "js" / "src" / "widget.js").read_text(encoding="utf-8")
    table = tool.english_table(es5(source))
    assert ("title", "Report an error") in [(key, text) for key, text, _line in table]
    assert "Сообщить" not in source and "Қате" not in source
