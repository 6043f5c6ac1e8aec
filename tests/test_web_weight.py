"""A web process stays light: the worker's heavy modules are never imported by `wsgi:app`."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The spam model's libraries and the spell-checker belong to the worker alone.
HEAVY = ("sklearn", "scipy", "numpy", "spellchecker", "moderation.judgment.spam_model",
         "moderation.judgment.suggestions", "moderation.jobs.worker", "moderation.jobs.fixed_check")

PROBE = """
import json, sys
from wsgi import app
with app.test_client() as client:
    client.get("/healthz")
    client.get("/dashboard/login")
print(json.dumps(sorted(m for m in sys.modules)))
"""


def test_web_process_imports_no_worker_code(tmp_path):
    env = dict(os.environ, MODERATION_ENV="development", MODERATION_DATA_DIR=str(tmp_path),
               PYTHONPATH=str(ROOT), REDIS_URL="redis://127.0.0.1:1/0")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    heavy = sorted(m for m in loaded if m in HEAVY or m.split(".")[0] in HEAVY)
    assert heavy == []
