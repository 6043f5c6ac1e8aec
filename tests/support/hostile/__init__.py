"""Hostile input for the tests: our XSS set (tests/hostile/xss.txt) plus, when `MODERATION_BLNS=/path`
names it, the Big List of Naughty Strings. The tests never look for shared data themselves and
`make test` runs without it; `.ci/run` runs the hostile-input tests once more with
MODERATION_BLNS set, as an extra corpus step, when the CI machine has the list.

Blank lines and `#` comment lines are skipped in both files.
"""
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
OWN = HERE / "xss.txt"
# Markers a payload uses when it runs; the browser tests look for them.
MARKER_IDS = "xss"


def blns_path():
    """The blns file to use, or None when there is none (then only our own set runs)."""
    configured = os.environ.get("MODERATION_BLNS")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FileNotFoundError(f"MODERATION_BLNS={configured} is not a file")
        return path
    return None


def read_lines(path):
    """Payload lines of one file: UTF-8, newline removed, blanks and `#` comments skipped."""
    out = []
    with open(path, encoding="utf-8", errors="surrogateescape", newline="\n") as handle:
        for line in handle:
            line = line.rstrip("\n").rstrip("\r") if line.endswith("\n") else line
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            # blns holds a few non-UTF-8 byte strings: keep them as U+FFFD, like a browser would send.
            out.append(line.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    return out


def own_payloads():
    return read_lines(OWN)


def blns_payloads():
    path = blns_path()
    return read_lines(path) if path else []


def all_payloads():
    """Our set, then blns (if present), without duplicates, in a stable order."""
    seen, out = set(), []
    for payload in own_payloads() + blns_payloads():
        if payload not in seen:
            seen.add(payload)
            out.append(payload)
    return out
