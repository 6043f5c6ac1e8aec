"""Screening rules from the dashboard: block a reader, tune a site's screening settings."""
import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..judgment import wordlists
from ..json_limits import body_limit
from ..site_registry import registry
from ..models import BlockedCommenter, Comment, Site
from ..privacy import hash_value
from ..services import moderation as service
from ..services.audit import audit
from ..schemas.limits import MAX_ID
from . import bp
from .common import requires

NUMBERS = {  # setting: (lowest, highest)
    "max_links": (0, 50), "min_seconds": (0, 600), "velocity_count": (1, 1000),
    "velocity_seconds": (1, 86400), "repeat_hours": (1, 720), "trusted_after": (1, 10000),
    "surge_comments": (0, 100000), "surge_window_minutes": (1, 1440), "surge_min_comments": (1, 100000),
    "surge_quiet_minutes": (1, 10080),
}
SCORES = ("auto_spam", "hold_score", "surge_spam_share")
WORD_LISTS = ("banned_words", "suspect_words")
# The screening form's body at its largest valid size, from the word-list limits: the
# form is URL-encoded, so a character is up to 4 bytes of UTF-8, each byte "%XX" (12
# bytes; Cyrillic 6), and each line ends in "%0D%0A". 64 KB held about 5,000 Cyrillic
# letters, not 2,000 words. 16 KB for the other fields and the CSRF token.
SCREENING_FORM_BYTES = len(WORD_LISTS) * wordlists.MAX_WORDS * (wordlists.MAX_WORD_CHARS * 12 + 6) + 16 * 1024


@bp.post(f"/comments/<int(max={MAX_ID}):comment_id>/block")
@requires("comments")
def block_author(comment_id):
    """Block the comment's author on its site (address hash, and e-mail hash if given), reject
    the comment. 404 outside the user's sites."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or not current_user.can_site(comment.site_id):
        abort(404)
    reason = request.form.get("reason", "").strip()[:500] or None
    blocked = []
    for kind, value in (("address", comment.reporter_hash),
                        ("email", hash_value(comment.email) if comment.email else None)):
        if value and not db.session.execute(sa.select(BlockedCommenter.id).where(
                BlockedCommenter.site_id == comment.site_id, BlockedCommenter.kind == kind,
                BlockedCommenter.value_hash == value)).first():
            db.session.add(BlockedCommenter(site_id=comment.site_id, kind=kind, value_hash=value,
                                            reason=reason, created_by_id=current_user.id))
            blocked.append(kind)
    audit(current_user, "commenter.block", comment, after={"blocked": blocked}, reason=reason)
    db.session.commit()
    if comment.status != "rejected":
        service.reject_comment(comment.id, current_user, reason or "blocked commenter")
    if request.headers.get("X-Requested-With") == "fetch":
        from .common import queue_counts  # noqa: PLC0415

        return {"ok": True, "counts": queue_counts()}
    flash(_("The author is blocked on this site."))
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/dashboard") else url_for("dashboard.comments"))


def _parse(form, current):
    """New settings from the form, or (None, errors)."""
    values, errors = dict(current), {}
    values["use_default_words"] = bool(form.get("use_default_words"))
    values["flagged_visible"] = bool(form.get("flagged_visible"))
    for kind in WORD_LISTS:
        words = [w.strip() for w in form.get(kind, "").splitlines() if w.strip()]
        problems = [_word_error(w, why) for w in words if (why := wordlists.validate_word(w))]
        if len(words) > wordlists.MAX_WORDS:
            problems.insert(0, _("At most %(words)d words of up to %(chars)d characters.",
                                 words=wordlists.MAX_WORDS, chars=wordlists.MAX_WORD_CHARS))
        if problems:
            errors[kind] = problems[:10] + ([_("… and %(n)d more.", n=len(problems) - 10)] if len(problems) > 10 else [])
        values[kind] = words
    for key, (low, high) in NUMBERS.items():
        try:
            number = int(form.get(key, ""))
            if not low <= number <= high:
                raise ValueError
            values[key] = number
        except ValueError:
            errors[key] = _("A whole number from %(low)d to %(high)d.", low=low, high=high)
    for key in SCORES:
        try:
            number = float(form.get(key, ""))
            if not 0 < number <= 1:
                raise ValueError
            values[key] = number
        except ValueError:
            errors[key] = _("A number above 0 and at most 1.")
    if not errors and values["hold_score"] > values["auto_spam"]:
        errors["hold_score"] = _("The hold score cannot be above the auto-spam score.")
    return (None, errors) if errors else (values, {})


def _word_error(word, why):
    """The field error for an entry wordlists.validate_word refused, naming the entry."""
    code, number = why
    shown = word if len(word) <= 40 else word[:40] + "…"
    if code == "long":
        return _("«%(word)s»: at most %(n)d characters.", word=shown, n=number)
    if code == "star":
        return _("«%(word)s»: * may only end a word.", word=shown)
    if code == "stem":
        return _("«%(word)s»: a word needs at least %(n)d letters before *.", word=shown, n=number)
    return _("«%(word)s»: a word needs at least %(n)d letters.", word=shown, n=number)


@bp.route(f"/admin/sites/<int(max={MAX_ID}):site_id>/screening", methods=["GET", "POST"])
@body_limit(SCREENING_FORM_BYTES, allowed=lambda: current_user.is_authenticated and current_user.can("admin"))
@requires("admin")
def site_screening(site_id):
    """A site's screening settings (words, links, velocity, model thresholds). 400 on bad
    input (field errors name each refused word; nothing is saved, the form keeps what was
    typed), 403 unless admin, 404 unknown site, 413 over SCREENING_FORM_BYTES (admins; 64 KB
    for everyone else)."""
    # The worker's screening stage owns the defaults; only this admin page reads them here.
    from ..judgment.screening import DEFAULTS  # noqa: PLC0415

    site = db.session.get(Site, site_id)
    if site is None:
        abort(404)
    current = dict(DEFAULTS, **(site.settings or {}))
    errors, status = {}, 200
    if request.method == "POST":
        values, errors = _parse(request.form, current)
        if values is not None:
            audit(current_user, "site.screening", site, before=current, after=values)
            site.settings = values
            db.session.commit()
            # This process at once; others within SITE_CACHE_SECONDS (flagged_visible is read there).
            registry().invalidate()
            flash(_("Saved."))
            return redirect(url_for("dashboard.site_screening", site_id=site.id))
        current, status = dict(current, **{k: v for k, v in request.form.items()}), 400
    blocked = db.session.execute(
        sa.select(BlockedCommenter).where(BlockedCommenter.site_id == site.id).order_by(BlockedCommenter.id.desc())
    ).scalars().all()
    return render_template("dashboard/site_screening.html", site=site, values=current, errors=errors,
                           blocked=blocked, numbers=NUMBERS, scores=SCORES,
                           model=model_state(site, current)), status


@bp.post(f"/admin/blocked/<int(max={MAX_ID}):block_id>/delete")
@requires("admin")
def unblock(block_id):
    row = db.session.get(BlockedCommenter, block_id)
    if row is None:
        abort(404)
    audit(current_user, "commenter.unblock", row, before={"kind": row.kind})
    db.session.delete(row)
    db.session.commit()
    flash(_("Unblocked."))
    return redirect(url_for("dashboard.site_screening", site_id=row.site_id) if row.site_id
                    else url_for("dashboard.admin_sites"))


# -- the spam model's autonomy on a site ----------------------------------------------

def model_state(site, conf):
    """The spam model's state on `site` in words (judgment.autonomy.describe) and its numbers."""
    from ..judgment import autonomy  # noqa: PLC0415 - pure Python, no scikit-learn
    from ..models import SpamExample, SpamSiteState  # noqa: PLC0415

    decisions = db.session.execute(
        sa.select(sa.func.count()).select_from(SpamExample)
        .join(Comment, Comment.id == SpamExample.comment_id).where(Comment.site_id == site.id)
    ).scalar_one()
    state = db.session.get(SpamSiteState, site.id)
    words = autonomy.describe(state, decisions, conf["auto_spam"])
    return dict(words, decisions=decisions, needed=autonomy.MIN_DECISIONS, state=state,
                admin_off=bool(state and state.admin_off), target=autonomy.TARGET)


@bp.post(f"/admin/sites/<int(max={MAX_ID}):site_id>/spam-model")
@requires("admin")
def site_spam_model(site_id):
    """Switch the spam model's auto-spam off (or back on) for a site; audited. 404 for no such
    site, 400 for another value. Switched on, it still acts only where it has earned it."""
    from ..models import SpamSiteState  # noqa: PLC0415

    site = db.session.get(Site, site_id)
    if site is None:
        abort(404)
    wanted = request.form.get("auto_spam")
    if wanted not in ("on", "off"):
        abort(400)
    state = db.session.get(SpamSiteState, site.id)
    if state is None:
        state = SpamSiteState(site_id=site.id, decisions=0, evaluated=0, curve=[], admin_off=False)
        db.session.add(state)
    before = "off" if state.admin_off else "on"
    state.admin_off = wanted == "off"
    audit(current_user, "site.spam_model", site, before={"auto_spam": before}, after={"auto_spam": wanted},
          reason=request.form.get("reason", "").strip()[:500] or None)
    db.session.commit()
    flash(_("Auto-spam by the model is off for this site.") if wanted == "off"
          else _("Auto-spam by the model is allowed again where it has earned it."))
    return redirect(url_for("dashboard.site_screening", site_id=site.id))
