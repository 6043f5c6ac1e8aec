"""The JSON APIs: the public reader API and the token-protected moderation API."""
from flask import Blueprint, request

from .. import metrics
from ..extensions import limiter
from . import cors, errors

reader_bp = Blueprint("api", __name__, url_prefix="/api/v1")
moderation_bp = Blueprint("moderation_api", __name__, url_prefix="/api/v1/moderation")

errors.register(reader_bp)
errors.register(moderation_bp)
reader_bp.before_request(cors.preflight)
reader_bp.after_request(cors.apply)
reader_bp.after_request(metrics.count_ingest)

from . import moderation_views, openapi_view, reader_views  # noqa: E402,F401  (routes register on import)
from . import reader_own_views  # noqa: E402,F401  (readers' own comments: PATCH, DELETE)
from . import reader_features_views  # noqa: E402,F401  (counts, votes, corrections)
from . import moderation_corrections_views  # noqa: E402,F401  (the corrections log, editors' side)


@limiter.request_filter
def _counted_in_the_ingest_script():
    """The reader API counts its per-site limits itself, inside the ingest Lua script
    (moderation.ratelimit). Flask-Limiter's per-request check runs app-wide; this filter
    ends it before it resolves anything (an exemption alone still resolved limits, ~8%
    of a reader POST). Registered once, at import: the limiter outlives every app."""
    return request.blueprint == reader_bp.name


def init_app(app):
    from ..extensions import csrf  # noqa: PLC0415

    # Reader calls carry no session cookie, moderation calls a Bearer token:
    # neither can be forged cross-site, so CSRF tokens are for the dashboard only.
    csrf.exempt(reader_bp)
    csrf.exempt(moderation_bp)
    # Also exempt by scope: an operator's app-wide limit (RATELIMIT_DEFAULT/APPLICATION)
    # is for the other blueprints (see _counted_in_the_ingest_script).
    limiter.exempt(reader_bp)
    app.register_blueprint(reader_bp)
    app.register_blueprint(moderation_bp)
    errors.init_app(app)
