"""Read an Isso SQLite database (schema of isso/db/threads.py and isso/db/comments.py, 0.10-0.13).

Isso keeps a thread's `uri` as the page path (`/2024/05/story/`), so a base URL
(the site's origin) turns it into one of our page URLs. Comment modes: 1 published,
2 waiting for moderation, 4 deleted but kept because it has replies.
"""
import sqlite3
from datetime import datetime, timezone

from .common import CommentIn, MalformedInput, ThreadIn, absolute_url

SOURCE = "isso"
# The columns we read; Isso has more (likes, voters, notification...) that have no equivalent here.
REQUIRED = {
    "threads": {"id", "uri", "title"},
    "comments": {"tid", "id", "parent", "created", "modified", "mode", "text", "author", "email", "website"},
}
MODES = {1: ("approved", None), 2: ("pending", None), 4: ("rejected", "deleted in Isso")}


class IssoReader:
    """Opens the file read-only and checks it really is an Isso database before anything is written."""

    def __init__(self, path, base_url):
        self.path = str(path)
        self.base_url = base_url
        try:
            # mode=ro: an importer must never change (or create) the file it reads.
            self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            self._check_schema()
        except sqlite3.DatabaseError as exc:
            raise MalformedInput(f"{self.path}: not a readable SQLite database ({exc})") from exc

    def close(self):
        self.conn.close()

    def _check_schema(self):
        for table, wanted in REQUIRED.items():
            columns = {row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")}
            if not columns:
                raise MalformedInput(f"{self.path}: not an Isso database (no {table!r} table)")
            missing = wanted - columns
            if missing:
                raise MalformedInput(
                    f"{self.path}: not an Isso database (table {table!r} lacks {', '.join(sorted(missing))})"
                )

    def counts(self):
        threads = self.conn.execute("SELECT COUNT(*) FROM threads").fetchone()[0]
        comments = self.conn.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
        return threads, comments

    def orphans(self):
        """Comments whose thread row is gone (Isso's trigger normally prevents it)."""
        rows = self.conn.execute(
            "SELECT id FROM comments WHERE tid IS NULL OR tid NOT IN (SELECT id FROM threads) ORDER BY id"
        )
        return [row[0] for row in rows]

    def threads(self):
        """Yield (ThreadIn, [CommentIn]) one thread at a time (only that thread's rows in memory)."""
        cursor = self.conn.execute("SELECT id, uri, title FROM threads ORDER BY id")
        for tid, uri, title in cursor.fetchall():
            where = f"threads row id={tid}"
            thread = ThreadIn(external_id=str(tid), url=absolute_url(uri, self.base_url, where), title=title)
            rows = self.conn.execute(
                "SELECT id, parent, created, modified, mode, text, author, email, website "
                "FROM comments WHERE tid = ? ORDER BY id", (tid,),
            )
            yield thread, [self._comment(row) for row in rows]

    @staticmethod
    def _comment(row):
        cid, parent, created, modified, mode, text, author, email, website = row
        where = f"comments row id={cid}"
        if mode not in MODES:
            raise MalformedInput(f"{where}: unknown mode {mode!r} (Isso uses 1, 2 and 4)")
        try:
            created_at = datetime.fromtimestamp(float(created), timezone.utc)
            edited_at = datetime.fromtimestamp(float(modified), timezone.utc) if modified else None
        except (TypeError, ValueError, OverflowError, OSError) as exc:
            raise MalformedInput(f"{where}: 'created'/'modified' is not a Unix time ({exc})") from exc
        status, reason = MODES[mode]
        return CommentIn(
            external_id=str(cid),
            parent_external_id=str(parent) if parent else None,
            created_at=created_at,
            edited_at=edited_at,
            author=author,
            email=email,
            website=website,
            body=text or "",
            status=status,
            reason=reason,
        )
