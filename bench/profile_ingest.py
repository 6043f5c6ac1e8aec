"""Profile the ingest path (POST /api/v1/comments and /reports) in-process with pyinstrument.

    python bench/profile_ingest.py [--requests 2000] [--html out.html]

The same app settings as the suite (production config, Redis on loopback, high rate
limits); Flask's test client, so the profile is the app's own work, not the server's.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ours  # noqa: E402
from bench.procs import local_redis  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--html")
    parser.add_argument("--all", action="store_true", help="show library frames too")
    args = parser.parse_args(argv)
    from pyinstrument import Profiler  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        with local_redis(tmp) as server:
            import os  # noqa: PLC0415

            for key in ("MODERATION_LIMIT_REPORTS", "MODERATION_LIMIT_COMMENTS"):
                os.environ[key] = ours.HIGH_LIMIT
            from moderation import create_app  # noqa: PLC0415

            app = create_app({"ENV_NAME": "production", "SECRET_KEY": ours.SECRET,
                              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/p.db", "REDIS_URL": server.url,
                              "DATA_DIR": tmp})
            ours.prepare(app, [])
            client = app.test_client()
            headers = {"Origin": ours.ORIGIN}
            bodies = []
            for i in range(args.requests):
                if i % 2:
                    bodies.append(("/api/v1/comments", {"site": ours.SITE_KEY, "url": ours.article(3),
                                                        "author": "Анна", "body": "Ждём с нетерпением.",
                                                        "client_id": f"prof-c-{i:08d}"}))
                else:
                    bodies.append(("/api/v1/reports", {"site": ours.SITE_KEY, "url": ours.article(3),
                                                       "exact": "обьявил", "prefix": "мэр ", "suffix": " о",
                                                       "suggestion": "объявил", "client_id": f"prof-r-{i:08d}"}))
            for path, body in bodies[:50]:  # warm-up (site cache, scripts loaded)
                assert client.post(path, json=dict(body, client_id="w" + body["client_id"]),
                                   headers=headers).status_code == 202
            def post_all(batch):
                for path, body in batch:
                    response = client.post(path, data=json.dumps(body), content_type="application/json",
                                           headers=headers)
                    assert response.status_code == 202, response.get_data(as_text=True)

            half = len(bodies) // 2
            # Round trips as the client sees them: every reply read is one.
            import redis.connection  # noqa: PLC0415

            replies = [0]
            original = redis.connection.AbstractConnection.read_response

            def counting(self, *a, **kw):
                replies[0] += 1
                return original(self, *a, **kw)

            redis.connection.AbstractConnection.read_response = counting
            cpu, wall = time.process_time(), time.perf_counter()
            post_all(bodies[:half])
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            redis.connection.AbstractConnection.read_response = original
            print(f"{half} POSTs without profiler: {wall / half * 1000:.2f} ms wall, "
                  f"{cpu / half * 1000:.2f} ms CPU (this process), {replies[0] / half:.2f} Redis round trips each")
            bodies = bodies[half:]
            profiler = Profiler(interval=0.0005)
            started = time.perf_counter()
            profiler.start()
            post_all(bodies)
            profiler.stop()
            elapsed = time.perf_counter() - started
            print(f"{len(bodies)} POSTs in {elapsed:.2f} s: {elapsed / len(bodies) * 1000:.2f} ms each "
                  f"(in-process, profiler on)")
            print(profiler.output_text(unicode=True, color=False, show_all=args.all))
            if args.html:
                Path(args.html).write_text(profiler.output_html())


if __name__ == "__main__":
    main()
