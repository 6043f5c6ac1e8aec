"""The JSON APIs: the public reader API and the token-protected moderation API."""
import functools

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
    _limiter_hooks_skip_reader_api(app)
    app.register_blueprint(reader_bp)
    app.register_blueprint(moderation_bp)
    errors.init_app(app)


def _limiter_hooks_skip_reader_api(app):
    """Flask-Limiter's app-wide before/after_request hooks, not run at all on the reader API.

    The filter above makes them do nothing there, but they still cost ~0.03 ms of the
    ~0.55 ms a reader POST takes in-process (resolving the endpoint, its exemptions, the
    filter, then the header check on the way out). Same outcome, without the work: on the
    reader API no limit is evaluated, so no X-RateLimit header is added. Everything else
    (dashboard, moderation API, unrouted paths) keeps them unchanged."""
    before = app.before_request_funcs.get(None, [])
    after = app.after_request_funcs.get(None, [])
    for hooks in (before, after):
        for index, hook in enumerate(hooks):
            if _is_limiter_hook(hook):
                hooks[index] = _unless_reader_api(hook)


def _is_limiter_hook(hook):
    if getattr(hook, "__self__", None) is limiter:  # the bound _check_request_limit
        return True
    return isinstance(hook, functools.partial) and hook.args[:1] == (limiter,)  # __inject_headers


def _unless_reader_api(hook):
    def gated(*args):
        if request.blueprint == reader_bp.name:
            return args[0] if args else None  # an after_request hook returns the response
        return hook(*args)

    gated.__name__ = gated.__qualname__ = f"limiter_hook_unless_reader_api_{getattr(hook, '__name__', 'after')}"
    return gated
