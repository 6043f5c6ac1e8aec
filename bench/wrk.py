"""wrk runs: one Lua script per target (distinct client_ids per POST), JSON summary out."""
import json
import subprocess
import tempfile
from dataclasses import dataclass

MARK = "BENCHJSON "

_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""

_POST = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%(headers)s
local counter = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
request = function()
  counter = counter + 1
  local cid = string.format("%(prefix)s-%%d-%%d", tid, counter)
  return wrk.format(nil, [==[%(path)s]==], nil, [==[%(head)s]==] .. cid .. [==[%(tail)s]==])
end
"""

_GET = r"""
wrk.method = "GET"
%(headers)s
request = function()
  return wrk.format(nil, [==[%(path)s]==])
end
"""

CID = "@CID@"


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int

    def as_dict(self):
        return dict(rps=self.rps, p50_ms=self.p50_ms, p99_ms=self.p99_ms,
                    requests=self.requests, errors=self.errors)


def _headers(headers):
    return "\n".join(f'wrk.headers["{k}"] = [==[{v}]==]' for k, v in (headers or {}).items())


def post_script(path, body_json, prefix, headers=None):
    """body_json holds the CID marker once (the client_id value): each request gets its own."""
    head, tail = body_json.split(CID)
    return _POST % dict(headers=_headers(headers), prefix=prefix, path=path, head=head, tail=tail) + _DONE


def get_script(path, headers=None):
    return _GET % dict(headers=_headers(headers), path=path) + _DONE


def run(base_url, script, connections, duration, timeout="5s"):
    """Run wrk with `connections` connections for `duration` seconds; threads = min(2, connections)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", timeout,
         "-s", path, base_url],
        capture_output=True, text=True, timeout=duration + 60,
    )
    for line in out.stdout.splitlines():
        if line.startswith(MARK):
            data = json.loads(line[len(MARK):])
            seconds = data["duration_us"] / 1e6
            return Result(
                rps=data["requests"] / seconds if seconds else 0.0,
                p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
                requests=data["requests"], errors=data["status_errors"] + data["socket_errors"],
            )
    raise RuntimeError(f"wrk gave no summary: {out.stdout}\n{out.stderr}")
