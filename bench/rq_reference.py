"""Reference: how many trivial jobs/s RQ's default (forking) worker and SimpleWorker run.

    python bench/rq_reference.py REDIS_URL JOBS worker|simple   -> prints jobs/s
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def noop(data=None):
    return None


def main(url, jobs, kind):
    import redis  # noqa: PLC0415
    from rq import Queue, SimpleWorker, Worker  # noqa: PLC0415

    conn = redis.Redis.from_url(url)
    queue = Queue(f"bench-ref-{kind}", connection=conn)
    queue.empty()
    with conn.pipeline() as pipe:
        for n in range(jobs):
            queue.enqueue("bench.rq_reference.noop", n, result_ttl=0, pipeline=pipe)
        pipe.execute()
    worker_class = SimpleWorker if kind == "simple" else Worker
    worker = worker_class([queue], connection=conn)
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    elapsed = time.perf_counter() - started
    queue.delete(delete_jobs=True)
    print(f"{jobs / elapsed:.1f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
