"""The spam model: learning from moderator decisions, scoring, sharing versions, the learning job."""
import json
import logging
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from moderation.extensions import db
from moderation.jobs.learning import INBOX_KEY, RETRAIN_QUEUED_KEY
from moderation.judgment.spam_model import (
    LABELS, MIN_EXAMPLES, SpamExample, SpamModelState, learn, record_examples, retrain, score,
)
from moderation.models import Comment, Page
from moderation.models.sites import url_hash
from moderation.tasks import enqueue_learning

from support.net import free_port
from support.payloads import ARTICLE


ROOT = Path(__file__).resolve().parent.parent

# Small synthetic newsroom data: link-and-channel promotion versus remarks on the article.
SPAM = [
    ("Promo King", "Check out my channel http://views{n}.example and subscribe!!! Free money"),
    ("EarnFast{n}", "Make $500 a day from home, visit www.cash{n}.example now"),
    ("Vids4U", "Please subscribe to my channel, link in bio, check out video number {n}"),
    ("Deals Bot", "CHEAP WATCHES {n}0% OFF >>> http://deals{n}.example <<< click here"),
]
HAM = [
    ("Anna", "The new tram line on street {n} should have opened years ago."),
    ("Boris", "Thanks for the article, the council meeting was exactly like that."),
    ("Clara", "I live nearby and the noise at night is the real problem, not the traffic."),
    ("Dmitri", "Good reporting. Will there be a follow-up on the budget in issue {n}?"),
]
SPAMMY = ("Grow Views", "check out my channel www.grow-views.example and subscribe for free money")
NORMAL = ("Elena", "I read the article twice, the mayor's answer on the tram budget was vague.")


def examples(templates, is_spam, rounds=2):
    return [
        (author.format(n=n), body.format(n=n), is_spam)
        for n in range(rounds)
        for author, body in templates
    ]


def state(app):
    with app.app_context():
        row = db.session.execute(sa.select(SpamModelState)).scalar_one()
        return row.version, row.examples_spam, row.examples_ham


def test_no_score_until_the_model_has_seen_enough_of_both_classes(app):
    with app.app_context():
        assert score(*SPAMMY) is None
        assert learn([]) == 0  # nothing to learn: no row, no version

        assert learn(examples(HAM, False) + examples(SPAM, True)[: MIN_EXAMPLES - 1]) == 1
        assert score(*SPAMMY) is None  # one spam example short

        assert learn(examples(SPAM, True)[MIN_EXAMPLES - 1:MIN_EXAMPLES]) == 2
        value = score(*SPAMMY)
        assert value is not None and 0.0 <= value <= 1.0
    assert state(app) == (2, MIN_EXAMPLES, len(HAM) * 2)


def test_a_spammy_comment_scores_higher_than_a_normal_one(app):
    with app.app_context():
        learn(examples(SPAM, True, rounds=3) + examples(HAM, False, rounds=3))
        assert score(*SPAMMY) > score(*NORMAL)
        assert score(*SPAMMY) > 0.5 > score(*NORMAL)


def test_labels_follow_the_moderator_statuses():
    # Reject is "not published" (off-topic, rude): not spam, and no example at all.
    assert LABELS == {"approved": False, "spam": True}


def test_a_rejected_comment_is_not_a_spam_example(app, site, drain):
    ids = _comments(app, site.id, ["rejected"] * 3 + ["spam"] * 6 + ["approved"] * 6)
    with app.app_context():
        enqueue_learning(ids)
    assert drain()
    assert state(app) == (1, 6, 6)
    with app.app_context():
        learned = set(db.session.execute(sa.select(SpamExample.comment_id)).scalars())
        assert learned == set(ids[3:])
        # A decision changed from Spam to Reject takes its example away.
        db.session.get(Comment, ids[3]).status = "rejected"
        db.session.commit()
        enqueue_learning([ids[3]])
    assert drain()
    with app.app_context():
        assert ids[3] not in set(db.session.execute(sa.select(SpamExample.comment_id)).scalars())


def test_the_migration_drops_examples_of_rejected_comments(app, site):
    from flask_migrate import downgrade, upgrade  # noqa: PLC0415

    ids = _comments(app, site.id, ["rejected", "spam", "approved"])
    with app.app_context():
        downgrade(revision="c1h14judg01-1")  # the schema just before that migration
        for cid, is_spam in zip(ids, (True, True, False)):  # the old labels: rejected was spam
            db.session.execute(sa.text(
                "INSERT INTO spam_example (comment_id, is_spam, learned_at) VALUES (:c, :s, :t)"),
                {"c": cid, "s": is_spam, "t": "2026-11-01 00:00:00"})
        db.session.commit()
        upgrade()
        rows = db.session.execute(sa.select(SpamExample.comment_id, SpamExample.weight)).all()
        assert sorted(rows) == [(ids[1], 1.0), (ids[2], 1.0)]


def _score_in_another_process(app, author, body):
    config = {
        "ENV_NAME": "testing",
        "DATA_DIR": app.config["DATA_DIR"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
    }
    script = (
        "import json, sys\n"
        "from moderation import create_app\n"
        "from moderation.judgment.spam_model import score\n"
        "config, author, body = json.loads(sys.argv[1])\n"
        "with create_app(config).app_context():\n"
        "    print(json.dumps(score(author, body)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps([config, author, body])],
        cwd=ROOT, capture_output=True, text=True, timeout=90, check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_learning_changes_the_next_score_everywhere(app, make_app):
    author, body = "Tom", "Visit my profile for the best tram photos"
    with app.app_context():
        first = learn(examples(SPAM, True) + examples(HAM, False))
    # Two more app instances on the same database, standing in for other processes:
    # one re-reads the version on every call, one caches it for an hour.
    eager = make_app(SPAM_MODEL_RECHECK_SECONDS=0)
    lazy = make_app(SPAM_MODEL_RECHECK_SECONDS=3600)
    with eager.app_context():
        before = score(author, body)
    with lazy.app_context():
        cached = score(author, body)
    assert cached == before

    with app.app_context():
        assert learn([(author, body, True)] * 3) == first + 1
        learned = score(author, body)
    assert learned > before

    with eager.app_context():
        assert score(author, body) == learned  # saw the new version, reloaded
    with lazy.app_context():
        assert score(author, body) == cached  # still within its interval: no reload yet
    # A separate process loads the stored model and agrees to the last bit.
    assert _score_in_another_process(app, author, body) == learned


def _comments(app, site_id, statuses):
    """Comments with these statuses (spam-like text for spam/rejected); returns their ids."""
    spam, ham = examples(SPAM, True, rounds=3), examples(HAM, False, rounds=3)
    with app.app_context():
        page = Page(site_id=site_id, url=ARTICLE, url_hash=url_hash(ARTICLE))
        db.session.add(page)
        db.session.flush()
        rows = []
        for n, status in enumerate(statuses):
            author, body, _ = (spam if LABELS.get(status) else ham)[n % 12]
            rows.append(Comment(
                client_id=f"learn-{n:04d}", site_id=site_id, page_id=page.id, author=author,
                body_raw=body, body_html=f"<p>{body}</p>", status=status,
            ))
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def test_learn_from_decisions_job_runs_in_the_worker(app, site, drain):
    statuses = ["spam"] * 6 + ["approved"] * 6 + ["pending", "flagged"]
    ids = _comments(app, site.id, statuses)
    with app.app_context():
        assert score(*SPAMMY) is None
        job = enqueue_learning(ids)
    assert job is not None

    assert drain()
    job.refresh()
    assert job.get_status() == "finished" and job.return_value() == 1
    # Pending and flagged are not decisions: skipped.
    assert state(app) == (1, 6, 6)
    with app.app_context():
        assert score(*SPAMMY) > score(*NORMAL)


def test_a_job_for_undecided_comments_leaves_the_model_alone(app, site, drain):
    ids = _comments(app, site.id, ["pending", "flagged"])
    with app.app_context():
        job = enqueue_learning(ids)
    drain()
    job.refresh()
    assert job.get_status() == "finished" and job.return_value() is None
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(SpamModelState)).scalar_one() == 0


def test_enqueue_learning_with_redis_down_logs_and_returns_none(make_app, caplog):
    dead = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    # Alembic's logging setup (migrations/alembic.ini, run by every earlier test's
    # upgrade) disables loggers that existed then, the app's among them.
    dead.logger.disabled = False
    with dead.app_context(), caplog.at_level(logging.WARNING):
        assert enqueue_learning([1, 2]) is None
    assert "learning from comments [1, 2] not queued" in caplog.text


def test_decisions_queued_together_are_learned_by_one_job(app, site, drain):
    ids = _comments(app, site.id, ["spam"] * 6 + ["approved"] * 6)
    with app.app_context():
        first = enqueue_learning(ids[:4])
        again = [enqueue_learning([cid]) for cid in ids[4:]]
    assert {job.id for job in again} == {first.id}  # one job waits for all of them
    assert drain()
    first.refresh()
    assert first.get_status() == "finished" and first.return_value() == 1  # one model write
    assert state(app) == (1, 6, 6)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(SpamExample)).scalar_one() == 12
        assert app.broker.redis.llen(INBOX_KEY) == 0


def test_a_full_retrain_follows_enough_decisions_and_forgets_deleted_comments(app, site, drain):
    statuses = (["spam"] * 3 + ["approved"] * 3) * 10  # 60 decisions, above RETRAIN_MIN_EXAMPLES
    ids = _comments(app, site.id, statuses)
    with app.app_context():
        for cid in ids:  # one decision at a time, as moderators make them
            enqueue_learning([cid])
    assert drain()
    with app.app_context():
        model = db.session.execute(sa.select(SpamModelState)).scalar_one()
        # Learned once incrementally (version 1), then refitted on all examples (version 2).
        assert model.version == 2 and model.retrained_at is not None
        assert (model.examples_spam, model.examples_ham, model.examples_since_retrain) == (30, 30, 0)
        assert score(*SPAMMY) > 0.5 > score(*NORMAL)
        # A deleted comment (erasure, retention) takes its example with it: the next retrain forgets it.
        db.session.execute(sa.delete(Comment).where(Comment.id.in_(ids[:6])))
        db.session.commit()
        assert retrain() == 3
        model = db.session.execute(sa.select(SpamModelState)).scalar_one()
        assert (model.examples_spam, model.examples_ham) == (27, 27)
        assert not app.broker.redis.exists(RETRAIN_QUEUED_KEY)


def test_retrain_needs_both_classes(app, site):
    ids = _comments(app, site.id, ["spam"] * 5)
    with app.app_context():
        record_examples({cid: True for cid in ids})
        db.session.commit()
        assert retrain() is None


def test_the_word_cache_builds_the_vectorizers_matrix_bit_for_bit():
    """features() cuts and hashes each word once per process (spam_model._WordCachedChars):
    the matrix is the char_wb HashingVectorizer's own, so scores and decisions are unchanged."""
    from moderation.judgment import spam_model

    texts = ["", "   ", "a", "ab", "Привет,  мир!\t\tтест\nещё раз", "x" * 40, "ＦＵＬＬ width Ünïcödé",
             "\u00a0nbsp\u00a0here", "emoji 😀😀 ok", "Қазақ тілі: рахмет!", "a b c d e f g"]
    texts += [body.format(n=n) for n in range(30) for _, body in SPAM + HAM]
    for vectorizer, cached in ((spam_model._body_chars, spam_model._body_chars_cached),
                               (spam_model._author_chars, spam_model._author_chars_cached)):
        cached.words = {}
        # Cold, then warm (every word cached), then a cache that starts afresh midway.
        for chunk, max_words in ((texts, 50_000), (texts[::-1], 50_000), (texts[3:12], 5)):
            cached.MAX_WORDS = max_words
            expected, got = vectorizer.transform(chunk), cached.transform(chunk)
            assert got.shape == expected.shape
            assert (got.indptr == expected.indptr).all()
            assert (got.indices == expected.indices).all()
            assert (got.data == expected.data).all()
        del cached.MAX_WORDS


def test_the_drain_scores_a_batch_before_its_write_transaction(app, site, monkeypatch):
    """persist_batch scores the batch's comments before BEGIN (IMMEDIATE on SQLite: the one
    write lock), so a second worker is not held up by the model's CPU; the stored scores are
    the model's."""
    import time

    from moderation.jobs import persist
    from moderation.judgment import spam_model
    from support.payloads import comment_payload, new_client_id

    with app.app_context():
        learn(examples(HAM, False) + examples(SPAM, True))
        db.session.commit()
        calls = []
        real = spam_model.score_many

        def recording(pairs):
            calls.append(db.session().in_transaction())
            return real(pairs)

        monkeypatch.setattr(spam_model, "score_many", recording)
        batch = [dict(comment_payload(author=author, body=body.format(n=n)), type="comment", site_id=site.id,
                      client_id=new_client_id(), reporter_hash=f"{n:064x}", received_at=time.time(), url=ARTICLE)
                 for n, (author, body) in enumerate([SPAMMY, NORMAL])]
        assert persist.persist_batch(batch) == []
        assert calls == [False]
        stored = dict(db.session.execute(sa.select(Comment.author, Comment.spam_score)).all())
        monkeypatch.setattr(spam_model, "score_many", real)
        for author, body in (SPAMMY, NORMAL):
            assert stored[author] == score(author, body)
