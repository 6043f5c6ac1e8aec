"""The deployment files in deploy/ and the configuration reference stay true to the code.

- systemd units: `systemd-analyze verify` (when installed) with the paths pointed at this
  checkout, plus a parse of the required keys that runs everywhere;
- every environment variable the code reads (found in the source, so a new one without
  documentation fails) and every per-site setting is in docs/configuration.md;
- deploy/env.example names only real variables and carries no secret;
- deploy/nginx.conf caps bodies like the app and passes the proxy headers ProxyFix reads;
- docs/README.md lists every page in docs/.
"""
import base64
import configparser
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from moderation import config
from moderation.identity import settings as identity_settings
from moderation.judgment import screening, surge
from moderation.models.sites import Site

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOCS = ROOT / "docs"
CONFIG_DOC = (DOCS / "configuration.md").read_text(encoding="utf-8")

SERVICES = ["moderation-web.service", "moderation-worker@.service", "moderation-backup.service"]
UNITS = SERVICES + ["moderation-backup.timer"]


def _unit(name):
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    text = (DEPLOY / name).read_text(encoding="utf-8").replace("\\\n", " ")  # continuation lines
    parser.read_string(text, source=name)
    return parser


# ---------------------------------------------------------------- systemd units

@pytest.mark.parametrize("name", SERVICES)
def test_service_units_have_the_required_keys(name):
    unit = _unit(name)
    service = unit["Service"]
    assert unit["Unit"]["Description"]
    assert service["ExecStart"].split()[0].startswith("/")
    assert service["User"] == "moderation" and service["Group"] == "moderation"
    assert service["EnvironmentFile"] == "/etc/moderation/env"
    if name != "moderation-backup.service":
        assert service["Restart"] == "always"
        assert service["WorkingDirectory"] == "/opt/moderation"
        assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_web_runs_gunicorn_on_the_wsgi_app_and_worker_runs_the_cli():
    web = _unit("moderation-web.service")["Service"]["ExecStart"].split()
    assert web[0].endswith("/.venv/bin/gunicorn") and web[-1] == "wsgi:app"
    assert (ROOT / "wsgi.py").exists()
    assert "127.0.0.1:8000" in web  # the upstream of deploy/nginx.conf
    worker = _unit("moderation-worker@.service")["Service"]["ExecStart"].split()
    assert worker[0].endswith("/.venv/bin/moderation") and worker[1:] == ["worker"]


def test_wsgi_app_freezes_what_it_loaded_and_web_processes_skip_the_worker_code(tmp_path):
    """A web worker's first full garbage collection must not walk everything imported
    (a ~100 ms stall mid-request), and a POST must not import the drain's code."""
    probe = (
        "import gc, sys, wsgi\n"
        "frozen = gc.get_freeze_count()\n"
        "client = wsgi.app.test_client()\n"
        "client.get('/healthz')\n"
        "print(frozen, 'moderation.jobs.persist' in sys.modules)\n"
    )
    env = {"MODERATION_ENV": "development", "MODERATION_DATA_DIR": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:1",
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    frozen, persist_loaded = out.stdout.split()
    assert int(frozen) > 10_000
    assert persist_loaded == "False"


def test_timer_starts_the_backup_service():
    timer = _unit("moderation-backup.timer")
    assert timer["Timer"]["OnCalendar"]
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert "pg_dump" in _unit("moderation-backup.service")["Service"]["ExecStart"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verifies_the_units(tmp_path):
    """Real systemd parsing: unknown keys, bad values and missing binaries are reported.

    The units name /opt/moderation; pointed at this checkout and its interpreter's
    scripts directory, every ExecStart binary exists and nothing may be reported.
    """
    bin_dir = Path(sys.executable).parent
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        text = text.replace("/opt/moderation/.venv/bin/", f"{bin_dir}/").replace("/opt/moderation", str(ROOT))
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", *[str(tmp_path / name) for name in UNITS]],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    report = [line for line in (done.stdout + done.stderr).splitlines() if "moderation" in line]
    assert done.returncode == 0 and not report, done.stdout + done.stderr


# ---------------------------------------------------------------- configuration reference

def _variables_read_by_the_code():
    """Environment variable names, found in the source rather than imported, so a variable
    read some new way is found too: the ENVIRONMENT table's keys and every environ lookup."""
    source = (ROOT / "moderation" / "config.py").read_text(encoding="utf-8")
    table = source[source.index("ENVIRONMENT = {"):]
    table = table[:table.index("\n}\n")]
    names = set(re.findall(r'^\s*"([A-Z][A-Z0-9_]*)"\s*:\s*\(', table, re.M))
    lookup = re.compile(r'(?:environ(?:\.get)?|getenv)\s*[\(\[]\s*"([A-Z][A-Z0-9_]*)"')
    for path in (ROOT / "moderation").rglob("*.py"):
        names.update(lookup.findall(path.read_text(encoding="utf-8")))
    return names


def test_the_source_scan_finds_every_variable_from_env_reads():
    names = _variables_read_by_the_code()
    assert set(config.ENVIRONMENT) <= names
    assert {"MODERATION_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= names
    # and from_env() really reads them: each one set alone lands in the config.
    for name, (key, _parse) in config.ENVIRONMENT.items():
        assert key in config.from_env({name: "1"}), name  # "1" parses as every type used


def test_every_environment_variable_is_documented():
    missing = sorted(n for n in _variables_read_by_the_code() if f"`{n}`" not in CONFIG_DOC)
    assert not missing, f"add these to docs/configuration.md: {missing}"


def test_every_site_column_and_setting_is_documented():
    columns = {c.name for c in Site.__table__.columns} - {"id"}
    settings = set(screening.DEFAULTS) | set(surge.DEFAULTS) | set(identity_settings.DEFAULTS) | {"retention_days"}
    missing = sorted(n for n in columns | settings if f"`{n}`" not in CONFIG_DOC)
    assert not missing, f"add these to docs/configuration.md: {missing}"


def test_documented_setting_defaults_match_the_code():
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| `([^`]*)` \|", CONFIG_DOC, re.M))
    for key, value in (screening.DEFAULTS | identity_settings.DEFAULTS).items():
        shown = {True: "true", False: "false"}.get(value, str(value)) if not isinstance(value, list) else "[]"
        assert rows.get(key) == shown, (key, rows.get(key), shown)


# ---------------------------------------------------------------- env.example and nginx

def _env_example():
    entries = {}
    for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            entries[match.group(1)] = match.group(2)
    return entries


def test_env_example_names_real_variables_and_holds_no_secret():
    entries = _env_example()
    known = _variables_read_by_the_code() | {"GUNICORN_CMD_ARGS"}
    assert set(entries) <= known, set(entries) - known
    assert entries["MODERATION_ENV"] == "production"
    assert entries["SECRET_KEY"] == "CHANGE-ME"
    assert entries["SMTP_PASSWORD"] == "CHANGE-ME"
    assert "CHANGE-ME@" in entries["DATABASE_URL"]
    assert entries["MODERATION_TRUSTED_PROXIES"] == "1"  # nginx, one proxy


def test_nginx_caps_bodies_like_the_app_and_passes_proxy_headers():
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    size = re.search(r"client_max_body_size\s+(\d+)k;", conf)
    assert size and int(size.group(1)) * 1024 == config.Config.MAX_CONTENT_LENGTH
    assert f"limit {config.Config.MAX_CONTENT_LENGTH} bytes" in conf
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Host"):
        assert f"proxy_set_header {header} " in conf
    assert "proxy_pass http://moderation_web;" in conf and "server 127.0.0.1:8000;" in conf
    assert "location ~ ^/static/js/(widget(\\.[a-z]+)?\\.js)$" in conf  # every language's bundle
    assert "alias /opt/moderation/static/js/$1;" in conf
    assert conf.count('add_header Access-Control-Allow-Origin "*"') >= 2  # SRI needs CORS


# ---------------------------------------------------------------- the docs index

def test_docs_index_lists_every_page():
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    pages = sorted(p.name for p in DOCS.glob("*.md") if p.name != "README.md")
    missing = [name for name in pages if f"({name})" not in index]
    assert not missing, f"add these to docs/README.md: {missing}"


def test_embedding_guide_quotes_the_current_integrity_hash():
    digest = hashlib.sha384((ROOT / "static" / "js" / "widget.js").read_bytes()).digest()
    value = "sha384-" + base64.b64encode(digest).decode()
    assert f'integrity="{value}"' in (DOCS / "embedding.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the moderation guide

def _reason_fragments():
    """The fixed words of every automatic reason the worker writes on a comment: string
    arguments of decide()/hold_for() and every f-string in screening, surge and reader flags."""
    import ast  # noqa: PLC0415

    targets = {
        "judgment/screening.py": "screen", "judgment/surge.py": "check", "jobs/persist.py": "_flags",
    }
    fragments = []
    for module, function in targets.items():
        tree = ast.parse((ROOT / "moderation" / module).read_text(encoding="utf-8"))
        body = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
        specs = {id(n.format_spec) for n in ast.walk(body) if isinstance(n, ast.FormattedValue) and n.format_spec}
        for node in ast.walk(body):
            if isinstance(node, ast.JoinedStr) and id(node) not in specs:
                parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
                longest = max(parts, key=len, default="")
                if longest.strip():
                    fragments.append((module, longest))
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("decide", "hold_for"):
                fragments += [(module, a.value) for a in node.args if isinstance(a, ast.Constant)
                              and isinstance(a.value, str) and " " in a.value]
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                fragments += [(module, side.value) for side in (node.left, node.right)
                              if isinstance(side, ast.Constant) and isinstance(side.value, str)]
    return fragments


def test_the_moderation_guide_explains_every_automatic_reason():
    guide = (DOCS / "moderation-guide.md").read_text(encoding="utf-8")
    fragments = _reason_fragments()
    assert len(fragments) >= 15  # the scan sees the reasons at all
    missing = [(module, text) for module, text in fragments if text.strip() not in guide]
    assert not missing, f"explain these reasons in docs/moderation-guide.md: {missing}"


@pytest.mark.skipif(shutil.which("nginx") is None or shutil.which("openssl") is None,
                    reason="nginx or openssl not installed")
def test_nginx_accepts_the_server_blocks(tmp_path):
    """`nginx -t` on deploy/nginx.conf inside a minimal main config, with a throwaway certificate."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=moderation.example",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )
    site = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    site = site.replace("/etc/letsencrypt/live/moderation.example/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/moderation.example/privkey.pem", str(tmp_path / "key.pem"))
    site = site.replace("/var/cache/nginx/moderation", str(tmp_path / "cache"))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n"
        f"  include {tmp_path}/site.conf;\n}}\n", encoding="utf-8")
    done = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "syntax is ok" in done.stderr, done.stderr
    assert "[warn]" not in done.stderr, done.stderr


def test_nginx_lets_the_screening_form_through_at_its_own_cap():
    import math  # noqa: PLC0415

    from moderation.dashboard.rules_views import SCREENING_FORM_BYTES  # noqa: PLC0415

    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    block = re.search(r"location ~ \^/dashboard/admin/sites/\[0-9\]\+/screening\$ \{(.*?)\n    \}", conf, re.S)
    assert block, "nginx needs a location for the screening form"
    size = re.search(r"client_max_body_size\s+(\d+)k;", block.group(1))
    assert size and int(size.group(1)) == math.ceil(SCREENING_FORM_BYTES / 1024)
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Host"):
        assert f"proxy_set_header {header} " in block.group(1)
    assert "proxy_pass http://moderation_web;" in block.group(1)
