"""Shared column helpers."""
from datetime import datetime, timezone


def one_of(column, values):
    """A CHECK constraint's SQL for an enum of the API contract (moderation/schemas/limits.py),
    written as the migrations wrote it: `kind in ('a', 'b')`."""
    return f"{column} in ({', '.join(repr(value) for value in values)})"


def utcnow():
    return datetime.now(timezone.utc)


def as_utc(value):
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def isoformat(value):
    value = as_utc(value)
    return value.isoformat().replace("+00:00", "Z") if value else None
