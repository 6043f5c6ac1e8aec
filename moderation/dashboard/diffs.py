"""Suggestions and edits shown as diffs: what the reader (or editor) changed, at a glance."""
import difflib

from markupsafe import Markup, escape


def diff_html(old, new):
    """Character-level diff as HTML: <del> for removed, <ins> for added. Input is escaped."""
    old, new = old or "", new or ""
    out = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape(old[a1:a2]))
        if op in ("delete", "replace"):
            out.append(Markup("<del>%s</del>") % old[a1:a2])
        if op in ("insert", "replace"):
            out.append(Markup("<ins>%s</ins>") % new[b1:b2])
    return Markup("").join(out)
