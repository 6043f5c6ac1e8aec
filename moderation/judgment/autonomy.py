"""Earned autonomy: when the spam model may send a comment to Spam on a site by itself.

A false Spam hides a reader's comment where nobody looks; a held one costs a
moderator a second. So the model only *holds* until it has proved itself on
this site's own decisions:

- at least MIN_DECISIONS of the site's moderator decisions are examples
  (Spam = spam, Approve = not spam; Reject is "not published", no example);
- on each retrain the model is measured by cross-validation (FOLDS folds) on
  the site's newest WINDOW decisions: every one of them is scored by a model
  fitted without it. For each threshold of GRID we count the spam and the
  harmless comments scored at or above it, out of all spam and all harmless
  ones measured (`SpamSiteState.curve`: [t, spam above, harmless above, spam,
  harmless]);
- the model may auto-spam at the lowest grid threshold (and not below the
  site's `auto_spam` floor) whose *proven* precision is at least TARGET
  (0.98). Proven precision is computed from the one-sided 95 % Wilson bounds
  of the two rates: the lower bound of the share of spam caught (TPR) and the
  upper bound of the share of harmless comments hit (FPR), at a spam share
  of min(measured share, 1/2):  pi*TPR / (pi*TPR + (1 - pi)*FPR).

Why rates and not the plain precision of the measured comments: precision
depends on how much spam arrives. A newsroom whose first weeks are a spam
attack (TubeSpam's first 400 comments by date are 80 % spam) measures 99.7 %
on its past and then bins harmless comments when the mix turns ordinary. The
FPR bound needs many harmless decisions: with none hit in 90 harmless ones it
is 2.9 % and precision is only proven to 0.965, so the model abstains; at
about 200 harmless decisions without a mistake it can start. A short fixed
grid, not every score seen: picking the best of many thresholds on the same
data would flatter the estimate.

The model itself is shared by all sites (spam_model.MODEL_NAME = "global"):
one newsroom's decisions help another's model, but each site's autonomy is
measured on that site's decisions alone. Pure Python: the dashboard imports it.
"""
import math

MIN_DECISIONS = 200
WINDOW = 1000
FOLDS = 5
TARGET = 0.98
Z = 1.645  # one-sided 95 %
GRID = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99)


def wilson_lower(hits, n, z=Z):
    """One-sided lower confidence bound of a proportion hits/n (Wilson score interval); 0 for n=0."""
    if n <= 0:
        return 0.0
    p = hits / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def wilson_upper(hits, n, z=Z):
    """One-sided upper confidence bound of hits/n; 1 for n=0."""
    return 1.0 - wilson_lower(n - hits, n, z) if n > 0 else 1.0


def proven_precision(spam_above, harmless_above, spam, harmless):
    """Lower bound of the precision at a threshold (see the module docstring); 0 without data."""
    if spam <= 0 or harmless <= 0 or spam_above <= 0:
        return 0.0
    share = min(spam / (spam + harmless), 0.5)
    caught = wilson_lower(spam_above, spam) * share
    hit = wilson_upper(harmless_above, harmless) * (1 - share)
    return caught / (caught + hit)


def earned_threshold(curve, floor=0.0):
    """The lowest threshold of `curve` ([[t, spam above, harmless above, spam, harmless], ...]) at or
    above `floor` whose proven precision reaches TARGET, as (threshold, spam above, harmless above,
    bound); None if none."""
    for threshold, spam_above, harmless_above, spam, harmless in sorted(curve or ()):
        if threshold < floor - 1e-9:
            continue
        bound = proven_precision(spam_above, harmless_above, spam, harmless)
        if bound >= TARGET:
            return threshold, spam_above, harmless_above, bound
    return None


def auto_spam_threshold(state, floor=0.0):
    """The score at or above which the model may send this site's comments to Spam, or None.

    `state` is the site's SpamSiteState (None: never measured)."""
    if state is None or state.admin_off or state.paused_at is not None or state.decisions < MIN_DECISIONS:
        return None
    earned = earned_threshold(state.curve, floor)
    return None if earned is None else earned[0]


def describe(state, decisions, floor=0.0):
    """The model's state on a site in a newsroom's words: a dict with `mode` (learning, measuring,
    abstaining, on, off, paused) and `text`; `decisions` is the site's current example count."""
    if decisions < MIN_DECISIONS or state is None or state.decisions < MIN_DECISIONS:
        if decisions < MIN_DECISIONS:
            return {"mode": "learning", "threshold": None,
                    "text": f"learning: {decisions} of {MIN_DECISIONS} decisions; it only holds comments for you"}
        return {"mode": "measuring", "threshold": None,
                "text": f"{decisions} decisions: measuring at the next retrain; until then it only holds comments"}
    earned = earned_threshold(state.curve, floor)
    if earned is None:
        best = max(state.curve or [[0, 0, 0, 0, 0]], key=lambda row: proven_precision(*row[1:]))
        spam, harmless = best[1], best[2]
        shown = (f"{100 * spam / (spam + harmless):.1f} % precise at {best[0]:.2f}, proven "
                 f"{100 * proven_precision(*best[1:]):.1f} %") if spam + harmless else "no spam scored high"
        return {"mode": "abstaining", "threshold": None,
                "text": (f"not sure enough yet ({shown} on your last {state.evaluated} decisions; "
                         f"needs {100 * TARGET:.0f} % proven): it only holds comments")}
    threshold, spam, harmless, bound = earned
    precise = (f"{100 * spam / (spam + harmless):.1f} % precise on your last {state.evaluated} decisions, "
               f"proven at least {100 * bound:.1f} %")
    if state.admin_off:
        return {"mode": "off", "threshold": threshold,
                "text": f"auto-spam switched off by an admin (it would be {precise}); it only holds comments"}
    if state.paused_at is not None:
        return {"mode": "paused", "threshold": threshold,
                "text": "auto-spam paused: a moderator approved a comment it had sent to Spam; measuring again"}
    return {"mode": "on", "threshold": threshold,
            "text": f"auto-spam on: {precise} (spam at score {threshold:.2f} and above)"}
