"""`moderation sso-secret KEY [--rotate]`: a site's SSO secret, for the newsroom's CMS."""
import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..extensions import db
from ..models import Site
from ..services.audit import audit
from . import sso


@click.command("sso-secret")
@click.argument("site_key")
@click.option("--rotate", is_flag=True,
              help=f"Replace the secret; the previous one keeps verifying for "
                   f"{int(sso.ROTATION_GRACE.total_seconds() // 3600)} hours.")
@with_appcontext
def sso_secret_command(site_key, rotate):
    """Print the site's SSO secret as the last line (created on first call)."""
    site = db.session.execute(sa.select(Site).where(Site.key == site_key)).scalar_one_or_none()
    if site is None:
        raise click.ClickException(f"no site with key {site_key!r}")
    existed = sso.sso_keys(site.id) is not None
    if rotate and existed:
        secret = sso.rotate_secret(site.id)
        click.echo(f"{site.key}: new SSO secret; the previous one is accepted until "
                   f"{sso.sso_keys(site.id).previous_valid_until:%Y-%m-%d %H:%M} UTC.")
    else:
        secret = sso.ensure_secret(site.id)
        click.echo(f"{site.key}: {'SSO secret' if existed else 'new SSO secret'} "
                   "(HS256; keep it on the server side of your CMS):")
    if rotate or not existed:
        # The fact, never the secret: the audit log is readable by every editor.
        audit("cli", "site.sso_secret", site, after={"rotated": bool(rotate and existed)})
    db.session.commit()
    click.echo(secret)


COMMANDS = [sso_secret_command]
