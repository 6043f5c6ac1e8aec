"""audit(): the one way an audit entry is written, whatever the target and whoever acts."""
import ast
import pathlib
import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import (
    AuditEntry,
    BlockedCommenter,
    Comment,
    Page,
    ReportCluster,
    Site,
    TypoReport,
    User,
    Webhook,
)
from moderation.services.audit import Target, actor_of, audit, target_of

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("target, expected", [
    (Comment(id=5, site_id=2), ("comment", 5, 2)),
    (TypoReport(id=6, site_id=2), ("report", 6, 2)),
    (ReportCluster(id=7, site_id=2), ("cluster", 7, 2)),
    (Page(id=8, site_id=2), ("page", 8, 2)),
    (Site(id=3), ("site", 3, 3)),  # a site is its own site
    (User(id=4), ("user", 4, None)),  # an account spans sites
    # Audited on their site (the row may be deleted by the change itself); a global block has none.
    (Webhook(id=9, site_id=2), ("site", 2, 2)),
    (BlockedCommenter(id=10, site_id=2), ("site", 2, 2)),
    (BlockedCommenter(id=11, site_id=None), ("site", 0, None)),
    (Target("job", 0), ("job", 0, None)),
    (Target("person", 0, 2), ("person", 0, 2)),
])
def test_every_target_kind_has_its_type_id_and_site(target, expected):
    assert tuple(target_of(target)) == expected


def test_an_unknown_target_is_refused_not_guessed():
    with pytest.raises(KeyError):
        target_of(SimpleNamespace(id=1, site_id=1))


@pytest.mark.parametrize("actor, expected", [
    (None, (None, "system")),
    ("cli", (None, "cli")),
    (SimpleNamespace(id=12, email="ed@news.example"), (12, "ed@news.example")),
])
def test_actor_is_a_user_the_system_or_a_label(actor, expected):
    assert actor_of(actor) == expected


def test_audit_adds_one_entry_with_every_field(app, site):
    with app.app_context():
        row = db.session.get(Site, site.id)
        entry = audit("cli", "site.retention", row, before={"retention_days": 30}, after={"retention_days": 7},
                      reason="policy")
        db.session.commit()
        stored = db.session.execute(sa.select(AuditEntry).where(AuditEntry.id == entry.id)).scalar_one()
        assert (stored.actor_id, stored.actor_label, stored.action, stored.target_type, stored.target_id,
                stored.site_id, stored.before, stored.after, stored.reason) == (
            None, "cli", "site.retention", "site", site.id, site.id, {"retention_days": 30},
            {"retention_days": 7}, "policy")


def test_audit_leaves_the_commit_to_the_caller(app, site):
    """The entry belongs to the change it records: a rollback drops both."""
    with app.app_context():
        audit(None, "job.retry", Target("job", 0), after={"job_id": "x"})
        db.session.rollback()
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_no_module_builds_an_audit_entry_by_hand():
    """Every entry goes through services/audit.py, so all of them are shaped the same way."""
    found = []
    for path in (ROOT / "moderation").rglob("*.py"):
        if path.relative_to(ROOT).as_posix() in ("moderation/services/audit.py", "moderation/models/audit.py"):
            continue
        if re.search(r"\bAuditEntry\(", path.read_text(encoding="utf-8")):
            found.append(path.relative_to(ROOT).as_posix())
    assert found == []


def test_services_do_not_import_each_others_private_helpers():
    """Shared helpers live in services/common.py; a service's `_private` names stay its own."""
    found = []
    for path in (ROOT / "moderation" / "services").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found += [f"{path.name}: .{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert found == []
