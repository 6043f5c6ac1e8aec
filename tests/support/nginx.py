"""Debian's nginx running deploy/nginx.conf in front of a local upstream (tests and bench/).

The site file is used as shipped, with only what must differ on a test box replaced:
certificate (a throwaway self-signed one), ports, upstream address, cache and static
directories. Each replacement must find its text, so a change to deploy/nginx.conf that
breaks the templating fails loudly instead of testing something else. The list location
also reports `X-Cache-Status: $upstream_cache_status` (HIT, MISS, EXPIRED, STALE, UPDATING...).
"""
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE_FILE = ROOT / "deploy" / "nginx.conf"
HOST = "moderation.example"
LIST_CACHE = "        proxy_cache moderation_lists;\n"


def nginx_binary():
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _replace(text, old, new):
    assert old in text, f"deploy/nginx.conf no longer contains {old!r}: update tests/support/nginx.py"
    return text.replace(old, new)


class Nginx:
    """A rendered configuration in `directory`; `start()` runs it in the foreground (our child)."""

    def __init__(self, directory, upstream, workers=1, connections=1024):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.upstream = upstream  # "127.0.0.1:PORT"
        self.port, self.http_port = _free_port(), _free_port()
        self.proc = None
        self._certificate()
        site = SITE_FILE.read_text(encoding="utf-8")
        for old, new in (
            ("/etc/letsencrypt/live/moderation.example/fullchain.pem", str(self.dir / "cert.pem")),
            ("/etc/letsencrypt/live/moderation.example/privkey.pem", str(self.dir / "key.pem")),
            ("/var/cache/nginx/moderation", str(self.dir / "cache")),
            ("server 127.0.0.1:8000;", f"server {upstream};"),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{self.port} ssl http2;"),
            ("    listen [::]:443 ssl http2;\n", ""),
            ("listen 80;", f"listen 127.0.0.1:{self.http_port};"),
            ("    listen [::]:80;\n", ""),
            ("/opt/moderation/static/", f"{ROOT}/static/"),
            (LIST_CACHE, LIST_CACHE + "        add_header X-Cache-Status $upstream_cache_status always;\n"),
        ):
            site = _replace(site, old, new)
        (self.dir / "site.conf").write_text(site, encoding="utf-8")
        temp = "".join(f"  {kind}_temp_path {self.dir}/{kind}-temp;\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # As root the workers would switch to nobody, who cannot enter pytest's 0700 temp dirs.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(
            f"{user}worker_processes {workers};\npid {self.dir}/nginx.pid;\nerror_log {self.dir}/error.log;\n"
            f"events {{ worker_connections {connections}; }}\n"
            f"http {{\n  access_log off;\n{temp}  include {self.dir}/site.conf;\n}}\n", encoding="utf-8")

    def _certificate(self):
        subprocess.run(
            # P-256, not RSA: the bench opens thousands of TLS connections at once, and an ECDSA
            # handshake costs the server a fraction of an RSA one (as on a real site's certificate).
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", f"/CN={HOST}",
             "-keyout", str(self.dir / "key.pem"), "-out", str(self.dir / "cert.pem")],
            check=True, capture_output=True, timeout=60)

    def _args(self, *extra):
        return [nginx_binary(), "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
                "-e", str(self.dir / "error.log"), *extra]

    def check(self):
        """`nginx -t`: (ok, its output)."""
        done = subprocess.run(self._args("-t"), capture_output=True, text=True, timeout=60)
        return done.returncode == 0 and "syntax is ok" in done.stderr, done.stderr

    @property
    def base(self):
        return f"https://127.0.0.1:{self.port}"

    def start(self, timeout=15.0):
        log = open(self.dir / "stdout.log", "ab")
        self.proc = subprocess.Popen(self._args("-g", "daemon off;"), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.dir / 'error.log').read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen in time")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful; the master takes its workers down
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def request(self, method, path, body=None, headers=None):
        """(status, headers as a dict with lower-case names, body bytes), through nginx over TLS."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                           context=ssl._create_unverified_context())  # noqa: S323 (our throwaway cert)
        try:
            conn.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()
