"""Failed sign-ins: growing waits per client, guesses from elsewhere never lock out the owner's
browser, and a Redis outage does not open the door (moderation.dashboard.login_throttle)."""
import os
import signal
import time

import pytest


from moderation.dashboard.login_throttle import DEVICE_COOKIE
from moderation.embedded_redis import EmbeddedRedis
from moderation.extensions import limiter

from support.accounts import AuthActions
from support.net import free_port

WRONG = "not the password at all"


class Browser(AuthActions):
    """One browser at one address."""

    def __init__(self, app, address):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        super().__init__(app, client)


def retry_after(response):
    assert response.status_code == 429, response.status_code
    seconds = int(response.headers["Retry-After"])
    assert seconds > 0
    return seconds


def test_five_wrong_guesses_cost_a_minute_not_fifteen(app, auth):
    email = auth.create("editor")
    browser = Browser(app, "203.0.113.10")
    for _ in range(5):
        assert browser.login(email, password=WRONG).status_code == 401
    blocked = browser.login(email)
    assert retry_after(blocked) <= 60
    assert "Wait 1 minute" in blocked.get_data(as_text=True)


def test_the_wait_grows_with_the_guesses(app, auth):
    # Short first window so the test can wait it out (on a condition, not a sleep).
    app.config["LOGIN_LIMIT_CLIENT"] = "2 per 2 seconds;4 per hour"
    email = auth.create("editor")
    browser = Browser(app, "203.0.113.11")
    for _ in range(2):
        assert browser.login(email, password=WRONG).status_code == 401
    assert retry_after(browser.login(email, password=WRONG)) <= 2
    deadline = time.monotonic() + 10
    while (status := browser.login(email, password=WRONG).status_code) == 429:
        assert time.monotonic() < deadline, "the first window never ended"
        time.sleep(0.2)
    assert status == 401
    assert browser.login(email, password=WRONG).status_code == 401
    assert retry_after(browser.login(email)) > 60  # now the hour window holds, right password or not


def test_guesses_from_elsewhere_do_not_lock_out_the_owners_browser(app, auth):
    email = auth.create("editor")
    owner = Browser(app, "198.51.100.7")
    response = owner.login(email)
    assert response.status_code == 302
    assert any(c.startswith(DEVICE_COOKIE + "=") for c in response.headers.getlist("Set-Cookie"))
    owner.logout()

    # Guessing spread over addresses, each kept under its own limit, until the account's fills.
    answers = []
    for host in range(1, 9):
        attacker = Browser(app, f"203.0.113.{host}")
        answers += [attacker.login(email, password=WRONG).status_code for _ in range(5)]
    assert answers.count(401) == 30 and set(answers) == {401, 429}
    assert retry_after(Browser(app, "203.0.113.99").login(email)) > 0  # even the right password waits

    # The owner's browser is held by its own limit only: a typo, then the password.
    assert owner.login(email, password=WRONG).status_code == 401
    assert owner.login(email).status_code == 302
    assert owner.client.get("/dashboard/comments").status_code == 200


def test_a_device_cookie_counts_only_for_its_account(app, auth):
    owner_email, other_email = auth.create("editor"), auth.create("editor")
    owner = Browser(app, "198.51.100.8")
    assert owner.login(owner_email).status_code == 302
    owner.logout()
    # Spraying other accounts with the owner's device cookie: the address limit still applies.
    app.config["LOGIN_LIMIT_ADDRESS"] = "3 per 15 minutes"
    for i in range(3):
        assert owner.login(f"guess{i}@news.example", password=WRONG).status_code == 401
    assert retry_after(owner.login(other_email)) > 0
    assert owner.login(owner_email).status_code == 302


def test_a_forged_device_cookie_is_ignored(app, auth):
    email = auth.create("editor")
    attacker = Browser(app, "203.0.113.50")
    attacker.client.set_cookie(DEVICE_COOKIE, "forged.value.here", path="/dashboard")
    app.config["LOGIN_LIMIT_ACCOUNT"] = "3 per hour"
    for _ in range(3):
        assert attacker.login(email, password=WRONG).status_code == 401
    assert retry_after(attacker.login(email)) > 0


@pytest.fixture
def own_redis(tmp_path):
    server = EmbeddedRedis(tmp_path / "own-redis", port=free_port())
    server.start()
    yield server
    if server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()
    # The limiter is one object for every app of the test session: leave it on Redis.
    limiter._storage_dead = False


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fault", ["stopped", "hung"])
def test_sign_in_throttling_holds_while_its_redis_is_down(make_app, app, own_redis, fault):
    blind = make_app(REDIS_URL=own_redis.url)
    email = AuthActions(blind, blind.test_client()).create("editor")
    browser = Browser(blind, "203.0.113.20")
    browser.csrf()  # the session exists before the outage, as a visitor's would
    if fault == "stopped":
        own_redis.stop()
    else:
        os.kill(own_redis.process.pid, signal.SIGSTOP)  # accepts connections, never answers

    answers, slowest = [], 0.0
    for _ in range(30):
        started = time.monotonic()
        answers.append(browser.login(email, password=WRONG).status_code)
        slowest = max(slowest, time.monotonic() - started)
    right = browser.login(email)
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    assert retry_after(right) <= 60
    assert slowest < 2.0, f"a sign-in answer took {slowest:.2f} s"
