"""axe-core (the npm package pinned in package.json, installed by `make install`) in a page."""
import json
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page, context="document"):
    """axe's violations on the page as it is now: [{id, impact, help, targets}]. Run by the
    test driver (not a <script> of the page), so the page's Content-Security-Policy stays as served."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make install` installs axe-core from npm")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found = page.evaluate(
        "async (context) => (await axe.run(context === 'document' ? document : context,"
        " {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(' '))}))",
        context,
    )
    return found


def describe(violations):
    return json.dumps(violations, ensure_ascii=False, indent=1)
