"""Who hears about what: staff by role, site access and e-mail preference."""
import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, ReportCluster, User
from ..models.notifications import NotificationPreference

SCOPE = {"cluster.created": "reports", "comment.pending": "comments"}


def staff_with_mode(modes):
    """[(user, preference)] of active users whose e-mail mode is in `modes`."""
    rows = db.session.execute(
        sa.select(User, NotificationPreference)
        .join(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(NotificationPreference.email_mode.in_(modes), User.active.is_(True))
        .order_by(User.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def visible(user, scope, items):
    """The items (objects with site_id) this user may see in the dashboard."""
    if not user.can(scope):
        return []
    return [item for item in items if user.can_site(item.site_id)]


def waiting(event, ids):
    """Objects of an immediate event that still wait for a human (handled meanwhile: no mail)."""
    model, status = (ReportCluster, "new") if event == "cluster.created" else (Comment, "pending")
    return db.session.execute(
        sa.select(model).where(model.id.in_(list(ids)), model.status == status).order_by(model.id)
    ).scalars().all()


def arrived_since(user, since, until):
    """(new clusters, pending comments) that arrived in [since, until) on the user's sites."""
    clusters = comments = []
    if user.can("reports"):
        clusters = visible(user, "reports", db.session.execute(
            sa.select(ReportCluster).where(ReportCluster.status == "new",
                                           ReportCluster.first_reported_at >= since,
                                           ReportCluster.first_reported_at < until)
            .order_by(ReportCluster.id)).scalars().all())
    if user.can("comments"):
        comments = visible(user, "comments", db.session.execute(
            sa.select(Comment).where(Comment.status == "pending", Comment.created_at >= since,
                                     Comment.created_at < until)
            .order_by(Comment.id)).scalars().all())
    return clusters, comments
