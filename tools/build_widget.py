"""Build one minified widget bundle per language from static/js/src/widget.js; report their sizes.

    python tools/build_widget.py          # write static/js/widget.js (English), widget.<lang>.js
    python tools/build_widget.py --check  # exit 1 if a bundle is stale, missing or over budget

The widget's strings are a gettext domain of their own, "widget" (docs/i18n.md). The source keeps
only the English table `var STRINGS = {en: {key: "English", ...}}`; `pybabel extract` reads it
through `extract_widget_strings` below (msgctxt = the key, msgid = the English text), and the
build swaps that table, per bundle, for `{<lang>: {...}}` from that language's
`moderation/translations/<lang>/LC_MESSAGES/widget.po`: each bundle holds its own language only
(a new catalog adds a bundle and changes no other), and needs no catalog at run time.

Python prepares each bundle's source (calmjs.parse: strings, limits); terser, from npm (the exact
version pinned in package.json and package-lock.json), minifies it. terser, not esbuild: on this
source its compressor gives a bundle ~430 bytes smaller gzipped (8,556 against 8,988 for Russian,
measured when the comment votes, order, corrections and own-comment edits came in), which is what
keeps each bundle within the budget. Only the build needs Node: the bundles are committed, and each
one's header carries the digest of its inputs (the prepared source and the terser version), so
`--check` tells a stale bundle without Node; with node_modules it also rebuilds and compares byte
for byte.

The same way, the source's `var LIMITS = {};` is filled with the API contract's limits and enums
(moderation/schemas/limits.py, `widget_limits` below): the widget holds no copy of them.
"""
import argparse
import ast
import base64
import gzip
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from calmjs.parse import asttypes, es5
from calmjs.parse.unparsers.es5 import pretty_print
from calmjs.parse.walkers import Walker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation.schemas import limits  # noqa: E402  (plain constants: imports nothing else)

SOURCE = ROOT / "static" / "js" / "src" / "widget.js"
STATIC_JS = ROOT / "static" / "js"
CATALOGS = ROOT / "moderation" / "translations"
SITE_LANGUAGES = ROOT / "moderation" / "models" / "sites.py"
DOMAIN = "widget"
BUDGET_GZIP = 8 * 1024
MINIFIER = ROOT / "node_modules" / ".bin" / "terser"
# ecma 2017: what the source needs at most (ES5 plus fetch/Promise/URL, which browsers of that age
# have); unsafe_arrows: the source never uses `this` nor `new` on its functions, so callbacks may
# become arrow functions. UTF-8 output: Cyrillic as \uXXXX escapes would cost a third more.
MINIFIER_ARGS = ("--compress", "passes=3,unsafe_arrows=true", "--mangle", "--ecma", "2017")
# The bundle's language and the digest of its inputs (source: static/js/src/widget.js), short:
# every byte counts against the budget.
HEADER = "/*{lang} {digest}*/\n"
HEADER_RE = re.compile(r"^/\*(?P<lang>\S+) (?P<digest>[0-9a-f]{8})\*/\n")
IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def _var_node(tree, name, shape):
    """The declaration `var <name> = {...}` (ValueError if the source lost it)."""
    found = [node for node in Walker().filter(
        tree, lambda n: isinstance(n, asttypes.VarDecl) and getattr(n.identifier, "value", None) == name)]
    if len(found) != 1 or not isinstance(found[0].initializer, asttypes.Object):
        raise ValueError(f"static/js/src/widget.js must declare one `var {name} = {shape}`")
    return found[0]


def _strings_node(tree):
    return _var_node(tree, "STRINGS", "{en: {...}}")


def widget_limits():
    """What the widget must know of the API contract: input lengths, the selection's and its
    context's lengths, the report kinds, flag reasons and comment orders (in the order they are offered)."""
    return {
        "context": limits.CONTEXT_MAX, "exact": limits.EXACT_MAX, "suggestion": limits.SUGGESTION_MAX,
        "comment": limits.REPORT_COMMENT_MAX, "email": limits.EMAIL_MAX, "author": limits.AUTHOR_MAX,
        "body": limits.BODY_MAX, "kinds": list(limits.REPORT_KINDS), "reasons": list(limits.FLAG_REASONS),
        "sorts": list(limits.SORTS), "counts": limits.COUNTS_URLS_MAX,
    }


def _inject_limits(tree):
    node = _var_node(tree, "LIMITS", "{}")
    if node.initializer.properties:
        raise ValueError("the source's LIMITS stays empty: the limits come from moderation/schemas/limits.py")
    table = "{" + ",".join(f"{key}:{json.dumps(value)}" for key, value in widget_limits().items()) + "}"
    node.initializer = _var_node(es5(f"var LIMITS = {table};"), "LIMITS", "{}").initializer


def _key(node):
    """A property name as written: `title`, `"title"` or `'title'`."""
    if isinstance(node, asttypes.String):
        return json.loads(node.value) if node.value.startswith('"') else node.value[1:-1]
    return node.value


def english_table(tree):
    """[(key, English text, line)] in source order, from STRINGS.en."""
    languages = {_key(prop.left): prop.right for prop in _strings_node(tree).initializer.properties}
    if set(languages) != {"en"} or not isinstance(languages["en"], asttypes.Object):
        raise ValueError("the source STRINGS table holds English only; translations belong in widget.po")
    table = []
    for prop in languages["en"].properties:
        if not isinstance(prop.right, asttypes.String) or not prop.right.value.startswith('"'):
            raise ValueError(f"STRINGS.en.{_key(prop.left)}: a double-quoted string literal, please")
        table.append((_key(prop.left), json.loads(prop.right.value), prop.lineno))
    return table


def extract_widget_strings(fileobj, keywords, comment_tags, options):
    """Babel extractor for the "widget" domain (babel-widget.cfg): one pgettext(key, English) per key."""
    for key, text, line in english_table(es5(fileobj.read().decode("utf-8"))):
        comments = []
        if text != text.strip():
            comments.append("Keep the leading/trailing space: the widget joins this text with a number or a name.")
        yield line, "pgettext", [key, text], comments


def site_languages():
    """`LANGUAGES` of moderation/models/sites.py, read without importing the app."""
    tree = ast.parse(SITE_LANGUAGES.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["LANGUAGES"]:
            return list(ast.literal_eval(node.value))
    return []


def catalog_languages():
    """Every language with a widget.po: English first (the widget's fallback), then the site
    languages in their order, then any other catalog by code. A fixed order keeps the build
    reproducible (and its SRI hash stable) whatever order the file system lists catalogs in."""
    codes = {p.parent.parent.name for p in CATALOGS.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    ordered = ["en"] + [code for code in site_languages() if code in codes and code != "en"]
    return ordered + sorted(codes - set(ordered))


def translations(table):
    """{lang: {key: text}} and a list of gaps; a gap falls back to English rather than breaking the build."""
    result, gaps = {}, []
    for lang in catalog_languages():
        path = CATALOGS / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        catalog = None
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
        strings = {}
        for key, english, _line in table:
            message = catalog.get(english, context=key) if catalog is not None else None
            if message is None or not message.string or message.fuzzy:
                if catalog is not None:
                    gaps.append(f"{lang}: {key}")
                strings[key] = english
            else:
                strings[key] = message.string
        result[lang] = strings
    return result, gaps


def _literal(strings_by_lang):
    def name(key):
        return key if IDENTIFIER.match(key) else json.dumps(key)

    return "{" + ",".join(
        f"{name(lang)}:{{" + ",".join(f"{name(k)}:{json.dumps(v, ensure_ascii=False)}" for k, v in strings.items()) + "}"
        for lang, strings in strings_by_lang.items()) + "}"


def bundle_name(lang):
    """The file a language's bundle is served as: English is the plain widget.js."""
    return "widget.js" if lang == "en" else f"widget.{lang}.js"


def minifier_version():
    """The version package.json pins (exact): part of every bundle's inputs."""
    return "terser " + json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["devDependencies"]["terser"]


def prepare():
    """{lang: the bundle's unminified source} and the list of untranslated strings (language: key)."""
    tree = es5(SOURCE.read_text(encoding="utf-8"))
    strings, gaps = translations(english_table(tree))
    _inject_limits(tree)
    sources = {}
    for lang, table in strings.items():
        generated = es5(f"var STRINGS = {_literal({lang: table})};")
        _strings_node(tree).initializer = _strings_node(generated).initializer
        sources[lang] = pretty_print(tree)
    return sources, gaps


def digest(source):
    return hashlib.sha256((minifier_version() + "\n" + source).encode("utf-8")).hexdigest()[:8]


def minify(source):
    if not MINIFIER.exists():
        raise FileNotFoundError(f"{MINIFIER.relative_to(ROOT)} is missing: `make install` installs terser from npm")
    result = subprocess.run([str(MINIFIER), *MINIFIER_ARGS], input=source, capture_output=True, text=True,
                            encoding="utf-8", check=False)
    if result.returncode != 0:
        raise RuntimeError("terser: " + result.stderr.strip())
    return result.stdout


def build(sources=None):
    """{file name: minified bundle} for every language, and the untranslated strings."""
    gaps = []
    if sources is None:
        sources, gaps = prepare()
    return {bundle_name(lang): HEADER.format(lang=lang, digest=digest(src)) + minify(src).strip() + "\n"
            for lang, src in sources.items()}, gaps


def sizes(text):
    raw = text.encode("utf-8")
    return len(raw), len(gzip.compress(raw, compresslevel=9))


def sri(text):
    digest = hashlib.sha384(text.encode("utf-8")).digest()
    return "sha384-" + base64.b64encode(digest).decode()


def stale(sources):
    """File names whose committed bundle is missing or was built from other inputs (no Node needed)."""
    out = []
    for lang, src in sources.items():
        path = STATIC_JS / bundle_name(lang)
        head = HEADER_RE.match(path.read_text(encoding="utf-8")) if path.exists() else None
        if not head or head["lang"] != lang or head["digest"] != digest(src):
            out.append(bundle_name(lang))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    sources, gaps = prepare()
    if gaps:
        print("untranslated widget strings (English used): " + ", ".join(gaps)
              + "; translate them in widget.po and run `make translations`", file=sys.stderr)
    failed = False
    if args.check:
        bad = stale(sources)
        if MINIFIER.exists():
            built, _ = build(sources)
            bad += [name for name, text in built.items() if name not in bad
                    and (STATIC_JS / name).read_text(encoding="utf-8") != text]
        else:
            print("node_modules has no terser: checked the bundles' input digests only", file=sys.stderr)
        if bad:
            print(", ".join(f"static/js/{name}" for name in bad) + " stale: run `make widget`", file=sys.stderr)
            failed = True
        bundles = {bundle_name(lang): (STATIC_JS / bundle_name(lang)).read_text(encoding="utf-8")
                   for lang in sources if (STATIC_JS / bundle_name(lang)).exists()}
    else:
        bundles, _ = build(sources)
        for name, text in bundles.items():
            (STATIC_JS / name).write_text(text, encoding="utf-8")
    for name, text in bundles.items():
        raw, gz = sizes(text)
        print(f"{name}: {raw} bytes, {gz} bytes gzipped (budget {BUDGET_GZIP}); integrity {sri(text)}")
        if gz > BUDGET_GZIP:
            print(f"{name} is over the gzip budget", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
