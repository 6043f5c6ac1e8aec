"""moderation.sessions: Flask's cookie sessions with the serializer kept per secret key.

The cache must never outlive the key it was built for: a cookie signed with a replaced
SECRET_KEY is refused, one signed with a key listed in SECRET_KEY_FALLBACKS is read."""
from flask import Flask, session

from moderation.sessions import CachedSerializerSessionInterface


def _app():
    app = Flask(__name__)
    app.secret_key = "first secret, long enough to sign things"
    app.session_interface = CachedSerializerSessionInterface()

    @app.get("/set")
    def set_value():
        session["who"] = "editor"
        return "set"

    @app.get("/get")
    def get_value():
        return session.get("who", "nobody")

    return app


def test_the_same_serializer_serves_every_request_of_one_key():
    app = _app()
    interface = app.session_interface
    assert interface.get_signing_serializer(app) is interface.get_signing_serializer(app)


def test_a_cookie_survives_requests_and_dies_with_its_key():
    app = _app()
    client = app.test_client()
    client.get("/set")
    assert client.get("/get").get_data(as_text=True) == "editor"

    app.secret_key = "second secret, the first one leaked"
    assert client.get("/get").get_data(as_text=True) == "nobody"

    app.config["SECRET_KEY_FALLBACKS"] = ["first secret, long enough to sign things"]
    assert client.get("/get").get_data(as_text=True) == "editor"


def test_no_secret_key_means_no_session_as_in_flask():
    app = _app()
    app.secret_key = None
    assert app.session_interface.get_signing_serializer(app) is None
    assert app.test_client().get("/get").get_data(as_text=True) == "nobody"
