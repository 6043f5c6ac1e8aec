"""The per-site settings of reader identity (`Site.settings`, docs/configuration.md).

Read on the request path through the site registry (site_registry.SiteInfo), never per request
from the database.
"""
from datetime import timedelta

DEFAULTS = {
    # A comment without a valid SSO token is refused (401 sso_required); reports and flags are not.
    "sso_required": False,
    # Readers may edit their own comment this many minutes after posting (0: never).
    "edit_minutes": 10,
    # For this many hours an address stands in for an anonymous reader who may have cleared
    # their id (0: never): a ban holds on the banned reader's last address this long after
    # they were last seen there (or banned), and a reader id younger than this is held by the
    # velocity of the anonymous comments from its address, not only by its own. Short:
    # carrier NAT puts many readers behind one address (docs/identity.md).
    "anonymous_address_hours": 6,
}
# At most a day: an edit later than that rewrites a discussion others have answered.
EDIT_MINUTES_MAX = 1440
ANONYMOUS_ADDRESS_HOURS_MAX = 72
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


def anonymous_address_window(settings):
    """`anonymous_address_hours` as a timedelta (a missing or bad value is the default)."""
    value = (settings or {}).get("anonymous_address_hours", DEFAULTS["anonymous_address_hours"])
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        value = DEFAULTS["anonymous_address_hours"]
    return timedelta(hours=min(value, ANONYMOUS_ADDRESS_HOURS_MAX))


def admin_settings(settings):
    """Every identity setting of a Site.settings dict, as the site's Sign-in admin page edits them."""
    return dict(widget_settings(settings),
                anonymous_address_hours=int(anonymous_address_window(settings).total_seconds() // 3600))


def widget_settings(settings):
    """{key: value} of WIDGET_SETTINGS for a Site.settings dict."""
    return {"sso_required": sso_required(settings), "sso_login_url": sso_login_url(settings),
            "edit_minutes": edit_minutes(settings)}
