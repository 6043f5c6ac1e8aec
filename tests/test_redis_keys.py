"""Every Redis key in one module, and no two kinds of key sharing a prefix."""
import re
from pathlib import Path

from moderation import redis_keys
from moderation.broker import CLAIM_PREFIX

from support.payloads import comment_payload

PACKAGE = Path(redis_keys.__file__).resolve().parent
KEY_LITERAL = re.compile(r"""["']moderation:[a-z]""")


def test_no_key_or_prefix_is_a_prefix_of_another():
    keys = redis_keys.all_keys()
    assert len(set(keys.values())) == len(keys), "two names for one key"
    clashes = [(a, b) for a, ka in keys.items() for b, kb in keys.items() if a != b and kb.startswith(ka)]
    assert clashes == []


def test_key_names_are_written_only_in_redis_keys():
    spelled = [f"{path.relative_to(PACKAGE)}:{number}"
               for path in PACKAGE.rglob("*.py") if path.name != "redis_keys.py"
               for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if KEY_LITERAL.search(line)]
    assert spelled == []


def test_dashboard_claims_and_drain_claims_cannot_collide(app, client, auth, site, drain):
    """The drain's claim lists are found by prefix (erasure scans them): a dashboard claim
    must not live under that prefix, whatever its type."""
    assert client.post("/api/v1/comments", json=comment_payload()).status_code == 202
    drain()
    with app.app_context():
        from moderation.models import Comment  # noqa: PLC0415
        from moderation.extensions import db  # noqa: PLC0415

        comment_id = db.session.query(Comment.id).scalar()
    auth.login(role="moderator")
    assert client.get(f"/dashboard/comments/{comment_id}").status_code == 200  # opening claims it
    redis = app.broker.redis
    assert redis.keys(redis_keys.dashboard_claim_key("comment", comment_id))
    assert redis.keys(CLAIM_PREFIX + "*") == []
    assert app.broker.claim_keys() == []
