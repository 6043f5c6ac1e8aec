"""The TubeSpam splits (../shared/data/tubespam, CC BY 4.0) as the spam benchmarks read them.

Columns ID, author, date, text, label (1 = spam). Both bench/spam_curve.py and
bench/spam_replay.py post rows as comments, one reader address per author.
"""
import csv
import hashlib
from typing import NamedTuple


class Row(NamedTuple):
    author: str
    text: str
    spam: bool
    date: str


def load(path):
    """The rows of one split's CSV, in file order."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [Row(row["author"], row["text"], row["label"].strip() == "1", row["date"])
                for row in csv.DictReader(fh)]


def reader_address(author):
    """One address per author: per-reader screening (velocity, history, repeats) sees readers."""
    digest = hashlib.sha256(author.encode("utf-8")).digest()
    return f"10.{digest[0]}.{digest[1]}.{digest[2]}"
