"""Admin-only: a site's SSO secret (docs/identity.md), shown and created or rotated here as
`moderation sso-secret KEY [--rotate]` does. Audited as `site.sso_secret` with whether it was a
rotation — never the secret (every editor reads the audit log)."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..identity import sso
from ..services.audit import audit
from ..schemas.limits import MAX_ID
from . import bp
from .admin_views import _load_site
from .common import requires

GRACE_HOURS = int(sso.ROTATION_GRACE.total_seconds() // 3600)


@bp.get(f"/admin/sites/<int(max={MAX_ID}):site_id>/sso")
@requires("admin")
def site_sso(site_id):
    """The secret (the page is no-store, like every dashboard page); a button creates it."""
    site = _load_site(site_id)
    return render_template("dashboard/site_sso.html", site=site, keys=sso.sso_keys(site.id),
                           grace_hours=GRACE_HOURS)


@bp.post(f"/admin/sites/<int(max={MAX_ID}):site_id>/sso")
@requires("admin")
def site_sso_secret(site_id):
    """Create the secret, or replace it (the previous one verifies for ROTATION_GRACE more)."""
    site = _load_site(site_id)
    existed = sso.sso_keys(site.id) is not None
    if existed:
        sso.rotate_secret(site.id)
        flash(_("New secret issued. The previous one is accepted for %(hours)d more hours: deploy the new "
                "one to your CMS.", hours=GRACE_HOURS))
    else:
        sso.ensure_secret(site.id)
        flash(_("Secret created."))
    audit(current_user, "site.sso_secret", site, after={"rotated": existed})
    db.session.commit()
    return redirect(url_for("dashboard.site_sso", site_id=site.id))
