"""The JSON APIs: the public reader API and the token-protected moderation API."""
from flask import Blueprint

from .. import metrics
from . import cors, errors

reader_bp = Blueprint("api", __name__, url_prefix="/api/v1")
moderation_bp = Blueprint("moderation_api", __name__, url_prefix="/api/v1/moderation")

errors.register(reader_bp)
errors.register(moderation_bp)
reader_bp.before_request(cors.preflight)
reader_bp.after_request(cors.apply)
reader_bp.after_request(metrics.count_ingest)

from . import moderation_views, openapi, reader_views  # noqa: E402,F401  (routes register on import)


def init_app(app):
    from ..extensions import csrf, limiter  # noqa: PLC0415

    # Reader calls carry no session cookie, moderation calls a Bearer token:
    # neither can be forged cross-site, so CSRF tokens are for the dashboard only.
    csrf.exempt(reader_bp)
    csrf.exempt(moderation_bp)
    # The reader API counts its per-site limits itself, inside the ingest Lua script
    # (moderation.ratelimit): Flask-Limiter's per-request hook would only cost time here.
    limiter.exempt(reader_bp)
    app.register_blueprint(reader_bp)
    app.register_blueprint(moderation_bp)
    errors.init_app(app)
