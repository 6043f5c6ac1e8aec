"""Privacy commands: `erase EMAIL`, `export EMAIL`, `retention run|set`, `privacy rotate-salt`."""
import json

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from .extensions import db
from .models import Site


@click.command("erase")
@click.argument("email", required=False)
@click.option("--reader", "reader_key", default=None, metavar="ID",
              help="Erase one reader (their id, as in the API: anon:… or sso:…) instead of an e-mail.")
@click.option("--dry-run", is_flag=True, help="Show what would be erased; change nothing.")
@click.option("--reason", default=None, help="Stored in the audit entry (e.g. the request's ticket).")
@click.option("--actor", default="cli", show_default=True, help="Who ran it, for the audit entry.")
@with_appcontext
def erase_command(email, reader_key, dry_run, reason, actor):
    """Anonymize everything of one reader (found by e-mail, or `--reader ID`) and write an audit entry.

    Exit code 0 when erased (or erased earlier and nothing is left), 1 when
    nothing was ever found for this e-mail, when Redis cannot be reached (nothing
    erased) or when a worker still held one of their submissions (run it again).
    """
    import redis  # noqa: PLC0415

    from .services import erasure  # noqa: PLC0415

    if (email is None) == (reader_key is None):
        raise click.UsageError("give an EMAIL or --reader ID (one of them)")
    if reader_key is not None:
        return _erase_reader(erasure, reader_key, dry_run, reason, actor)
    found = erasure.find(email)
    # Redis first, then the database (found again): see erasure.erase_queued for why.
    try:
        queued = erasure.erase_queued(email, found.hashes, dry_run=dry_run)
    except redis.RedisError as exc:
        raise click.ClickException(f"Redis unavailable ({exc}): nothing erased from the database, run it again") from exc
    db.session.rollback()
    found = erasure.find(email)
    waiting = f"{queued.total} queued submission(s)"
    if found.empty and not queued.total and not queued.busy:
        earlier = erasure.earlier_erasures(email)
        if earlier:
            when = earlier[-1].created_at.strftime("%Y-%m-%d %H:%M UTC")
            click.echo(f"Nothing left to erase: erased on {when} (audit entry #{earlier[-1].id}).")
            return
        raise click.ClickException("no comments with this e-mail address (nothing erased)")
    counts = _counts(found)
    if dry_run:
        click.echo(f"Would erase {counts}; comment ids: {', '.join(str(c.id) for c in found.comments)}; "
                   f"would remove {waiting}")
        db.session.rollback()
        return
    summary = erasure.erase(found, actor_label=actor[:254], reason=(reason or "")[:500] or None,
                            queued=queued.total)
    db.session.commit()
    click.echo(f"Erased {counts}; {summary['audit_entries_scrubbed']} audit entries scrubbed; "
               f"removed {waiting}.")
    if queued.busy:
        raise click.ClickException(
            f"{queued.busy} submission(s) are still being processed by a worker: run erase again in a minute")


def _counts(found):
    return (f"{len(found.comments)} comment(s), {len(found.reports)} error report(s) and "
            f"{len(found.flags)} flag(s) linked by address, {len(found.subscriptions)} follow-up "
            f"subscription(s), {len(found.readers)} reader row(s)")


def _erase_reader(erasure, reader_key, dry_run, reason, actor):
    """`erase --reader ID`: the reader row, their comments, their own and address-linked reports
    and flags, and their submissions still queued in Redis (by the identity queued with them;
    erasure.erase_queued_reader), Redis first as for an e-mail."""
    import redis  # noqa: PLC0415

    found = erasure.find_reader(reader_key)
    try:
        queued = erasure.erase_queued_reader(reader_key, found.hashes, dry_run=dry_run)
    except redis.RedisError as exc:
        raise click.ClickException(f"Redis unavailable ({exc}): nothing erased from the database, run it again") from exc
    db.session.rollback()
    found = erasure.find_reader(reader_key)
    waiting = f"{queued.total} queued submission(s)"
    if found.empty and not queued.total and not queued.busy:
        raise click.ClickException(f"no reader {reader_key!r} (nothing erased)")
    if dry_run:
        click.echo(f"Would erase {_counts(found)}; comment ids: {', '.join(str(c.id) for c in found.comments)}; "
                   f"would remove {waiting}")
        db.session.rollback()
        return
    summary = erasure.erase(found, actor_label=actor[:254], reason=(reason or "")[:500] or None,
                            queued=queued.total)
    db.session.commit()
    click.echo(f"Erased {_counts(found)}; {summary['audit_entries_scrubbed']} audit entries scrubbed; "
               f"removed {waiting}.")
    if queued.busy:
        raise click.ClickException(
            f"{queued.busy} submission(s) are still being processed by a worker: run erase again in a minute")


def export_person(email, no_address_linked):
    """One reader's data (found by e-mail) as JSON on standard output. Exit code 1 if none."""
    from .services import erasure  # noqa: PLC0415

    found = erasure.find(email)
    if not found.comments:
        raise click.ClickException("no comments with this e-mail address (nothing to export)")
    click.echo(json.dumps(erasure.export(found, address_linked=not no_address_linked),
                          ensure_ascii=False, indent=2))


@click.group("retention")
def retention_group():
    """Delete reader hashes and e-mails older than each site's `retention_days`."""


@retention_group.command("run")
@click.option("--site", "site_key", default=None, help="Only this site (key).")
@click.option("--dry-run", is_flag=True, help="Count what would be cleared; change nothing.")
@with_appcontext
def retention_run_command(site_key, dry_run):
    """Run the retention job now, in this process."""
    from .jobs.retention import run_retention  # noqa: PLC0415

    ids = None
    if site_key:
        site = db.session.execute(sa.select(Site).where(Site.key == site_key)).scalar_one_or_none()
        if site is None:
            raise click.ClickException(f"no site with key {site_key!r}")
        ids = [site.id]
    verb = "would clear" if dry_run else "cleared"
    for row in run_retention(site_ids=ids, dry_run=dry_run):
        click.echo(f"{row['site']}: older than {row['days']} days, {verb} {row['comments']} comment(s), "
                   f"{row['reports']} report(s), {row['flags']} flag(s), {row['reader_links']} anonymous reader link(s), "
                   f"{row['readers']} reader(s)")


@retention_group.command("set")
@click.argument("site_key")
@click.argument("days", type=click.IntRange(1, 3650))
@with_appcontext
def retention_set_command(site_key, days):
    """Set a site's retention period in days (audited)."""
    from .services.audit import audit  # noqa: PLC0415
    from .jobs.retention import retention_days  # noqa: PLC0415

    site = db.session.execute(sa.select(Site).where(Site.key == site_key)).scalar_one_or_none()
    if site is None:
        raise click.ClickException(f"no site with key {site_key!r}")
    before = retention_days(site)
    # A new dict: SQLAlchemy sees a replaced JSON value, not an in-place change.
    site.settings = dict(site.settings or {}, retention_days=days)
    audit("cli", "site.retention", site, before={"retention_days": before}, after={"retention_days": days})
    db.session.commit()
    click.echo(f"{site.key}: hashes and e-mails are kept {days} days")


@click.group("privacy")
def privacy_group():
    """Address-hash salts."""


@privacy_group.command("rotate-salt")
@with_appcontext
def rotate_salt_command():
    """Rotate the address-hash salt now (e.g. after a suspected leak); the previous one is destroyed."""
    from .privacy import rotate_address_salt  # noqa: PLC0415

    rotate_address_salt()
    click.echo("Rotated: new rows use a new salt; the salt before the previous one is gone.")


# `moderation export EMAIL` shares the export command with site exports (moderation.porting.cli).
COMMANDS = [erase_command, retention_group, privacy_group]
