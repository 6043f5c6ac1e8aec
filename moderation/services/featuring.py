"""Featured comments (Coral's "featured"): a moderator's pick, shown first in every order with a
mark. Only a published comment can be featured; the flag is not a decision (its status stays),
so it neither trains the spam model nor counts in the decision stats. Audited."""
from ..db_retry import unit_of_work
from ..extensions import db
from ..models import Comment
from . import actions
from .audit import audit
from .common import Invalid, clean_reason, load


def _set(name, comment_id, actor, on, reason):
    action = actions.get("comment", name)
    comment = load(Comment, comment_id, actor, action.scope)
    reason = clean_reason(reason)
    if on and comment.status != "approved":
        raise Invalid("only a published (approved) comment can be featured",
                      {"status": f"the comment is {comment.status}, not approved"})
    if bool(comment.featured) == on:
        return comment  # nothing changes: no audit noise
    comment.featured = on
    comment.page.bump()  # the list (its order, its ETag) changes
    audit(actor, action.audit, comment, before={"featured": not on}, after={"featured": on}, reason=reason)
    db.session.commit()
    return comment


@unit_of_work
def feature_comment(comment_id, actor, reason=None):
    return _set("feature", comment_id, actor, True, reason)


@unit_of_work
def unfeature_comment(comment_id, actor, reason=None):
    return _set("unfeature", comment_id, actor, False, reason)
