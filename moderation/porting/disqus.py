"""Read a Disqus export (disqus.com/api/schemas/1.0/disqus.xsd) with a streaming, defused parser.

The file is untrusted XML: read through xmlfile.records (defusedxml, streaming, each top-level
element dropped once read, errors naming the line).

Layout: `<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">`
holding `<category>`, `<thread dsq:id>` (link, title) and `<post dsq:id>` (message, createdAt,
isDeleted, isSpam, author/name, author/email, `<thread dsq:id>`, optional `<parent dsq:id>`).
Posts point at threads by id and may come in any order, so threads are written after
the whole file has been read.
"""
from datetime import datetime, timezone

from .common import EXTERNAL_ID_MAX as ID_MAX, CommentIn, MalformedInput, ThreadIn, absolute_url
from .xmlfile import LINE, records, text as _text

SOURCE = "disqus"
NS = "{http://disqus.com}"
DSQ_ID = "{http://disqus.com/disqus-internals}id"
ROOT = NS + "disqus"


def _bool(element, name):
    child = element.find(NS + name)
    if child is None or child.text is None:
        return None
    return child.text.strip().lower() == "true"


class DisqusReader:
    def __init__(self, path):
        self.path = str(path)
        self.thread_rows = {}  # dsq:id -> (line, link, title)
        self.posts = {}  # thread dsq:id -> [(line, CommentIn)]
        self.post_lines = {}  # dsq:id -> line, to name both ends of a duplicate
        self.notes = []

    def where(self, kind, line, dsq_id=None):
        label = f"<{kind}" + (f' dsq:id="{dsq_id}"' if dsq_id else "") + ">"
        return f"{self.path}, line {line}, {label}"

    def read(self, progress=None):
        """Parse the whole file (streaming); `progress(n)` is called with bytes read so far."""
        # Only direct children of <disqus> are records; a <thread> inside a <post> is a reference.
        for element in records(self.path, ROOT, 'a Disqus export\'s <disqus xmlns="http://disqus.com">', 1,
                               progress):
            if element.tag == NS + "thread":
                self._thread(element)
            elif element.tag == NS + "post":
                self._post(element)
        return self

    def _id(self, element, kind):
        dsq_id = (element.get(DSQ_ID) or "").strip()
        if not dsq_id:
            raise MalformedInput(f"{self.where(kind, element.get(LINE))}: missing the dsq:id attribute")
        if len(dsq_id) > ID_MAX:
            raise MalformedInput(f"{self.where(kind, element.get(LINE))}: dsq:id longer than {ID_MAX} characters")
        return dsq_id

    def _thread(self, element):
        dsq_id = self._id(element, "thread")
        if dsq_id in self.thread_rows:
            raise MalformedInput(f"{self.where('thread', element.get(LINE), dsq_id)}: the same dsq:id as "
                                 f"the thread on line {self.thread_rows[dsq_id][0]}")
        link = _text(element, NS + "link")
        title = _text(element, NS + "title")
        self.thread_rows[dsq_id] = (element.get(LINE), link, (title or "").strip() or None)

    def _post(self, element):
        line = element.get(LINE)
        dsq_id = self._id(element, "post")
        where = self.where("post", line, dsq_id)
        if dsq_id in self.post_lines:
            raise MalformedInput(f"{where}: the same dsq:id as the post on line {self.post_lines[dsq_id]}")
        self.post_lines[dsq_id] = line
        thread = element.find(NS + "thread")
        if thread is None or not thread.get(DSQ_ID):
            raise MalformedInput(f"{where}: missing <thread dsq:id=...>")
        created = _text(element, NS + "createdAt")
        if not created:
            raise MalformedInput(f"{where}: missing <createdAt>")
        try:
            created_at = datetime.strptime(created.strip(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except ValueError as exc:
            raise MalformedInput(f"{where}: <createdAt> {created!r} is not YYYY-MM-DDTHH:MM:SSZ") from exc
        parent = element.find(NS + "parent")
        parent_id = parent.get(DSQ_ID) if parent is not None else None
        if _bool(element, "isSpam"):
            status, reason = "spam", "marked as spam in Disqus"
        elif _bool(element, "isDeleted"):
            status, reason = "rejected", "deleted in Disqus"
        elif _bool(element, "isApproved") is False:
            status, reason = "pending", None
        else:
            status, reason = "approved", None
        comment = CommentIn(
            external_id=dsq_id,
            parent_external_id=parent_id or None,
            created_at=created_at,
            author=_text(element, f"{NS}author/{NS}name") or _text(element, f"{NS}author/{NS}username"),
            email=_text(element, f"{NS}author/{NS}email"),
            website=_text(element, f"{NS}author/{NS}link"),
            body=_text(element, NS + "message") or "",
            body_is_html=True,
            status=status,
            reason=reason,
        )
        self.posts.setdefault(thread.get(DSQ_ID), []).append(comment)

    def counts(self):
        """(threads, posts) that will be imported: threads with posts, posts with a thread."""
        live = [t for t in self.thread_rows if t in self.posts]
        return len(live), sum(len(self.posts[t]) for t in live)

    def orphans(self):
        """Posts whose thread is not in the file: named, then skipped."""
        return [
            f"post dsq:id={c.external_id} (thread dsq:id={tid} is not in the file)"
            for tid, comments in self.posts.items() if tid not in self.thread_rows
            for c in comments
        ]

    def threads(self):
        """Yield (ThreadIn, [CommentIn]) for every thread that has posts, in file order."""
        for dsq_id, (line, link, title) in self.thread_rows.items():
            comments = self.posts.get(dsq_id)
            if not comments:
                continue  # Disqus lists every page it ever saw; empty ones are not worth a row
            url = absolute_url(link, None, self.where("thread", line, dsq_id))
            yield ThreadIn(external_id=dsq_id, url=url, title=title,
                           where=self.where("thread", line, dsq_id)), comments
