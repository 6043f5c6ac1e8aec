"""`moderation import isso|disqus|wordpress` and `moderation export`: thin click wrappers over the porting modules.

Every web process builds its `app.cli` from this module, so the importers (their XML
parser and the screening they run each comment through) are imported by the commands
that use them, not here.
"""
import os
import sys

import click
from flask.cli import with_appcontext

from .export import FORMATS, WHATS, parse_since, write_export


def _site(key):
    from .common import site_by_key  # noqa: PLC0415

    try:
        return site_by_key(key)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc


def _default_base(site):
    """The site's first exact origin: where Isso's bare paths live unless told otherwise."""
    for origin in site.allowed_origins or ():
        if "*" not in origin:
            return origin
    return None


def _run(reader, site, source, summary):
    from .common import import_thread  # noqa: PLC0415

    threads, comments = reader.counts()
    click.echo(f"{source}: {threads} threads with {comments} comments to import into site {site.key!r}", err=True)
    with click.progressbar(
        length=comments, label="Importing", file=sys.stderr, show_pos=True,
        item_show_func=lambda url: url or "",
    ) as bar:
        for thread, items in reader.threads():
            import_thread(site, source, thread, items, summary)
            bar.update(len(items), thread.url)


def _read(reader, path):
    """Read an XML export whole, with a progress bar: a malformed file is refused before any row is written."""
    with click.progressbar(length=os.path.getsize(path), label="Reading", file=sys.stderr) as bar:
        done = [0]

        def progress(position):
            bar.update(position - done[0])
            done[0] = position

        reader.read(progress)


def _finish(summary):
    for line in summary.lines():
        click.echo(line)


def _fail(summary, exc):
    """Stop with the error; say what was committed before it (each thread is its own transaction)."""
    if summary.threads:
        _finish(summary)
        raise click.ClickException(
            f"{exc}\nImported before the error: {summary.threads} thread(s), counted above; nothing of the "
            "failing thread. Fix the file and run the same command again: it continues without duplicates."
        ) from exc
    raise click.ClickException(f"{exc}\nNothing was imported.") from exc


@click.group("import")
def import_group():
    """Bring threads and comments in from another commenting system (safe to run again)."""


@import_group.command("isso")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--site", "site_key", required=True, help="Key of the site the comments belong to.")
@click.option("--base-url", default=None,
              help="Origin Isso's thread paths are relative to (default: the site's first origin).")
@with_appcontext
def import_isso_command(path, site_key, base_url):
    """Import an Isso SQLite database (comments.db)."""
    from . import isso  # noqa: PLC0415
    from .common import MalformedInput, Summary  # noqa: PLC0415

    site = _site(site_key)
    summary = Summary()
    try:
        reader = isso.IssoReader(path, base_url or _default_base(site))
        try:
            orphans = reader.orphans()
            summary.skipped += len(orphans)
            summary.notes.extend(f"isso comment {cid}: its thread is missing" for cid in orphans)
            _run(reader, site, isso.SOURCE, summary)
        finally:
            reader.close()
    except MalformedInput as exc:
        _fail(summary, exc)
    _finish(summary)


def _import_xml(reader, path, site_key, source, leftovers):
    """Read an XML export whole, then import it; `leftovers()` gives (skipped count, notes)
    for the items the reader set aside (orphans, pingbacks)."""
    from .common import MalformedInput, Summary  # noqa: PLC0415

    site = _site(site_key)
    summary = Summary()
    try:
        _read(reader, path)
        skipped, notes = leftovers()
        summary.skipped += skipped
        summary.notes.extend(notes)
        _run(reader, site, source, summary)
    except MalformedInput as exc:
        _fail(summary, exc)
    _finish(summary)


@import_group.command("disqus")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--site", "site_key", required=True, help="Key of the site the comments belong to.")
@with_appcontext
def import_disqus_command(path, site_key):
    """Import a Disqus XML export (Admin > Community > Export)."""
    from . import disqus  # noqa: PLC0415

    reader = disqus.DisqusReader(path)

    def orphans():
        found = reader.orphans()
        return len(found), found

    _import_xml(reader, path, site_key, disqus.SOURCE, orphans)


@import_group.command("wordpress")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--site", "site_key", required=True, help="Key of the site the comments belong to.")
@with_appcontext
def import_wordpress_command(path, site_key):
    """Import a WordPress export (WXR: Tools > Export > All content)."""
    from . import wordpress  # noqa: PLC0415

    reader = wordpress.WordPressReader(path)
    _import_xml(reader, path, site_key, wordpress.SOURCE, reader.skipped)


@click.command("export")
@click.argument("email", required=False)
@click.option("--site", "site_key", default=None, help="Key of the site to export.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
@click.option("--what", type=click.Choice(WHATS), default="comments", show_default=True)
@click.option("--since", default=None, help="Only rows created on or after this date (YYYY-MM-DD, UTC).")
@click.option("--output", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              help="File to write (default: standard output).")
@click.option("--no-address-linked", is_flag=True,
              help="With EMAIL: leave out error reports and flags linked only by network address.")
@with_appcontext
def export_command(email, site_key, fmt, what, since, output, no_address_linked):
    """Export a site's reports, comments or audit log as JSON or CSV (--site KEY),
    or everything of one reader as JSON (EMAIL; see docs/privacy.md)."""
    if email and site_key:
        raise click.UsageError("give an e-mail or --site, not both")
    if email:
        from ..privacy_cli import export_person  # noqa: PLC0415

        export_person(email, no_address_linked)
        return
    if not site_key:
        raise click.UsageError("--site is required (or an e-mail to export one reader's data)")
    site = _site(site_key)
    try:
        since_at = parse_since(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    for chunk in write_export(site, what, fmt, since_at):
        output.write(chunk)
    output.flush()


COMMANDS = [import_group, export_command]
