"""Take the README's screenshots (docs/screenshots/) from a real `moderation run`.

    .venv/bin/python tools/screenshots.py [--port 5077]

Starts the service as `make run` does, in a temporary data directory, posts a few Russian
comments and error reports through the reader API, and photographs with headless Chromium
(`/usr/bin/chromium`): the two dashboard queues, the demo article's comments and the
Ctrl+Enter dialog. Run it after a change to the dashboard or the widget.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
BIN = Path(sys.executable).parent
PASSWORD = "screenshot-password-1"
COMMENTS = [
    ("Айгерим", "Наконец-то отремонтируют дорогу к школе, спасибо за новость."),
    ("Сергей П.", "А сроки ремонта где-нибудь опубликованы? В прошлом году тоже обещали."),
    ("Марат", "Купить дешёвые часы здесь: best-watches.example, скидки 90%!!!"),
    ("Гость", "Хорошая статья, но в заголовке опечатка."),
]
REPORTS = [
    ("обьявил", "мэр ", " о запуске", "объявил"),
    ("обьявил", "мэр ", " о запуске", "объявил"),
]


def _post(base, path, body):
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Origin": base})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out: {what}")


def _healthy(base):
    with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
        return response.status == 200


def shoot(base, env):
    subprocess.run([BIN / "moderation", "set-password", "admin@localhost", "--password-stdin"],
                   input=PASSWORD, text=True, env=env, check=True, capture_output=True)
    article = base + "/demo"
    for author, body in COMMENTS:
        _post(base, "/api/v1/comments", {"site": "demo", "url": article, "author": author, "body": body,
                                         "client_id": str(uuid.uuid4())})
    for exact, prefix, suffix, suggestion in REPORTS:
        _post(base, "/api/v1/reports", {"site": "demo", "url": article, "exact": exact, "prefix": prefix,
                                        "suffix": suffix, "suggestion": suggestion,
                                        "client_id": str(uuid.uuid4())})
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a test dependency

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="ru-RU")
        page.goto(base + "/dashboard/login")
        page.fill("#email", "admin@localhost")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/dashboard/**")
        for name, path, count in (("queue-comments", "/dashboard/comments", len(COMMENTS)),
                                  ("queue-reports", "/dashboard/reports", 1)):
            def loaded(path=path, count=count):
                page.goto(base + path)
                return page.locator("article.item").count() >= count
            _wait(loaded, 30, f"{count} items on {path}")
            page.screenshot(path=str(OUT / f"{name}.png"))
            print(f"docs/screenshots/{name}.png")
        # Two comments approved by keyboard (`a` on the focused card), so the article shows them.
        page.goto(base + "/dashboard/comments")
        for left in (len(COMMENTS) - 1, len(COMMENTS) - 2):
            page.locator("article.item").first.focus()
            page.keyboard.press("a")
            _wait(lambda left=left: page.locator("article.item").count() == left, 10, "the approve")
        reader = browser.new_page(viewport={"width": 900, "height": 1000}, locale="ru-RU")
        reader.goto(article)
        reader.locator("[data-moderation-widget]").first.wait_for()
        _wait(lambda: COMMENTS[1][1] in reader.evaluate(
            "() => [...document.querySelectorAll('[data-moderation-widget]')]"
            ".map(h => h.shadowRoot.textContent).join()"), 15, "the approved comments in the widget")
        reader.locator("[data-moderation-widget]").last.scroll_into_view_if_needed()
        reader.screenshot(path=str(OUT / "comments.png"))
        print("docs/screenshots/comments.png")
        reader.evaluate("""word => {
            const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            while (walk.nextNode()) {
                const at = walk.currentNode.data.indexOf(word);
                if (at < 0) continue;
                const range = document.createRange();
                range.setStart(walk.currentNode, at);
                range.setEnd(walk.currentNode, at + word.length);
                getSelection().removeAllRanges();
                getSelection().addRange(range);
                walk.currentNode.parentElement.scrollIntoView({block: "center"});
                return;
            }
        }""", REPORTS[0][0])
        reader.keyboard.press("Control+Enter")
        reader.locator("[role=dialog]").first.wait_for()
        reader.screenshot(path=str(OUT / "dialog.png"))
        print("docs/screenshots/dialog.png")
        browser.close()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5077)
    args = parser.parse_args(argv)
    base = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory(prefix="moderation-shots-") as tmp:
        env = dict(os.environ, MODERATION_ENV="development", MODERATION_DATA_DIR=tmp)
        server = subprocess.Popen([BIN / "moderation", "run", "--port", str(args.port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(lambda: _healthy(base), 60, "the service to start")
            shoot(base, env)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
