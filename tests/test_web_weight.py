"""A web process stays light: the worker's heavy modules are never imported by `wsgi:app`.

The probe runs in a fresh interpreter: `from wsgi import app`, then the requests a web
process answers first (health check, the dashboard's sign-in page, a reader POST).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Modules (and their submodules) that belong to the worker or to one CLI command:
HEAVY = (
    # the spam model's libraries and the spell-checker (worker)
    "sklearn", "scipy", "numpy", "spellchecker",
    "moderation.judgment.spam_model", "moderation.judgment.suggestions",
    "moderation.judgment.screening",
    # every queued job, the worker loop and the fixed-check crawler
    "moderation.jobs",
    # Flask-Migrate and what it brings: `moderation db ...` and `moderation run` only
    "flask_migrate", "alembic", "mako", "pygments",
    # `moderation import isso|disqus`: the importers, their XML parser, `run`'s supervisor
    "moderation.porting.common", "moderation.porting.disqus", "moderation.porting.isso",
    "defusedxml", "moderation.supervisor",
)
# Peak RSS (VmHWM) of the probe, measured 2026-12-02 (Python 3.11, Linux x86-64): 83 MB,
# of which ~8 MB is Pydantic (the schema source: its core and the reader models it builds;
# 73 MB before it); 85 MB (without Pydantic) while Alembic, the importers and screening were
# still imported, 182 MB while the spam model's tables pulled in scikit-learn. The rest is
# the libraries every request needs (Flask ~20 MB over a bare interpreter's 11 MB,
# SQLAlchemy's ORM ~20 MB, redis + rq ~6 MB, bleach ~3 MB, Flask-WTF and Flask-Limiter
# ~2 MB each) and ~9 MB of our own. ~15 % above the measured figure: a new heavy import
# fails here, allocator noise does not.
MAX_PEAK_RSS_MB = 95

SETUP = """
from flask_migrate import upgrade
from moderation import create_app
from moderation.extensions import db
from moderation.models import Site
app = create_app()
with app.app_context():
    upgrade()
    db.session.add(Site(key="probe", name="Probe", allowed_origins=["https://news.example"]))
    db.session.commit()
"""

PROBE = """
import json, sys
from wsgi import app
with app.test_client() as client:
    statuses = [
        client.get("/healthz").status_code,
        client.get("/dashboard/login").status_code,
        client.post("/api/v1/reports", headers={"Origin": "https://news.example"}, json={
            "site": "probe", "url": "https://news.example/2026/12/article", "exact": "обьявил",
            "prefix": "мэр ", "suffix": " о", "suggestion": "объявил", "client_id": "probe-0001"}).status_code,
    ]
# VmHWM, not getrusage's ru_maxrss: that survives exec, so it would count the parent's
# (pytest's) pages the subprocess had when it forked.
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"modules": sorted(sys.modules), "statuses": statuses, "peak_rss_mb": peak_kb / 1024}))
"""


def _probe(tmp_path):
    # Redis is unreachable on purpose: the probe needs no server, and the POST answers 503.
    env = dict(os.environ, MODERATION_ENV="development", MODERATION_DATA_DIR=str(tmp_path),
               PYTHONPATH=str(ROOT), REDIS_URL="redis://127.0.0.1:1/0")
    for script in (SETUP, PROBE):
        out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from Linux's /proc")
def test_web_process_imports_no_worker_code_and_stays_under_its_memory_bound(tmp_path):
    probe = _probe(tmp_path)
    # The reader POST got through validation and the site lookup to the (down) queue.
    assert probe["statuses"] == [503, 200, 503]
    heavy = sorted(m for m in probe["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []
    assert probe["peak_rss_mb"] <= MAX_PEAK_RSS_MB, probe["peak_rss_mb"]
