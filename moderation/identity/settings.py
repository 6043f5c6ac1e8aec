"""The per-site settings of reader identity (`Site.settings`, docs/configuration.md).

Read on the request path through the site registry (site_registry.SiteInfo), never per request
from the database.
"""

DEFAULTS = {
    # A comment without a valid SSO token is refused (401 sso_required); reports and flags are not.
    "sso_required": False,
    # Readers may edit their own comment this many minutes after posting (0: never).
    "edit_minutes": 10,
}
# At most a day: an edit later than that rewrites a discussion others have answered.
EDIT_MINUTES_MAX = 1440
# What the widget is told of its site (with the comment list): `sso_login_url` has no default.
WIDGET_SETTINGS = ("sso_required", "sso_login_url", "edit_minutes")


def sso_required(settings):
    """The site's `sso_required` from its settings (a missing key is the default)."""
    return bool((settings or {}).get("sso_required", DEFAULTS["sso_required"]))


def sso_login_url(settings):
    """The site's sign-in page (shown instead of the form on an sso_required site), or None."""
    value = (settings or {}).get("sso_login_url")
    return value if isinstance(value, str) and value.strip() else None


def edit_minutes(settings):
    """How long readers may edit their comment: a whole number 0..EDIT_MINUTES_MAX."""
    value = (settings or {}).get("edit_minutes", DEFAULTS["edit_minutes"])
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return DEFAULTS["edit_minutes"]
    return min(value, EDIT_MINUTES_MAX)


def widget_settings(settings):
    """{key: value} of WIDGET_SETTINGS for a Site.settings dict."""
    return {"sso_required": sso_required(settings), "sso_login_url": sso_login_url(settings),
            "edit_minutes": edit_minutes(settings)}
