"""Build static/js/widget.js (minified) from static/js/src/widget.js and report its size.

    python tools/build_widget.py          # write the minified file, print sizes
    python tools/build_widget.py --check  # exit 1 if the built file is stale or over budget
"""
import argparse
import base64
import gzip
import hashlib
import sys
from pathlib import Path

from calmjs.parse import es5
from calmjs.parse.unparsers.es5 import minify_print

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "static" / "js" / "src" / "widget.js"
TARGET = ROOT / "static" / "js" / "widget.js"
BUDGET_GZIP = 8 * 1024
HEADER = "/* moderation reader widget; source: static/js/src/widget.js */\n"


def build():
    source = SOURCE.read_text(encoding="utf-8")
    # Local names are shortened; globals and property names stay as written.
    body = minify_print(es5(source), obfuscate=True, obfuscate_globals=False)
    return HEADER + body.strip() + "\n"


def sizes(text):
    raw = text.encode("utf-8")
    return len(raw), len(gzip.compress(raw, compresslevel=9))


def sri(text):
    digest = hashlib.sha384(text.encode("utf-8")).digest()
    return "sha384-" + base64.b64encode(digest).decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    built = build()
    raw, gz = sizes(built)
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != built:
            print("static/js/widget.js is stale: run `make widget`", file=sys.stderr)
            return 1
    else:
        TARGET.write_text(built, encoding="utf-8")
    print(f"widget.js: {raw} bytes, {gz} bytes gzipped (budget {BUDGET_GZIP}); integrity {sri(built)}")
    if gz > BUDGET_GZIP:
        print("over the gzip budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
