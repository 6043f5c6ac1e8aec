"""The spam model: learns from this newsroom's own moderator decisions, a batch at a time.

Every approve and every spam decision is a labelled example (`LABELS`),
recorded in `spam_example`; a reject is "not published" (off-topic, rude), not
spam, and teaches the model nothing. A "Not spam" from the Spam queue is learned
with EXTRA_WEIGHT: it is a mistake screening made. The worker feeds each decision to `learn()` (see
moderation.jobs.learning), which updates the model at once (`partial_fit`: the
next comment is scored with it), and stores it, with a version number, in one
database row. Every so often (`retrain_due()`) `retrain()` fits a fresh model on
all recorded examples, several passes instead of one: single passes over single
decisions drift with the order they came in, and on TubeSpam they scored
F1 0.933 where the retrained model scores higher (bench/spam_replay.py).

The model averages two learners that both learn incrementally: a logistic
regression by stochastic gradient descent and a multinomial naive Bayes. They
err on different comments; their mean was better than either alone in
cross-validation on TubeSpam's train and validation splits. `score()` answers from a per-process copy
and reloads it when the stored version changes, so web processes and workers
all follow the newest model without restarting.

Features are hashed (HashingVectorizer has no vocabulary to store or grow), so
the classifier is the whole model: the row keeps only its pickle.

Each retrain also measures the model per site by cross-validation on that
site's newest decisions and stores the result (`SpamSiteState`): the model may
send comments to Spam by itself only where it has earned it (see
moderation.judgment.autonomy).
"""
import html
import pickle
import re
import threading
import time
import unicodedata
import zlib

import numpy as np
import sqlalchemy as sa
from flask import current_app
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.naive_bayes import MultinomialNB
from sklearn.preprocessing import normalize as normalize_rows
from sqlalchemy.exc import IntegrityError

from ..extensions import db
# The tables live with the other models, so web processes never import this module.
from ..models.spam import MODEL_NAME, NOT_SPAM_WEIGHT, SpamExample, SpamModelState, SpamSiteState, utcnow
from . import autonomy

# Moderator status -> is it spam? Rejected is absent: off-topic or rude is not spam,
# and learning it as spam taught the model to hide ordinary questions.
LABELS = {"approved": False, "spam": True}
# Weight of a "Not spam" (approve) from the Spam queue, in learn() and in every retrain.
EXTRA_WEIGHT = NOT_SPAM_WEIGHT

# Below this many examples of either class the model says nothing (score() is None).
MIN_EXAMPLES = 5
# How often a process asks the database whether a newer model exists (seconds);
# an app may set SPAM_MODEL_RECHECK_SECONDS (0: every call).
RECHECK_SECONDS = 1.0
CLASSES = np.array([False, True])


# -- features ------------------------------------------------------------------------
# Tuned on the TubeSpam train split and validation split (bench/spam_replay.py).

_TAG = re.compile(r"<[^>]{0,300}>")
_LINK = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|ru|kz|net|org|info|biz|xyz|top|io|ly|gl|be|me)\b\S*", re.I
)
# Cheap hints; the model learns how much each one is worth (they are not rules).
_HINTS = (
    "http", "www", ".com", "subscribe", "check out", "channel", "please", "youtube", "free", "money",
    "подпис", "канал", "заработ", "переход",
)

_body_chars = HashingVectorizer(
    analyzer="char_wb", ngram_range=(2, 5), n_features=2**17, alternate_sign=False, norm="l2"
)
_body_words = HashingVectorizer(
    analyzer="word", ngram_range=(1, 2), n_features=2**16, alternate_sign=False, norm="l2",
    token_pattern=r"(?u)\b\w+\b",  # one-letter words too: "u", "i", "4"
)
_author_chars = HashingVectorizer(
    analyzer="char_wb", ngram_range=(2, 4), n_features=2**15, alternate_sign=False, norm="l2"
)
_signals = HashingVectorizer(
    analyzer=lambda tokens: tokens, n_features=2**15, alternate_sign=False, norm=None
)


class _WordCachedChars:
    """`vectorizer.transform` (a char_wb HashingVectorizer) with each word's hashed n-grams
    kept per process: the same sparse matrix, bit for bit (tests/test_spam_model.py).

    char_wb n-grams never cross a word, so a text's n-grams are its words' n-grams in order;
    readers reuse few words, and hashing every n-gram of every comment in Python was the
    drain's largest cost. Each word is cut by the vectorizer's own `_char_wb_ngrams` and
    hashed by its own FeatureHasher (new words of a batch in one call); the matrix is then
    summed and normalised as `HashingVectorizer.transform` does. At most MAX_WORDS words are
    kept (then the cache starts afresh).
    """

    MAX_WORDS = 50_000

    def __init__(self, vectorizer):
        self.vectorizer = vectorizer
        self.words = {}  # word -> int32 array of its n-grams' feature indices (repeats kept)

    def transform(self, texts):
        vec = self.vectorizer
        preprocess = vec.build_preprocessor()
        documents = [vec._white_spaces.sub(" ", preprocess(vec.decode(text))).split() for text in texts]
        new = list(dict.fromkeys(w for words in documents for w in words if w not in self.words))
        if len(self.words) + len(new) > self.MAX_WORDS:
            self.words = {}
            new = list(dict.fromkeys(w for words in documents for w in words))
        if new:
            hashed = vec._get_hasher().fit().transform(vec._char_wb_ngrams(w) for w in new)
            for row, word in enumerate(new):
                start, end = hashed.indptr[row], hashed.indptr[row + 1]
                self.words[word] = np.repeat(hashed.indices[start:end], hashed.data[start:end].astype(np.int64))
        cache = self.words
        parts = [cache[w] for words in documents for w in words]
        ends = np.zeros(len(parts) + 1, dtype=np.int64)  # where each word's n-grams end
        np.cumsum([len(part) for part in parts], out=ends[1:])
        indptr = ends[np.cumsum([0] + [len(words) for words in documents])]
        indices = np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, dtype=np.int32)
        X = csr_matrix((np.ones(len(indices), dtype=vec.dtype), indices, indptr),
                       shape=(len(documents), vec.n_features))
        X.sum_duplicates()
        return normalize_rows(X, norm=vec.norm, copy=False) if vec.norm is not None else X


_body_chars_cached = _WordCachedChars(_body_chars)
_author_chars_cached = _WordCachedChars(_author_chars)
# Total width: a stored classifier of another width was trained on other features.
N_FEATURES = 2**17 + 2**16 + 2**15 + 2**15
SIGNAL_WEIGHT = 0.5  # coarse signals: full weight scored lower on train CV and validation


def normalize(text):
    """Entities decoded, full-width and look-alike forms folded (NFKC), tags dropped."""
    text = html.unescape(text or "").replace("\ufeff", "")
    text = unicodedata.normalize("NFKC", text)
    return _TAG.sub(" ", text)


def _signal_tokens(author, body):
    low = body.lower()
    tokens = [f"links={min(len(_LINK.findall(body)), 3)}"]
    tokens += [f"has:{hint}" for hint in _HINTS if hint in low]
    # map over str methods: the same counts as a generator, in half the time (scored per comment).
    tokens.append(f"digits={min(sum(map(str.isdigit, body)) // 3, 3)}")
    tokens.append(f"length={min(len(body) // 50, 6)}")
    letters = sum(map(str.isalpha, body))
    tokens.append(f"upper={int(4 * sum(map(str.isupper, body)) / max(1, letters))}")
    if any(map(str.isdigit, author)):
        tokens.append("author-digits")
    return tokens


def features(pairs):
    """Sparse rows for [(author, body), ...]."""
    authors = [normalize(author) for author, _ in pairs]
    bodies = [normalize(body) for _, body in pairs]
    return hstack([
        _body_chars_cached.transform(bodies),
        _body_words.transform(bodies),
        _author_chars_cached.transform(authors),
        _signals.transform([_signal_tokens(a, b) for a, b in zip(authors, bodies)]) * SIGNAL_WEIGHT,
    ]).tocsr()


class SpamClassifier:
    """Mean P(spam) of an SGD logistic regression and a multinomial naive Bayes.

    Both learn incrementally (partial_fit) and both refit from scratch (fit);
    features are non-negative (alternate_sign=False), as naive Bayes needs.
    """

    # Passes over the examples in a full retrain (tol=None: always all of them).
    EPOCHS = 50

    def __init__(self):
        # log_loss: a real probability for the auto-spam threshold. Averaged SGD (from
        # the 100th example on, so the first noisy steps are not averaged in).
        self.sgd = SGDClassifier(loss="log_loss", alpha=1e-4, average=100, random_state=0)
        self.nb = MultinomialNB(alpha=0.1)

    @property
    def n_features_in_(self):
        return getattr(self.sgd, "n_features_in_", None)

    @property
    def classes_(self):
        return self.sgd.classes_

    def partial_fit(self, X, y, sample_weight=None):
        self.sgd.partial_fit(X, y, classes=CLASSES, sample_weight=sample_weight)
        self.nb.partial_fit(X, y, classes=CLASSES, sample_weight=sample_weight)
        return self

    def fit(self, X, y, sample_weight=None):
        self.sgd.set_params(max_iter=self.EPOCHS, tol=None, average=True)
        self.sgd.fit(X, y, sample_weight=sample_weight)
        self.nb.fit(X, y, sample_weight=sample_weight)
        return self

    def predict_proba(self, X):
        # Both order their columns by CLASSES ([False, True]).
        return (self.sgd.predict_proba(X) + self.nb.predict_proba(X)) / 2


def new_classifier():
    return SpamClassifier()


# -- storage -----------------------------------------------------------------------------

def _dump(classifier):
    return zlib.compress(pickle.dumps(classifier, protocol=pickle.HIGHEST_PROTOCOL), 3)


def _load(blob):
    """The stored classifier, or None if there is none or it was built for other features."""
    if not blob:
        return None
    # Our own database wrote this blob: unpickling it is as safe as the database.
    classifier = pickle.loads(zlib.decompress(blob))
    if not isinstance(classifier, SpamClassifier) or classifier.n_features_in_ != N_FEATURES:
        current_app.logger.warning("spam model: stored classifier has other features; starting afresh")
        return None
    return classifier


def _ready(spam, ham):
    return spam >= MIN_EXAMPLES and ham >= MIN_EXAMPLES


class _Cache:
    """This process's copy of one app's model, refreshed when the stored version changes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.version = None  # None: not loaded yet
        self.classifier = None  # None while the model is not ready
        self.checked_at = float("-inf")

    def set(self, version, classifier, spam, ham):
        self.version = version
        self.classifier = classifier if _ready(spam, ham) else None

    def current(self):
        """The classifier to score with (None if not ready); asks the database at most once per interval."""
        interval = current_app.config.get("SPAM_MODEL_RECHECK_SECONDS", RECHECK_SECONDS)
        if time.monotonic() - self.checked_at < interval:
            return self.classifier
        with self.lock:
            if time.monotonic() - self.checked_at >= interval:
                self._refresh()
                self.checked_at = time.monotonic()
            return self.classifier

    def _refresh(self):
        # The cheap query first: the blob (megabytes) only when the version moved.
        version = db.session.execute(
            sa.select(SpamModelState.version).where(SpamModelState.name == MODEL_NAME)
        ).scalar_one_or_none()
        if version is None:
            self.set(None, None, 0, 0)
            return
        if version == self.version:
            return
        row = db.session.execute(
            sa.select(SpamModelState.version, SpamModelState.blob,
                      SpamModelState.examples_spam, SpamModelState.examples_ham)
            .where(SpamModelState.name == MODEL_NAME)
        ).one()
        ready = _ready(row.examples_spam, row.examples_ham)
        self.set(row.version, _load(row.blob) if ready else None, row.examples_spam, row.examples_ham)


_cache_lock = threading.Lock()


def _cache():
    # One cache per app (an app is one database): two apps in one process never mix models.
    app = current_app._get_current_object()
    with _cache_lock:
        return app.extensions.setdefault("spam_model", _Cache())


# -- the API ---------------------------------------------------------------------------

def score(author: str, body: str) -> float | None:
    """P(spam) in [0, 1], or None while the model has seen fewer than MIN_EXAMPLES of a class."""
    scores = score_many([(author, body)])
    return None if scores is None else scores[0]


def score_many(pairs) -> list[float] | None:
    """P(spam) for each (author, body), or None while the model is not ready.

    One feature matrix and one predict for a whole drain batch: per comment, the
    vectorizers' and estimators' call overhead costs more than the arithmetic.
    """
    pairs = list(pairs)
    classifier = _cache().current()
    if classifier is None or not pairs:
        return None if classifier is None else []
    spam_column = list(classifier.classes_).index(True)
    return [float(p) for p in classifier.predict_proba(features(pairs))[:, spam_column]]


def _locked_state():
    """The model row, locked until commit (FOR UPDATE; SQLite serializes writers anyway)."""
    query = sa.select(SpamModelState).where(SpamModelState.name == MODEL_NAME).with_for_update()
    state = db.session.execute(query).scalar_one_or_none()
    if state is not None:
        return state
    try:
        with db.session.begin_nested():
            state = SpamModelState(name=MODEL_NAME, version=0, examples_spam=0, examples_ham=0)
            db.session.add(state)
        return state
    except IntegrityError:  # another worker created it a moment ago
        return db.session.execute(query).scalar_one()


def learn(examples: list[tuple], weights=None) -> int:
    """Update the model with [(author, body, is_spam), ...] and commit. Returns the new version.

    `weights`: one per example (default 1; EXTRA_WEIGHT for a "Not spam" from the Spam queue).

    The read, the update and the write happen in one transaction on the locked
    row, so two workers learning at once apply their batches one after the other.
    """
    examples = list(examples)
    if not examples:
        return db.session.execute(
            sa.select(SpamModelState.version).where(SpamModelState.name == MODEL_NAME)
        ).scalar_one_or_none() or 0
    state = _locked_state()
    classifier = _load(state.blob)
    if classifier is None:
        classifier = new_classifier()
    labels = np.array([bool(is_spam) for _, _, is_spam in examples])
    classifier.partial_fit(features([(a, b) for a, b, _ in examples]), labels,
                           sample_weight=None if weights is None else np.asarray(weights, dtype=float))
    spam = int(labels.sum())
    state.examples_spam += spam
    state.examples_ham += len(labels) - spam
    state.examples_since_retrain += len(labels)
    return _store(state, classifier)


def _store(state, classifier):
    state.version += 1
    state.blob = _dump(classifier)
    state.updated_at = utcnow()
    version, counts = state.version, (state.examples_spam, state.examples_ham)
    db.session.commit()
    # This process (typically the worker, which also scores) uses it at once.
    cache = _cache()
    with cache.lock:
        cache.set(version, classifier, *counts)
    return version


def record_examples(labelled, weights=None):
    """Remember {comment_id: is_spam} as learned examples (the newest label wins). No commit.

    `weights`: {comment_id: weight} for the ones that are not 1."""
    if not labelled:
        return
    weights = weights or {}
    # Delete and insert (not update): a new id marks it as learned after a running retrain read.
    db.session.execute(sa.delete(SpamExample).where(SpamExample.comment_id.in_(list(labelled))))
    db.session.add_all(SpamExample(comment_id=cid, is_spam=bool(y), weight=float(weights.get(cid, 1.0)))
                       for cid, y in labelled.items())


def forget_examples(comment_ids):
    """These comments are no longer examples (e.g. a decision changed to Reject). No commit."""
    if comment_ids:
        db.session.execute(sa.delete(SpamExample).where(SpamExample.comment_id.in_(list(comment_ids))))


# A full retrain is due after this many single-decision updates, or this share of all
# examples, whichever is more: cheap while the model is young, rare once it is large.
RETRAIN_MIN_EXAMPLES = 50
RETRAIN_FRACTION = 0.1


def retrain_due():
    row = db.session.execute(
        sa.select(SpamModelState.examples_since_retrain, SpamModelState.examples_spam,
                  SpamModelState.examples_ham).where(SpamModelState.name == MODEL_NAME)
    ).one_or_none()
    if row is None:
        return False
    total = row.examples_spam + row.examples_ham
    return row.examples_since_retrain >= max(RETRAIN_MIN_EXAMPLES, RETRAIN_FRACTION * total)


def _examples_query(newest, after_id=None):
    from ..models import Comment  # noqa: PLC0415

    query = (
        sa.select(SpamExample.id, Comment.author, Comment.body_raw, SpamExample.is_spam,
                  SpamExample.weight, Comment.site_id)
        .join(Comment, Comment.id == SpamExample.comment_id)
        .where(Comment.body_raw != "")  # erased text teaches nothing
    )
    if after_id is not None:
        return query.where(SpamExample.id > after_id).order_by(SpamExample.id)
    return query.order_by(SpamExample.id.desc()).limit(newest)


def retrain(max_examples=50_000):
    """Fit a fresh model on the newest `max_examples` recorded examples. Returns the version, or None.

    The fit runs outside the row lock (it takes seconds on large newsrooms);
    decisions learned meanwhile are replayed on top before the result is stored.
    """
    started = utcnow()
    rows = db.session.execute(_examples_query(max_examples)).all()
    db.session.rollback()
    labels = np.array([bool(row.is_spam) for row in rows])
    if len(rows) == 0 or labels.all() or not labels.any():
        return None  # both classes are needed to fit
    X = features([(r.author, r.body_raw) for r in rows])
    weights = np.array([float(r.weight or 1.0) for r in rows])
    classifier = new_classifier().fit(X, labels, sample_weight=weights)
    curves = measure(rows, X, labels, weights)
    read_upto = max(row.id for row in rows)

    state = _locked_state()
    later = db.session.execute(_examples_query(None, after_id=read_upto)).all()
    if later:
        classifier.partial_fit(features([(r.author, r.body_raw) for r in later]),
                               np.array([bool(r.is_spam) for r in later]),
                               sample_weight=np.array([float(r.weight or 1.0) for r in later]))
    spam = int(labels.sum()) + sum(1 for r in later if r.is_spam)
    state.examples_spam, state.examples_ham = spam, len(rows) + len(later) - spam
    state.examples_since_retrain = 0
    state.retrained_at = utcnow()
    _store_measures(curves, started)
    return _store(state, classifier)


def measure(rows, X, labels, weights):
    """Cross-validated counts per site: {site_id: (decisions, evaluated, curve)}.

    Each site's newest autonomy.WINDOW examples are split into FOLDS folds; each
    fold is scored by a model fitted on every other example (all sites, the
    other folds), so no score comes from a model that saw the comment. Sites
    below autonomy.MIN_DECISIONS are counted but not measured (they cannot earn
    auto-spam yet, and the fits cost time).
    """
    by_site = {}
    for index, row in enumerate(rows):  # rows are newest first
        by_site.setdefault(row.site_id, []).append(index)
    held = {}  # row index -> fold
    for indices in by_site.values():
        if len(indices) >= autonomy.MIN_DECISIONS:
            for n, index in enumerate(indices[:autonomy.WINDOW]):
                held[index] = n % autonomy.FOLDS
    scores = {}
    for fold in range(autonomy.FOLDS):
        test = [i for i, f in held.items() if f == fold]
        train = np.array([i for i in range(len(rows)) if held.get(i) != fold])
        if not test or labels[train].all() or not labels[train].any():
            continue
        model = new_classifier().fit(X[train], labels[train], sample_weight=weights[train])
        spam_column = list(model.classes_).index(True)
        for i, p in zip(test, model.predict_proba(X[np.array(test)])[:, spam_column]):
            scores[i] = float(p)
    curves = {}
    for site_id, indices in by_site.items():
        measured = [i for i in indices[:autonomy.WINDOW] if i in scores]
        spam = sum(1 for i in measured if labels[i])
        curve = [[t, sum(1 for i in measured if scores[i] >= t and labels[i]),
                  sum(1 for i in measured if scores[i] >= t and not labels[i]), spam, len(measured) - spam]
                 for t in autonomy.GRID]
        curves[site_id] = (len(indices), len(measured), curve)
    return curves


def _store_measures(curves, started):
    """Write each site's measure into its SpamSiteState. A pause from before `started` ends:
    the comment that caused it was among the examples measured."""
    from ..models import Site  # noqa: PLC0415
    from ..models.base import as_utc  # noqa: PLC0415

    known = set(db.session.execute(sa.select(Site.id).where(Site.id.in_(list(curves)))).scalars())
    for site_id, (decisions, evaluated, curve) in curves.items():
        if site_id not in known:
            continue
        state = db.session.get(SpamSiteState, site_id)
        if state is None:
            state = SpamSiteState(site_id=site_id, admin_off=False)
            db.session.add(state)
        state.decisions, state.evaluated, state.curve = decisions, evaluated, curve
        state.measured_at = utcnow()
        if state.paused_at is not None and as_utc(state.paused_at) <= started:
            state.paused_at = None
