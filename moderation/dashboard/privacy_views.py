"""Admin-only: erase one comment's author (everything found by their e-mail), audited."""
import redis
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models import Comment
from ..services import erasure
from ..schemas.limits import MAX_ID
from . import bp
from .common import requires
from .queue_views import comment as comment_page


@bp.post(f"/comments/<int(max={MAX_ID}):comment_id>/erase-author")
@requires("admin")
def erase_author(comment_id):
    """Anonymize every comment with this comment's e-mail (only this comment when it has
    none), unlink their reports and flags, add an audit entry. 403 for non-admins, 404
    for a missing comment, 400 (the page again, with a message) without the confirmation."""
    item = db.session.get(Comment, comment_id)
    if item is None or not current_user.can_site(item.site_id):
        abort(404)
    if request.form.get("confirm") != "yes":
        flash(_("Tick the confirmation to erase this author."), "error")
        return comment_page(comment_id), 400
    reason = request.form.get("reason", "").strip()[:500] or None
    queued = None
    if item.email:
        # Redis first, then the database, found again (see erasure.erase_queued for why). A web
        # request waits only briefly for a worker holding one of their submissions.
        try:
            queued = erasure.erase_queued(item.email, erasure.find(item.email).hashes, wait=5.0)
        except redis.RedisError:
            flash(_("The queue is unavailable: nothing was erased. Try again in a moment."), "error")
            return comment_page(comment_id), 503
        db.session.rollback()
    found = erasure.find(item.email) if item.email else erasure.Found("", comments=[item])
    summary = erasure.erase(found, actor=current_user, reason=reason,
                            queued=queued.total if queued else None)
    db.session.commit()
    flash(_("Erased %(n)d comment(s) of this author.", n=len(summary["comments"])))
    if queued and queued.total:
        flash(_("Removed %(n)d of their submission(s) still waiting in the queue.", n=queued.total))
    if queued and queued.busy:
        flash(_("%(n)d submission(s) are still being stored by a worker: erase again in a minute.",
                n=queued.busy), "error")
    return redirect(url_for("dashboard.comment", comment_id=comment_id))
