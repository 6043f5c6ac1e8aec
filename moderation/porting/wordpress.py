"""Read a WordPress export (WXR, WordPress eXtended RSS: Tools > Export > All content).

The file is RSS 2.0 with the `wp:` namespace (`http://wordpress.org/export/1.2/`; 1.0 and 1.1
files have the same elements under their own version). It is untrusted XML, read through
xmlfile.records (defusedxml, streaming, errors naming the line):

    <rss><channel>
      <wp:wxr_version>1.2</wp:wxr_version> ... <wp:author>, <wp:category>, <wp:term> ...
      <item>                                       a post, a page, an attachment...
        <title>, <link>, <wp:post_id>, <wp:post_type>, ...
        <wp:comment>                               any number, flat: replies point at a parent
          <wp:comment_id>, <wp:comment_parent> (0: top level), <wp:comment_author>,
          <wp:comment_author_email>, <wp:comment_author_url>, <wp:comment_author_IP>,
          <wp:comment_date> (site time), <wp:comment_date_gmt>, <wp:comment_content> (HTML),
          <wp:comment_approved> (1, 0, spam, trash, post-trashed),
          <wp:comment_type> ("" or "comment"; "pingback", "trackback"), <wp:commentmeta>...

Each item with comments is one thread, its <link> the page URL. Comments come with their
item, so each item is complete when it ends; still, the whole file is read and checked before
the first row is written, like a Disqus export. Pingbacks and trackbacks (notices that another
site linked to the post, not reader comments) and other non-comment types (WooCommerce order
notes...) are skipped and counted by type. The author's IP address is not read: no importer
brings addresses in (ours are salted hashes of live requests, privacy.md).
"""
import html
from collections import Counter
from datetime import datetime, timezone

from .common import EXTERNAL_ID_MAX, CommentIn, MalformedInput, ThreadIn, absolute_url
from .xmlfile import LINE, records, text

SOURCE = "wordpress"
ROOT = "rss"
# Every WXR version's namespace starts so (export/1.0/, 1.1/, 1.2/).
WXR_NAMESPACE = "{http://wordpress.org/export/"
# comment_approved -> (our status, reason shown to moderators).
APPROVAL = {
    "1": ("approved", None),
    "0": ("pending", None),
    "spam": ("spam", "marked as spam in WordPress"),
    "trash": ("rejected", "deleted in WordPress"),
    # WordPress trashes a post's comments with it, keeping their earlier state in commentmeta.
    "post-trashed": ("rejected", "its post was deleted in WordPress"),
}
COMMENT_TYPES = {"", "comment"}
LINKBACKS = ("pingback", "trackback")
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def _strip(value):
    return (value or "").strip()


class WordPressReader:
    def __init__(self, path):
        self.path = str(path)
        self.ns = None  # "{http://wordpress.org/export/1.2/}", from <wp:wxr_version>
        self.items = []  # (ThreadIn, [CommentIn]) for items with comments, in file order
        self.item_lines = {}  # wp:post_id -> line, to name both ends of a duplicate
        self.comment_lines = {}  # wp:comment_id -> line
        self.skipped_types = Counter()  # comment_type -> how many were not imported

    def where(self, kind, line, name=None, value=None):
        label = f"<{kind}>" + (f" {name}={value}" if value else "")
        return f"{self.path}, line {line}, {label}"

    def read(self, progress=None):
        """Parse the whole file (streaming); `progress(n)` is called with bytes read so far."""
        # Records are the children of <channel>: <item>s, and the site's authors, terms...
        for element in records(self.path, ROOT, "a WordPress export's <rss> (WXR)", 2, progress):
            if element.tag.endswith("}wxr_version") and element.tag.startswith(WXR_NAMESPACE):
                self.ns = element.tag[:element.tag.index("}") + 1]
            elif element.tag == "item":
                if self.ns is None:
                    raise MalformedInput(f"{self.where('item', element.get(LINE))}: an <item> before "
                                         "<wp:wxr_version>: not a WordPress export (WXR)")
                self._item(element)
        if self.ns is None:
            raise MalformedInput(f"{self.path}: not a WordPress export (WXR): its <channel> has no <wp:wxr_version>")
        return self

    def _id(self, element, name, kind):
        value = _strip(text(element, self.ns + name))
        if not value:
            raise MalformedInput(f"{self.where(kind, element.get(LINE))}: missing <wp:{name}>")
        if len(value) > EXTERNAL_ID_MAX:
            raise MalformedInput(
                f"{self.where(kind, element.get(LINE))}: <wp:{name}> longer than {EXTERNAL_ID_MAX} characters"
            )
        return value

    def _item(self, element):
        line = element.get(LINE)
        post_id = self._id(element, "post_id", "item")
        where = self.where("item", line, "wp:post_id", post_id)
        if post_id in self.item_lines:
            raise MalformedInput(f"{where}: the same wp:post_id as the item on line {self.item_lines[post_id]}")
        self.item_lines[post_id] = line
        comments = [c for c in map(self._comment, element.findall(self.ns + "comment")) if c is not None]
        if not comments:
            return  # a post without (importable) comments is not worth a page row
        thread = ThreadIn(
            external_id=post_id,
            # Checked now, so that a bad link stops the run before anything is written.
            url=absolute_url(text(element, "link"), None, where),
            title=_strip(text(element, "title")) or None,
            where=where,
        )
        self.items.append((thread, comments))

    def _date(self, element, where):
        ns = self.ns
        value = _strip(text(element, ns + "comment_date_gmt"))
        name = "comment_date_gmt"
        if not value or value.startswith("0000-00-00"):
            # Very old or imported-into-WordPress comments may lack the GMT date: the site's
            # own time is the best there is.
            value, name = _strip(text(element, ns + "comment_date")), "comment_date"
        try:
            return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError as exc:
            raise MalformedInput(f"{where}: <wp:{name}> {value!r} is not YYYY-MM-DD HH:MM:SS") from exc

    def _comment(self, element):
        """The CommentIn of one <wp:comment>, or None when it is not a reader comment (counted)."""
        ns, line = self.ns, element.get(LINE)
        comment_id = self._id(element, "comment_id", "wp:comment")
        where = self.where("wp:comment", line, "wp:comment_id", comment_id)
        if comment_id in self.comment_lines:
            raise MalformedInput(
                f"{where}: the same wp:comment_id as the comment on line {self.comment_lines[comment_id]}"
            )
        self.comment_lines[comment_id] = line
        kind = _strip(text(element, ns + "comment_type"))
        if kind not in COMMENT_TYPES:
            self.skipped_types[kind] += 1
            return None
        approved = _strip(text(element, ns + "comment_approved"))
        if approved not in APPROVAL:
            raise MalformedInput(f"{where}: unknown <wp:comment_approved> {approved!r} "
                                 f"(WordPress uses {', '.join(APPROVAL)})")
        status, reason = APPROVAL[approved]
        parent = _strip(text(element, ns + "comment_parent"))
        author = text(element, ns + "comment_author")
        return CommentIn(
            external_id=comment_id,
            parent_external_id=parent if parent not in ("", "0") else None,
            created_at=self._date(element, where),
            # WordPress keeps names entity-encoded (kses turns "&" into "&amp;"); ours are text.
            author=html.unescape(author) if author else None,
            email=text(element, ns + "comment_author_email"),
            website=text(element, ns + "comment_author_url"),
            body=text(element, ns + "comment_content") or "",
            body_is_html=True,  # the HTML WordPress allowed in comments (kses), paragraphs by blank lines
            status=status,
            reason=reason,
        )

    def counts(self):
        """(threads, comments) that will be imported."""
        return len(self.items), sum(len(comments) for _, comments in self.items)

    def skipped(self):
        """(how many, notes naming them by type) of the comments that are not reader comments."""
        linkbacks = [f"{self.skipped_types[k]} {k}{'s' if self.skipped_types[k] != 1 else ''}"
                     for k in LINKBACKS if self.skipped_types[k]]
        notes = [f"{', '.join(linkbacks)} (notices of links from other sites, not reader comments)"] if linkbacks else []
        notes += [f"{n} of comment_type {k!r} (not reader comments)"
                  for k, n in sorted(self.skipped_types.items()) if k not in LINKBACKS]
        return sum(self.skipped_types.values()), notes

    def threads(self):
        """Yield (ThreadIn, [CommentIn]) for every item that has comments, in file order."""
        yield from self.items
