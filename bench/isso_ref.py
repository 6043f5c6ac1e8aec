"""Isso 0.14, the Python peer: its own venv, config and database in a temp dir, gunicorn -w N."""
import os
import subprocess
import sys
from pathlib import Path

from bench.procs import ROOT, free_port, wait_http

VENV = ROOT / ".bench" / "isso-venv"
REQUIREMENT = "isso==0.14.*"


def ensure_venv():
    """Isso and gunicorn in .bench/isso-venv (created on first use)."""
    python = VENV / "bin" / "python"
    if not (VENV / "bin" / "gunicorn").exists() or subprocess.run(
            [python, "-c", "import isso"], capture_output=True).returncode:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        REQUIREMENT, "gunicorn>=23,<28"], check=True)
    return python


CONFIG = """[general]
dbpath = {tmp}/isso.db
host = http://127.0.0.1:{port}/
notify = stdout
log-file = {tmp}/isso.log

[server]
listen = http://127.0.0.1:{port}/

[moderation]
enabled = true

[guard]
enabled = false
"""


def start(procs, tmp, workers, threads_spec):
    """Seed Isso's database (uri=count pairs) and start it. Returns (base_url, gunicorn process)."""
    python = ensure_venv()
    tmp = Path(tmp) / "isso"
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = tmp / "isso.cfg"
    conf.write_text(CONFIG.format(tmp=tmp, port=port))
    subprocess.run([python, str(ROOT / "bench" / "isso_seed.py"), str(conf),
                    *[f"{uri}={count}" for uri, count in threads_spec]], check=True)
    env = dict(os.environ, ISSO_SETTINGS=str(conf))
    env.pop("PYTHONPATH", None)
    proc = procs.start("isso", [str(VENV / "bin" / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
                                "--log-level", "warning", "isso.run"], env=env, cwd=tmp)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/info", proc=proc)
    return base, proc
