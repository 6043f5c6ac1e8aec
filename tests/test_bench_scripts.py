"""Every bench script still imports: they run only in `make bench` and CI's corpus steps, so a
module the application renamed (enqueue_learning moved to moderation.tasks) broke them unseen."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Two are WSGI apps the bench serves; they read their settings when imported.
ENV = {"BENCH_ORIGIN_COUNTER": "/dev/null", "REDIS_URL": "redis://127.0.0.1:1/0"}
PROBE = """
import importlib, pathlib, sys
sys.argv = ["bench"]
failed = []
for path in sorted(pathlib.Path("bench").glob("*.py")):
    try:
        importlib.import_module("bench." + path.stem)
    except Exception as exc:  # noqa: BLE001 - report every broken script at once
        failed.append(f"{path.name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
"""


def test_every_bench_script_imports():
    env = dict(os.environ, MODERATION_ENV="development", PYTHONPATH=str(ROOT), **ENV)
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == ""
