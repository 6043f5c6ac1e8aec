"""Decisions on error reports. Editors decide a spot (a cluster), never one reader at a time:
fixing a cluster answers every reader who reported that spot."""
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..db_retry import unit_of_work
from ..extensions import db
from ..models import ReportCluster, TypoReport
from ..models.base import utcnow
from ..notify.events import emit
from ..sanitizer import strip_controls
from ..schemas.limits import CORRECTION_MAX, REPORT_QUEUES
from . import actions, corrections
from .audit import audit
from .common import Invalid, clean_reason, load, paginate, require, site_filter


def list_clusters(actor, status="new", site_key=None, after=None, limit=50, url=None, search=None,
                  since=None, until=None, detected=False):
    """Oldest first, keyset-paginated; `detected`: only spots the fixed check found gone
    from the page. Returns (clusters, next_cursor)."""
    require(actor, "reports")
    if status not in REPORT_QUEUES:
        raise Invalid("invalid fields", {"status": "status must be one of " + ", ".join(REPORT_QUEUES)})
    query = site_filter(
        sa.select(ReportCluster).where(ReportCluster.status == status).options(
            selectinload(ReportCluster.page), selectinload(ReportCluster.site),
            selectinload(ReportCluster.reports),
        ),
        ReportCluster, actor, site_key,
    )
    if url:
        from ..models import Page  # noqa: PLC0415

        query = query.join(Page, Page.id == ReportCluster.page_id).where(Page.url.contains(url))
    if search:
        query = query.where(ReportCluster.exact.contains(search))
    if since:
        query = query.where(ReportCluster.first_reported_at >= since)
    if until:
        query = query.where(ReportCluster.first_reported_at < until)
    if detected:
        query = query.where(ReportCluster.fixed_detected_at.is_not(None))
    return paginate(query, ReportCluster, after, limit)


def cluster_of(report):
    """The report's cluster; reports stored before clustering existed get one now."""
    if report.cluster is not None:
        return report.cluster
    from ..models.clusters import cluster_key  # noqa: PLC0415

    key = cluster_key(report.page_id, report.exact, report.prefix, report.suffix)
    cluster = db.session.execute(sa.select(ReportCluster).where(ReportCluster.key == key)).scalar_one_or_none()
    if cluster is None:
        cluster = ReportCluster(key=key, site_id=report.site_id, page_id=report.page_id, exact=report.exact,
                                prefix=report.prefix, suffix=report.suffix, status=report.status, report_count=0,
                                first_reported_at=report.created_at, last_reported_at=report.created_at)
        db.session.add(cluster)
    cluster.report_count += 1
    report.cluster = cluster
    db.session.flush()
    return cluster


def _decide(cluster, actor, name, reason=None, correction=None, then=None):
    """A cluster action from the registry (services/actions.py): its status and audit code.
    `then(cluster)` runs in the same transaction, before the commit (a published correction)."""
    action = actions.get("cluster", name)
    status = action.status
    before = {"status": cluster.status, "correction": cluster.correction}
    cluster.status = status
    cluster.correction = correction if status == "fixed" else cluster.correction
    cluster.decided_at = utcnow() if status != "new" else None
    cluster.decided_by_id = actor.id if status != "new" else None
    cluster.decision_reason = reason
    db.session.execute(
        sa.update(TypoReport)
        .where(TypoReport.cluster_id == cluster.id)
        .values(status=status, correction=cluster.correction, decided_at=cluster.decided_at,
                decided_by_id=cluster.decided_by_id, decision_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    audit(actor, action.audit, cluster, before=before,
          after={"status": status, "correction": cluster.correction}, reason=reason)
    if then is not None:
        then(cluster)
    db.session.commit()
    return cluster


@unit_of_work
def fix_cluster(cluster_id, actor, correction=None, publish=None, note=None, reason=None):
    """Record the correction (default: the most suggested text) and mark the spot fixed.
    `publish`: also a published correction (services/corrections.py) with the `note`; nothing is
    published unless asked, and a fact correction without a note is refused (400) where the
    site requires one; then nothing changes."""
    cluster = load(ReportCluster, cluster_id, actor, "reports")
    publish = corrections.flag(publish, "publish")
    if publish:
        note = corrections.check_note(cluster, note)
    if correction is None:
        correction = cluster.best_suggestion()
    if not isinstance(correction, str):
        raise Invalid("invalid fields", {"correction": "correction must be a string"})
    correction = strip_controls(correction)
    if len(correction) > CORRECTION_MAX:
        raise Invalid("invalid fields", {"correction": f"correction must be at most {CORRECTION_MAX} characters"})
    then = (lambda fixed: corrections.publish_fix(fixed, actor, note)) if publish else None
    cluster = _decide(cluster, actor, "fix", clean_reason(reason), correction, then=then)
    emit("cluster.fixed", [cluster.id])
    return cluster


@unit_of_work
def reject_cluster(cluster_id, actor, reason=None):
    cluster = load(ReportCluster, cluster_id, actor, "reports")
    reason = clean_reason(reason)
    if cluster.status == "rejected":
        return cluster
    return _decide(cluster, actor, "reject", reason)


@unit_of_work
def reopen_cluster(cluster_id, actor, reason=None):
    cluster = load(ReportCluster, cluster_id, actor, "reports")
    if cluster.status == "new":
        return cluster
    reason = clean_reason(reason)
    # A reopened spot is no longer corrected: its published corrections come off the log.
    return _decide(cluster, actor, "reopen", reason,
                   then=lambda spot: corrections.unpublish_of_cluster(spot, actor, reason))


# -- one reader's report (the API's /reports): decided through its cluster --------------

def list_reports(actor, status="new", site_key=None, after=None, limit=50):
    require(actor, "reports")
    if status not in REPORT_QUEUES:
        raise Invalid("invalid fields", {"status": "status must be one of " + ", ".join(REPORT_QUEUES)})
    query = site_filter(
        sa.select(TypoReport).where(TypoReport.status == status), TypoReport, actor, site_key
    )
    return paginate(query, TypoReport, after, limit)


def fix_report(report_id, actor, correction=None, publish=None, note=None, reason=None):
    """Fix the spot this report points at (its whole cluster); returns the report."""
    report = load(TypoReport, report_id, actor, "reports")
    fix_cluster(cluster_of(report).id, actor, correction, publish, note, reason)
    return report


def reject_report(report_id, actor, reason=None):
    report = load(TypoReport, report_id, actor, "reports")
    reject_cluster(cluster_of(report).id, actor, reason)
    return report
