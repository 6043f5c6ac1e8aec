"""Read an Isso SQLite database (schema of isso/db/threads.py and isso/db/comments.py, 0.10-0.13).

Isso keeps a thread's `uri` as the page path (`/2024/05/story/`), so a base URL
(the site's origin) turns it into one of our page URLs. Comment modes: 1 published,
2 waiting for moderation, 4 deleted but kept because it has replies.

The file is untrusted, and a SQLite file carries code of a kind: views. So it is opened
read-only with `trusted_schema` off, `threads` and `comments` must be real tables (a view
could be a recursive query that never ends), every statement runs under a time budget
(a progress handler interrupts it), and text that is not UTF-8 is reported with its row
and column instead of a traceback.
"""
import sqlite3
import time
from datetime import datetime, timezone

from .common import CommentIn, MalformedInput, ThreadIn, absolute_url

SOURCE = "isso"
# The columns we read; Isso has more (likes, voters, notification...) that have no equivalent here.
REQUIRED = {
    "threads": {"id", "uri", "title"},
    "comments": {"tid", "id", "parent", "created", "modified", "mode", "text", "author", "email", "website"},
}
MODES = {1: ("approved", None), 2: ("pending", None), 4: ("rejected", "deleted in Isso")}
# Seconds one statement may run: generous for any real comments.db (a full scan of a million
# rows takes well under a second), and the end of a query that would never finish.
QUERY_BUDGET = 30.0
# SQLite virtual-machine steps between two looks at the clock.
PROGRESS_STEPS = 10_000
THREAD_COLUMNS = ("id", "uri", "title")
COMMENT_COLUMNS = ("id", "parent", "created", "modified", "mode", "text", "author", "email", "website")


class BadText:
    """A TEXT value that is not UTF-8 (sqlite3's text_factory returns it instead of raising)."""

    def __init__(self, raw, error):
        self.raw, self.error = raw, error

    def __str__(self):
        return "<not UTF-8>"

    __repr__ = __str__

    def describe(self):
        start = self.error.start
        return f"is not valid UTF-8 (byte {start}: {self.raw[start:start + 4]!r})"


def _decode(raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadText(raw, exc)


def _check_text(where, names, row):
    for name, value in zip(names, row):
        if isinstance(value, BadText):
            raise MalformedInput(f"{where}: column {name!r} {value.describe()}")


class IssoReader:
    """Opens the file read-only and checks it really is an Isso database before anything is written."""

    def __init__(self, path, base_url, budget=QUERY_BUDGET):
        self.path = str(path)
        self.base_url = base_url
        self.budget = budget
        self._deadline = None
        try:
            # mode=ro: an importer must never change (or create) the file it reads.
            self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            self.conn.text_factory = _decode
            self.conn.set_progress_handler(self._over_budget, PROGRESS_STEPS)
            # Functions with side effects may not run from the file's own schema (views, triggers).
            self.conn.execute("PRAGMA trusted_schema = OFF")
            self._check_schema()
        except sqlite3.DatabaseError as exc:
            raise MalformedInput(f"{self.path}: not a readable SQLite database ({exc})") from exc

    def close(self):
        self.conn.close()

    def _over_budget(self):
        return 1 if self._deadline is not None and time.monotonic() > self._deadline else 0

    def _query(self, what, sql, params=()):
        """All rows of one statement, within the time budget; MalformedInput naming `what` otherwise."""
        self._deadline = time.monotonic() + self.budget
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if self._over_budget():
                raise MalformedInput(f"{self.path}: reading {what} took longer than {self.budget:g} s; "
                                     "stopped (is it a real Isso database?)") from exc
            raise MalformedInput(f"{self.path}: not a readable SQLite database ({exc}; reading {what})") from exc
        except sqlite3.DatabaseError as exc:
            raise MalformedInput(f"{self.path}: not a readable SQLite database ({exc}; reading {what})") from exc
        finally:
            self._deadline = None

    def _check_schema(self):
        for table, wanted in REQUIRED.items():
            kinds = [row[0] for row in self._query(
                "the schema", "SELECT type FROM sqlite_master WHERE name = ? COLLATE NOCASE", (table,))]
            if not kinds:
                raise MalformedInput(f"{self.path}: not an Isso database (no {table!r} table)")
            if kinds != ["table"]:
                # A view runs a query of the file's choosing (possibly one that never ends).
                raise MalformedInput(f"{self.path}: not an Isso database ({table!r} is a {kinds[0]}, not a table)")
            columns = {row[1] for row in self._query(f"table {table!r}", f"PRAGMA table_info({table})")}
            missing = wanted - columns
            if missing:
                raise MalformedInput(
                    f"{self.path}: not an Isso database (table {table!r} lacks {', '.join(sorted(missing))})"
                )

    def counts(self):
        threads = self._query("table 'threads'", "SELECT COUNT(*) FROM threads")[0][0]
        comments = self._query("table 'comments'", "SELECT COUNT(*) FROM comments")[0][0]
        return threads, comments

    def orphans(self):
        """Comments whose thread row is gone (Isso's trigger normally prevents it)."""
        rows = self._query(
            "table 'comments'",
            "SELECT id FROM comments WHERE tid IS NULL OR tid NOT IN (SELECT id FROM threads) ORDER BY id",
        )
        return [row[0] for row in rows]

    def threads(self):
        """Yield (ThreadIn, [CommentIn]) one thread at a time (only that thread's rows in memory)."""
        for row in self._query("table 'threads'", f"SELECT {', '.join(THREAD_COLUMNS)} FROM threads ORDER BY id"):
            tid, uri, title = row
            where = f"threads row id={tid}"
            _check_text(where, THREAD_COLUMNS, row)
            thread = ThreadIn(external_id=str(tid), url=absolute_url(uri, self.base_url, where), title=title,
                              where=where)
            rows = self._query(f"the comments of {where}",
                               f"SELECT {', '.join(COMMENT_COLUMNS)} FROM comments WHERE tid = ? ORDER BY id", (tid,))
            yield thread, [self._comment(row) for row in rows]

    @staticmethod
    def _comment(row):
        cid, parent, created, modified, mode, text, author, email, website = row
        where = f"comments row id={cid}"
        _check_text(where, COMMENT_COLUMNS, row)
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
