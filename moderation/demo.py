"""The demo site and its article page at /demo (what `make run` shows)."""
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for

from . import assets, auth
from .extensions import db
from .models import Site, User
from .models.base import as_utc
from .services import comments_feed
from .urls import origin_of

DEMO_KEY = "demo"
ADMIN_EMAIL = "admin@localhost"

bp = Blueprint("demo", __name__)


def ensure_demo(base_url):
    """Create the demo site and, if no staff account exists yet, an admin.

    Returns (site, password); password is None unless the admin was just created.
    """
    origins = {origin_of(base_url)}
    origins |= {o.replace("127.0.0.1", "localhost") for o in origins}
    site = db.session.execute(sa.select(Site).where(Site.key == DEMO_KEY)).scalar_one_or_none()
    if site is None:
        site = Site(key=DEMO_KEY, name="Вечерний Приозёрск (демо)", moderation_mode="pre", language="ru")
        db.session.add(site)
    site.allowed_origins = sorted(set(site.allowed_origins or ()) | origins)
    db.session.commit()
    password = None
    if db.session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one() == 0:
        _, password = auth.create_user(ADMIN_EMAIL, "admin")
    return site, password


def _human(value):
    value = as_utc(value)
    seconds = (datetime.now(timezone.utc) - value).total_seconds()
    if seconds < 60:
        return "только что"
    if seconds < 3600:
        return f"{int(seconds // 60)} мин. назад"
    if seconds < 86400:
        return f"{int(seconds // 3600)} ч. назад"
    return value.strftime("%d.%m.%Y")


def _with_human_times(thread):
    thread = dict(thread)
    created = datetime.fromisoformat(thread["created_at"].replace("Z", "+00:00"))
    thread["created_at_human"] = _human(created)
    thread["replies"] = [_with_human_times(r) for r in thread.get("replies", [])]
    return thread


@bp.get("/demo")
def article():
    """The demo article with its published comments (the widget takes over in the browser)."""
    site = db.session.execute(sa.select(Site).where(Site.key == DEMO_KEY)).scalar_one_or_none()
    comments = []
    if site is not None:
        page = comments_feed.find_page(site.id, request.base_url)
        comments = [_with_human_times(t) for t in comments_feed.build(page)["comments"]]
    return render_template(
        "demo/article.html",
        site_key=DEMO_KEY,
        # The bundle of the demo site's language (Russian): widget.ru.js.
        widget_src=url_for("static", filename=assets.widget_file(site.language if site else "ru")),
        widget_integrity=assets.integrity(assets.widget_file(site.language if site else "ru")),
        comments=comments,
    )


@bp.get("/")
def index():
    return redirect(url_for("demo.article"))


def init_app(app):
    app.register_blueprint(bp)
