"""Flask's cookie sessions, with the signing serializer built once per secret, not per request.

Flask builds a new URLSafeTimedSerializer in every `open_session`, i.e. on every request,
the reader API's POSTs included (~10 us of the ~0.45 ms CPU one takes), although it depends
only on the secret key, its fallbacks and class attributes. It is kept here per (key,
fallbacks): a changed SECRET_KEY (a test, a reload) gets its own, so the behaviour is
Flask's own, cookie for cookie.
"""
from flask.sessions import SecureCookieSessionInterface


class CachedSerializerSessionInterface(SecureCookieSessionInterface):
    def __init__(self):
        self._serializers = {}

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            if len(self._serializers) > 8:  # keys replaced again and again: start over
                self._serializers.clear()
            serializer = self._serializers[key] = super().get_signing_serializer(app)
        return serializer
