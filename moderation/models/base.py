"""Shared column helpers."""
from datetime import datetime, timezone


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
