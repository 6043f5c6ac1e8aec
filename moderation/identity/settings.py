"""The per-site settings of reader identity (`Site.settings`, docs/configuration.md).

Read on the request path through the site registry (site_registry.SiteInfo), never per request
from the database.
"""

DEFAULTS = {
    # A comment without a valid SSO token is refused (401 sso_required); reports and flags are not.
    "sso_required": False,
}


def sso_required(settings):
    """The site's `sso_required` from its settings (a missing key is the default)."""
    return bool((settings or {}).get("sso_required", DEFAULTS["sso_required"]))
