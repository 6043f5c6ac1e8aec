"""Request bodies for tests: valid by default, override what a test is about."""
import uuid

ORIGIN = "https://news.example"
ARTICLE = ORIGIN + "/2026/11/tram-line"


def new_client_id():
    return str(uuid.uuid4())


def report_payload(**overrides):
    payload = {
        "site": "test-site",
        "url": ARTICLE,
        "exact": "обьявил",
        "prefix": "Вчера мэр ",
        "suffix": " о запуске",
        "suggestion": "объявил",
        "client_id": new_client_id(),
    }
    payload.update(overrides)
    return payload


def comment_payload(**overrides):
    payload = {
        "site": "test-site",
        "url": ARTICLE,
        "title": "Новая трамвайная линия",
        "author": "Анна",
        "body": "Наконец-то! Ждём с нетерпением.",
        "client_id": new_client_id(),
    }
    payload.update(overrides)
    return payload
