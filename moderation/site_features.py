"""The per-site settings of reactions, order and corrections (`Site.settings`, docs/configuration.md).

Read on the request path through the site registry (site_registry.SiteInfo), like the identity
settings (identity/settings.py); a missing or malformed value is the default.
"""
from .schemas.limits import DEFAULT_SORT, SORTS

DEFAULTS = {
    # Readers may also dislike a comment (value -1); off: only likes.
    "dislikes": False,
    # The comment list's order when the widget does not ask for one (limits.SORTS).
    "default_sort": DEFAULT_SORT,
    # A fact correction must carry a note to be published.
    "correction_note_required": True,
}
# What the widget is told of its site (with the comment list).
WIDGET_SETTINGS = ("dislikes", "default_sort")


def dislikes(settings):
    value = (settings or {}).get("dislikes", DEFAULTS["dislikes"])
    return value if isinstance(value, bool) else DEFAULTS["dislikes"]


def default_sort(settings):
    value = (settings or {}).get("default_sort", DEFAULTS["default_sort"])
    return value if value in SORTS else DEFAULTS["default_sort"]


def correction_note_required(settings):
    value = (settings or {}).get("correction_note_required", DEFAULTS["correction_note_required"])
    return value if isinstance(value, bool) else DEFAULTS["correction_note_required"]


def all_settings(settings):
    """{key: value} of every setting of DEFAULTS for a Site.settings dict."""
    return {"dislikes": dislikes(settings), "default_sort": default_sort(settings),
            "correction_note_required": correction_note_required(settings)}


def widget_settings(settings):
    values = all_settings(settings)
    return {key: values[key] for key in WIDGET_SETTINGS}
