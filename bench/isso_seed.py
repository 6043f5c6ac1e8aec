"""Run by Isso's own venv: create the Isso database with approved comments on threads.

    ISSO_VENV/bin/python bench/isso_seed.py CONFIG URI=COUNT [URI=COUNT ...]

Uses Isso's own schema (isso.db.SQLite3) so the benchmark reads what Isso wrote;
the rows go in with one executemany per thread (mode 1 = approved).
"""
import sqlite3
import sys
import time

from isso import config
from isso.db import SQLite3
from isso.utils import Bloomfilter


def main(conf_path, specs):
    conf = config.load(config.default_file(), conf_path)
    db = SQLite3(conf.get("general", "dbpath"), conf)
    now = time.time() - 86400
    with sqlite3.connect(db.path) as con:
        for spec in specs:
            uri, count = spec.rsplit("=", 1)
            con.execute("INSERT INTO threads (uri, title) VALUES (?, ?)", (uri, f"Bench thread {uri}"))
            tid = con.execute("SELECT id FROM threads WHERE uri = ?", (uri,)).fetchone()[0]
            voters = memoryview(Bloomfilter(iterable=["127.0.0.0"]).array)
            rows = [
                (tid, None, now + i, None, 1, "127.0.0.0",
                 f"Comment number {i}: a few words about the article.", f"Reader {i % 500}", None, None, voters, 0)
                for i in range(int(count))
            ]
            con.executemany(
                "INSERT INTO comments (tid, parent, created, modified, mode, remote_addr, text, author,"
                " email, website, voters, notification) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
