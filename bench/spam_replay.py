"""Benchmark (not a test): the spam model trained by replaying labelled moderator decisions.

    .venv/bin/python bench/spam_replay.py DATA_DIR [--check] [--threshold-auto 0.9]

DATA_DIR holds train.csv, val.csv and test.csv (columns ID, author, date, text,
label; label 1 = spam), e.g. /work/shared/data/tubespam. Everything goes through
the real pipeline, on a throwaway SQLite file and a private redis-server:

1. a post-moderated site; every train comment POSTed to /api/v1/comments;
2. the real worker (burst) persists them, screening included;
3. an editor decides each one through the service layer (spam_comment for
   label 1, approve_comment for 0), in the order they arrived. A decision that
   changes nothing (approving a comment the post-moderated site already
   published, marking spam what screening already put in Spam) queues no
   learning in the service layer, so the replay queues that one itself with
   enqueue_learning, in the same place in the order; the counts are printed;
4. the worker runs again: the learning jobs take the waiting decisions in batches,
   and once enough were learned one at a time, a retrain job refits the model on
   all of them (as in production);
5. score() rates the validation split (to choose the auto-spam threshold: never
   the test split) and the test split, whose figures are the result.

--check exits 1 if F1 of "spam" at 0.5 on test is below 0.93.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from rq.registry import FailedJobRegistry, ScheduledJobRegistry  # noqa: E402

from bench.procs import free_port  # noqa: E402
from bench.tubespam import load, reader_address  # noqa: E402
from moderation import create_app  # noqa: E402
from moderation.auth import create_user  # noqa: E402
from moderation.embedded_redis import EmbeddedRedis  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.redis_keys import LEARN_INBOX as INBOX_KEY  # noqa: E402
from moderation.tasks import enqueue_learning  # noqa: E402
from moderation.jobs.worker import run_worker  # noqa: E402
from moderation.judgment.spam_model import SpamModelState, score  # noqa: E402
from moderation.models import Comment, Site  # noqa: E402
from moderation.services.moderation import approve_comment, spam_comment  # noqa: E402
from moderation.validators import validate_comment  # noqa: E402

ORIGIN = "https://replay.example"
ARTICLE = ORIGIN + "/videos/comments"
CHECK_F1 = 0.93
GOAL_F1, GOAL_PRECISION = 0.955, 0.98
VAL_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def payload(n, author, text):
    # The API takes authors up to 80 characters (a handful of YouTube names are longer).
    return {"site": "replay", "url": ARTICLE, "title": "Music video comments",
            "author": author[:80], "body": text, "client_id": f"replay-{n:05d}"}


def metrics(scores, labels, threshold):
    tp = sum(1 for s, y in zip(scores, labels) if s >= threshold and y)
    fp = sum(1 for s, y in zip(scores, labels) if s >= threshold and not y)
    fn = sum(1 for s, y in zip(scores, labels) if s < threshold and y)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def post_all(app, train):
    client = app.test_client()
    for n, (author, text, _, _) in enumerate(train):
        response = client.post("/api/v1/comments", json=payload(n, author, text),
                               environ_base={"REMOTE_ADDR": reader_address(author)})
        if response.status_code != 202:
            raise SystemExit(f"train row {n}: POST answered {response.status_code} {response.get_json()}")


def decide_all(app, train):
    """Moderator decisions in arrival order. Returns (by the service layer, by the replay)."""
    inbox = app.broker.redis
    labels = {f"replay-{n:05d}": is_spam for n, (_, _, is_spam, _) in enumerate(train)}
    by_service = by_replay = 0
    with app.app_context():
        editor, _ = create_user("replay-editor@replay.example", "editor")
        stored = db.session.execute(sa.select(Comment.id, Comment.client_id).order_by(Comment.id)).all()
        if len(stored) != len(train):
            raise SystemExit(f"{len(stored)} of {len(train)} train comments were stored")
        for comment_id, client_id in stored:
            queued = inbox.llen(INBOX_KEY)
            decide = spam_comment if labels[client_id] else approve_comment
            decide(comment_id, editor)
            if inbox.llen(INBOX_KEY) > queued:
                by_service += 1
            else:
                enqueue_learning([comment_id])
                by_replay += 1
    return by_service, by_replay


def scores_of(app, rows):
    """score() of each row as the worker would see it: after the API's validation."""
    out = []
    with app.app_context():
        for n, (author, text, _, _) in enumerate(rows):
            values, errors = validate_comment(payload(n, author, text))
            if errors:
                raise SystemExit(f"row {n}: {errors}")
            value = score(values["author"], values["body"])
            if value is None:
                raise SystemExit("the model is not ready after the replay: nothing was learned")
            out.append(value)
    return out


def run(args, tmp):
    data = Path(args.data_dir)
    train, val, test = (load(data / f"{split}.csv") for split in ("train", "val", "test"))
    redis_server = EmbeddedRedis(Path(tmp) / "redis", port=free_port())
    redis_server.start()
    try:
        app = create_app({
            "ENV_NAME": "development",
            "DATA_DIR": str(Path(tmp) / "instance"),
            "REDIS_URL": redis_server.url,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/replay.db",
            "RATELIMIT_ENABLED": False,
        })
        with app.app_context():
            upgrade()
            db.session.add(Site(key="replay", name="Replay", allowed_origins=[ORIGIN],
                                moderation_mode="post", language="en",
                                # Months of comments arrive here within seconds: surge mode would
                                # hold them all, which is not what the replay studies.
                                settings={"surge_comments": 0}))
            db.session.commit()

        started = time.perf_counter()
        post_all(app, train)
        run_worker(app, burst=True, with_scheduler=False)
        with app.app_context():
            statuses = dict(db.session.execute(
                sa.select(Comment.status, sa.func.count()).group_by(Comment.status)).all())
        ingest_s = time.perf_counter() - started

        started = time.perf_counter()
        by_service, by_replay = decide_all(app, train)
        decide_s = time.perf_counter() - started
        started = time.perf_counter()
        run_worker(app, burst=True, with_scheduler=False)
        learn_s = time.perf_counter() - started
        failed = FailedJobRegistry(queue=app.broker.queue).count
        retrying = ScheduledJobRegistry(queue=app.broker.queue).count
        with app.app_context():
            model = db.session.execute(sa.select(SpamModelState)).scalar_one()
            version, spam, ham, size = model.version, model.examples_spam, model.examples_ham, len(model.blob)

        val_scores, test_scores = scores_of(app, val), scores_of(app, test)
    finally:
        redis_server.stop()

    print(f"train {len(train)} comments posted and persisted in {ingest_s:.1f} s; "
          f"screening left {', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}")
    print(f"decisions {len(train)} in {decide_s:.1f} s: learning queued by the service layer {by_service}, "
          f"by the replay {by_replay} (decisions that changed no status)")
    print(f"learning  {learn_s:.1f} s ({version} model versions: batches and retrains), failed {failed}, awaiting retry {retrying}; "
          f"model v{version}: {spam + ham} examples learned ({spam} spam, {ham} ham), blob {size / 1024:.0f} KiB")

    val_labels = [row.spam for row in val]
    print(f"\nvalidation ({len(val)}; {sum(val_labels)} spam), for choosing the auto-spam threshold:")
    print("  threshold " + " ".join(f"{t:>6.2f}" for t in VAL_THRESHOLDS))
    rows = [metrics(val_scores, val_labels, t) for t in VAL_THRESHOLDS]
    print("  precision " + " ".join(f"{p:6.3f}" for p, _, _ in rows))
    print("  recall    " + " ".join(f"{r:6.3f}" for _, r, _ in rows))

    labels = [row.spam for row in test]
    p50, r50, f50 = metrics(test_scores, labels, 0.5)
    pa, ra, fa = metrics(test_scores, labels, args.threshold_auto)
    print(f"\ntest ({len(test)}; {sum(labels)} spam)   precision  recall     F1")
    print(f"  at 0.50             {p50:9.3f} {r50:7.3f} {f50:6.3f}")
    print(f"  auto-spam at {args.threshold_auto:.2f}   {pa:9.3f} {ra:7.3f} {fa:6.3f}")
    goal = f50 >= GOAL_F1 and pa >= GOAL_PRECISION
    print(f"goal F1 >= {GOAL_F1} and auto-spam precision >= {GOAL_PRECISION}: {'met' if goal else 'missed'}"
          f"; --check floor F1 >= {CHECK_F1}: {'ok' if f50 >= CHECK_F1 else 'FAILED'}")
    return 1 if args.check and f50 < CHECK_F1 else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", help="folder with train.csv, val.csv and test.csv")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if test F1 at 0.5 is below {CHECK_F1}")
    parser.add_argument("--threshold-auto", type=float, default=0.9,
                        help="auto-spam threshold to report precision/recall at (default 0.9, chosen on val)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-spam-") as tmp:
        return run(args, tmp)


if __name__ == "__main__":
    sys.exit(main())
