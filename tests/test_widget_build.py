"""The served widget is the minified build of its source, and within the size budget."""
import gzip
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_served_widget_is_the_current_build_and_within_budget():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_widget.py"), "--check"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    served = (ROOT / "static" / "js" / "widget.js").read_bytes()
    assert len(gzip.compress(served, 9)) <= 8 * 1024


def test_widget_has_no_eval_or_inline_handlers():
    source = (ROOT / "static" / "js" / "src" / "widget.js").read_text()
    for banned in ("eval(", "new Function", "setAttribute(\"on", "document.write", "insertAdjacentHTML"):
        assert banned not in source
    # The one HTML sink is the comment body the server sanitized with bleach.
    assert source.count("innerHTML") == 1 and "body.innerHTML = c.body_html" in source


def test_readme_quotes_the_current_integrity_hash(app, client):
    """The embed snippet in the README must be copy-pasteable: its SRI matches the file."""
    from moderation.assets import integrity

    with app.app_context():
        value = integrity("js/widget.js")
    assert f'integrity="{value}"' in (ROOT / "README.md").read_text()
    response = client.get("/static/js/widget.js")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
