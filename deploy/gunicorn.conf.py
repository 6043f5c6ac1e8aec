"""gunicorn settings for moderation-web.service (`--config`); the command line there and
GUNICORN_CMD_ARGS set the rest (workers, bind).

Prometheus multiprocess mode (moderation/metrics.py): every process writes its metric values
to files in PROMETHEUS_MULTIPROC_DIR and a scrape adds them all up. The directory is not wiped
here, although prometheus_client suggests wiping it before a start: the queue workers
(moderation-worker@N, another unit) write into the same directory and keep running across a
web restart, and a wipe under them would hide their counts until they restart. Only counters
and histograms are kept in files (the queue gauges are read from Redis at scrape time), and a
dead process's counts rightly stay in the totals, so stale files do no harm; see
docs/deployment.md for clearing the directory.
"""


def child_exit(server, worker):
    # Drops the dead worker's live gauges (none today; a `livesum` gauge added later would
    # otherwise count a dead process forever). Imported here: the master never loads the app.
    from prometheus_client import multiprocess  # noqa: PLC0415

    multiprocess.mark_process_dead(worker.pid)
