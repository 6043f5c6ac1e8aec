"""Workload 5: what a reader downloads (gzip) and Ctrl+Enter → dialog in real headless Chromium.

The time is measured in the page: a capturing keydown listener stamps the key press, a
MutationObserver sees the dialog's shadow host arrive, and a requestAnimationFrame +
task after it stands for "painted". Playwright's own round trips are not counted.
"""
import gzip
import statistics
import sys

from bench.procs import ROOT

sys.path.insert(0, str(ROOT / "tests"))

WIDGET = ROOT / "static" / "js" / "widget.js"
# Every bundle a reader may download: the English one and one per language (make widget).
BUNDLES = ("widget.js", "widget.ru.js", "widget.kk.js")
BUDGET = 8 * 1024
TYPO = "обьявил"

PROBE = """() => { window.__probe = new Promise((resolve) => {
  let t0 = null;
  const stamp = (e) => {
    if (e.key !== 'Enter') return;
    t0 = performance.now();
    window.removeEventListener('keydown', stamp, true);
  };
  window.addEventListener('keydown', stamp, true);
  const seen = () => [...document.querySelectorAll('[data-moderation-widget]')]
    .some((h) => h.shadowRoot && h.shadowRoot.querySelector('[role=dialog]'));
  const obs = new MutationObserver(() => {
    if (t0 === null || !seen()) return;
    obs.disconnect();
    const dom = performance.now() - t0;
    requestAnimationFrame(() => setTimeout(() => resolve({dom, painted: performance.now() - t0}), 0));
  });
  obs.observe(document.body, {childList: true, subtree: true});
}); }"""


def gzip_bytes(path=WIDGET):
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def bundle_sizes():
    """{bundle file name: bytes gzipped} for every bundle of BUNDLES."""
    return {name: gzip_bytes(WIDGET.parent / name) for name in BUNDLES}


def dialog_times(base_url, trials=5):
    """Median ms from Ctrl+Enter to the dialog in the DOM and to the next painted frame."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    from support.browser import CHROMIUM, CHROMIUM_ARGS, drag_select  # noqa: PLC0415

    dom, painted = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.goto(base_url + "/demo")
            page.wait_for_function("() => window.__moderationWidget === true")
            for _ in range(trials):
                drag_select(page, TYPO)
                page.evaluate(PROBE)
                page.keyboard.press("Control+Enter")
                result = page.evaluate("() => window.__probe")
                dom.append(result["dom"])
                painted.append(result["painted"])
                page.keyboard.press("Escape")
                page.locator("[role=dialog]").wait_for(state="detached")
        finally:
            browser.close()
    return statistics.median(dom), statistics.median(painted)
