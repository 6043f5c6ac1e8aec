"""Notifications: signed webhooks, staff e-mail (immediate or digest), reader follow-up.

Services call `events.emit(...)` after their commit; everything else happens in
RQ jobs (`moderation.jobs.notify`), which take ids, read the current state and
are retried with backoff. The public routes (one-click unsubscribe, reader
confirmation) live in `public_views`.
"""


def init_app(app):
    from . import public_views  # noqa: PLC0415

    public_views.init_app(app)
