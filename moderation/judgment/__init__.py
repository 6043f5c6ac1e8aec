"""Judgment: comment screening, the spam model, report clustering."""
# Imported here so that the spam_model_state table is in the metadata whenever
# judgment is (the worker imports screening); it depends on no other model.
from . import spam_model  # noqa: F401
