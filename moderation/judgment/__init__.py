"""Judgment: comment screening, the spam model, report clustering."""
