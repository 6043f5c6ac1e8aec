"""Benchmark (not a test): importing and exporting a newsroom-sized comment history.

    .venv/bin/python bench/porting_volume.py [--threads 500] [--per-thread 40]

Builds an Isso database with Isso's own code (isso.db.SQLite3), and a Disqus export and a
WordPress export (WXR 1.2) with the same shape (THREADS threads x PER_THREAD comments,
one reply in four),
then, on a throwaway SQLite database and through the real `moderation` commands:
imports each (first run, then a re-run that must change nothing), and exports the
comments as JSON and CSV. Prints wall time, comments per second and the peak RSS
of the process (the XML readers keep only extracted fields, never the tree).
No Redis is needed: importing and exporting never touch the queue.
"""
import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build_isso(path, threads, per_thread):
    import isso.config  # noqa: PLC0415
    import isso.db  # noqa: PLC0415

    isso_db = isso.db.SQLite3(str(path), isso.config.load(isso.config.default_file()))
    t0 = 1_600_000_000.0
    for t in range(threads):
        uri = f"/story/{t}/"
        isso_db.threads.new(uri, f"Story {t}")
        first = None
        for i in range(per_thread):
            row = isso_db.comments.add(uri, {
                "text": f"Comment {i} on story {t}.\n\nSecond paragraph with https://example.org/{i}",
                "author": f"Reader {i}", "email": f"r{i}@reader.example", "website": None,
                "parent": first if i % 4 == 3 else None, "mode": 1 if i % 10 else 2,
                "remote_addr": "192.0.2.0", "created": t0 + t * 3600 + i,
            })
            first = first or row["id"]


def build_disqus(path, threads, per_thread):
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
                  'xmlns:dsq="http://disqus.com/disqus-internals">\n')
        for t in range(threads):
            out.write(f'<thread dsq:id="{t}"><link>https://news.example/d/{t}</link>'
                      f"<title>Story {t}</title></thread>\n")
        post = 0
        for t in range(threads):
            first = None
            for i in range(per_thread):
                post += 1
                parent = f'<parent dsq:id="{first}" />' if first and i % 4 == 3 else ""
                first = first or post
                out.write(
                    f'<post dsq:id="{post}"><message>{escape("<p>Comment %d on story %d</p>" % (i, t))}</message>'
                    f"<createdAt>2020-01-01T00:{i % 60:02d}:00Z</createdAt><isDeleted>false</isDeleted>"
                    f"<isSpam>{'true' if i % 17 == 0 else 'false'}</isSpam><author><name>Reader {i}</name>"
                    f'<email>r{i}@reader.example</email></author><thread dsq:id="{t}" />{parent}</post>\n'
                )
        out.write("</disqus>\n")


def build_wordpress(path, threads, per_thread):
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
                  'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n<wp:wxr_version>1.2</wp:wxr_version>\n')
        comment = 0
        for t in range(threads):
            out.write(f"<item><title>Story {t}</title><link>https://news.example/w/{t}/</link>"
                      f"<wp:post_id>{t + 1}</wp:post_id><wp:post_type>post</wp:post_type>\n")
            first = None
            for i in range(per_thread):
                comment += 1
                parent = first if first and i % 4 == 3 else 0
                first = first or comment
                out.write(
                    f"<wp:comment><wp:comment_id>{comment}</wp:comment_id>"
                    f"<wp:comment_author><![CDATA[Reader {i}]]></wp:comment_author>"
                    f"<wp:comment_author_email><![CDATA[r{i}@reader.example]]></wp:comment_author_email>"
                    f"<wp:comment_date_gmt><![CDATA[2020-01-01 00:{i % 60:02d}:00]]></wp:comment_date_gmt>"
                    f"<wp:comment_content><![CDATA[<p>Comment {i} on story {t}</p>]]></wp:comment_content>"
                    f"<wp:comment_approved><![CDATA[{'spam' if i % 17 == 0 else '1'}]]></wp:comment_approved>"
                    f"<wp:comment_type><![CDATA[comment]]></wp:comment_type>"
                    f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>\n"
                )
            out.write("</item>\n")
        out.write("</channel>\n</rss>\n")


def timed(label, count, runner, args):
    start = time.perf_counter()
    result = runner.invoke(args=args)
    elapsed = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(f"{label} failed:\n{result.output}")
    summary = [line for line in result.output.splitlines() if "threads," in line]
    print(f"{label:28} {elapsed:7.2f} s  {count / elapsed:8.0f} comments/s  {summary[-1] if summary else ''}")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=500)
    parser.add_argument("--per-thread", type=int, default=40)
    options = parser.parse_args()
    count = options.threads * options.per_thread
    work = Path(tempfile.mkdtemp(prefix="porting-bench-"))

    from flask_migrate import upgrade  # noqa: PLC0415

    from moderation import create_app  # noqa: PLC0415
    from moderation.extensions import db  # noqa: PLC0415
    from moderation.models import Site  # noqa: PLC0415

    build_isso(work / "isso.db", options.threads, options.per_thread)
    build_disqus(work / "disqus.xml", options.threads, options.per_thread)
    build_wordpress(work / "wordpress.xml", options.threads, options.per_thread)
    print(f"{count} comments in {options.threads} threads; Disqus file "
          f"{os.path.getsize(work / 'disqus.xml') / 1e6:.1f} MB, WordPress file "
          f"{os.path.getsize(work / 'wordpress.xml') / 1e6:.1f} MB")
    app = create_app({
        "ENV_NAME": "testing", "DATA_DIR": str(work), "REDIS_URL": "redis://127.0.0.1:1/0",
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{work / 'bench.db'}",
    })
    with app.app_context():
        upgrade()
        db.session.add(Site(key="bench", name="Bench", allowed_origins=["https://news.example"]))
        db.session.commit()
    runner = app.test_cli_runner()
    timed("isso import", count, runner, ["import", "isso", str(work / "isso.db"), "--site", "bench"])
    timed("isso import again", count, runner, ["import", "isso", str(work / "isso.db"), "--site", "bench"])
    timed("disqus import", count, runner, ["import", "disqus", str(work / "disqus.xml"), "--site", "bench"])
    timed("disqus import again", count, runner, ["import", "disqus", str(work / "disqus.xml"), "--site", "bench"])
    timed("wordpress import", count, runner, ["import", "wordpress", str(work / "wordpress.xml"), "--site", "bench"])
    timed("wordpress import again", count, runner,
          ["import", "wordpress", str(work / "wordpress.xml"), "--site", "bench"])
    for fmt in ("json", "csv"):
        timed(f"export {fmt} ({3 * count} rows)", 3 * count, runner,
              ["export", "--site", "bench", "--format", fmt, "--output", str(work / f"out.{fmt}")])
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; files in {work}")


if __name__ == "__main__":
    main()
