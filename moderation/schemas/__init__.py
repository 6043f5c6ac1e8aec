"""The reader and moderation API contract, written once.

`limits` holds every length limit, enum and id bound (plain constants, importable from the models,
the services and tools/build_widget.py without pulling in anything else); `reader` and
`moderation` hold Pydantic models built on them. From those models come the 400 field errors
(moderation/validators.py), the OpenAPI 3.1 document (moderation/api/openapi.py, and docs/api.md
from it), the widget's limits and enums (injected by tools/build_widget.py) and the database
column sizes (moderation/models).

Why Pydantic v2: it is the best-kept schema library in Python (a Rust core, frequent releases),
its `model_json_schema()` emits JSON Schema 2020-12, the dialect OpenAPI 3.1 uses as is, so the
document needs no translation layer, and one `ValidationError` lists every bad field at once,
which is the shape our 400 answers already have.
"""
