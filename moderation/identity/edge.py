"""The reader API's one call: who sent this submission, decided before anything is queued.

    identity = identify(site.id, body.get("sso"), body.get("reader"), sso_required=...)

raises InvalidSSO / SsoRequired (401, nothing queued) or returns an Identity whose
`as_payload()` goes into the queued payload (the worker passes it to
services.readers.resolve_reader) and whose `issued_token`, when set, goes back to the
widget to keep.
"""
from dataclasses import dataclass

from . import anonymous, sso
from .sso import InvalidSSO, SsoIdentity

_LOAD = object()


class SsoRequired(InvalidSSO):
    """The site takes comments from signed-in readers only."""

    error = "sso_required"

    def __init__(self, message="this site takes comments from signed-in readers only"):
        super().__init__(message)


@dataclass(frozen=True)
class Identity:
    sso: SsoIdentity | None = None
    anon_key: str | None = None
    # A fresh anonymous token for the widget (first submission, or the one it sent was no id).
    issued_token: str | None = None

    def as_payload(self):
        return {"sso": self.sso.as_payload() if self.sso else None, "anon_key": self.anon_key}

    @staticmethod
    def resolve_args(payload):
        """resolve_reader's keyword arguments from `as_payload()` (as queued)."""
        payload = payload or {}
        return {"sso": payload.get("sso"), "anon_key": payload.get("anon_key")}


def identify(site_id, sso_token=None, anon_token=None, keys=_LOAD, sso_required=False, now=None):
    """`sso_token`: the body's "sso" (None = not sent: a sent but empty or bad token is
    refused, never silently ignored). `anon_token`: the widget's stored anonymous id.
    `keys`: the site's SsoKeys if the caller caches them; read from the database otherwise."""
    if sso_token is not None:
        who = sso.verify_token(sso_token, sso.sso_keys(site_id) if keys is _LOAD else keys, site_id, now)
        return Identity(sso=who)
    if sso_required:
        raise SsoRequired()
    key = anonymous.verify(site_id, anon_token)
    if key is not None:
        return Identity(anon_key=key)
    key, token = anonymous.issue(site_id)
    return Identity(anon_key=key, issued_token=token)
