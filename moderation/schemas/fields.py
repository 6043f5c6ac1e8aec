"""Field types shared by the models, and the translation of a ValidationError into our 400 body.

Each reader field is `Annotated[type, BeforeValidator(clean), Field(limits)]`: the cleaning
runs first (NFC, control characters, spaces, as docs/security.md describes), then Pydantic checks
the limits on the cleaned value, so the limits in the JSON Schema are the ones enforced. Errors
become `{field: "field <reason>"}`, one reason per field, worded as the API has always worded them.
"""
import re
from typing import Annotated, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import PydanticCustomError

from ..sanitizer import clean_line, clean_text, strip_controls
from ..urls import normalize_url
from . import limits

_SPACES = re.compile(r"\s+")
CLIENT_ID = re.compile(limits.CLIENT_ID_PATTERN)
# Only in the documents, never enforced by Pydantic: the cleaning decides (a value of spaces
# alone is empty once trimmed; the URL check is normalize_url's).
NON_BLANK = r"\S"
HTTP_URL = "^\\s*[Hh][Tt][Tt][Pp][Ss]?://"


class Refusal:
    """Field metadata: the one reason given for any error of this field (ids, enums, e-mail)."""

    def __init__(self, reason):
        self.reason = reason


def refuse(reason):
    """Fail the field being validated; the reason is shown after the field's name."""
    raise PydanticCustomError("refused", reason)


class Contract(BaseModel):
    """Base of every request model: unknown fields are ignored (an older widget never breaks on a
    newer server), nothing unknown is kept."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# -- cleaning (BeforeValidator functions) --------------------------------------------------

def _string(value):
    if not isinstance(value, str):
        refuse("must be a string")
    return value


def text(value):
    """Multi-line text: NFC, controls removed (tab and newline kept), trimmed."""
    return clean_text(_string(value))


def collapsed(value):
    """Text quoted from the article: also whitespace runs as one space (format characters kept,
    or it would not be found on the page: soft hyphens are common in news typography)."""
    return _SPACES.sub(" ", clean_text(_string(value)))


def line(value):
    """Single-line words of someone (author, title): also bidi controls and other invisible
    format characters removed ("Editor\u202e ffats" is not shown as "Editorstaff")."""
    return _SPACES.sub(" ", clean_line(_string(value)))


def optional(clean):
    """Absent, null or "" is None; so is a value that cleans to nothing."""

    def run(value):
        if value is None or value == "":
            return None
        return clean(value) or None

    return run


def context(value):
    """prefix/suffix: whitespace collapsed but kept at the edge next to the selection."""
    if value is None:
        return ""
    return _SPACES.sub(" ", strip_controls(_string(value)))


def site_key(value):
    if not isinstance(value, str) or not clean_text(value):
        refuse("is required")
    return clean_text(value)


def url_text(value):
    if not isinstance(value, str) or not value.strip():
        refuse("is required")
    return strip_controls(value)


def normalized_url(value):
    normalized = normalize_url(value)
    if normalized is None:
        refuse("must be an absolute http(s) URL")
    return normalized


def optional_email(value):
    value = strip_controls(value) if isinstance(value, str) else value
    return None if value in (None, "") else value


def email_matching(pattern):
    def check(value):
        if value is not None and not pattern.fullmatch(value.strip()):
            refuse("is not a valid address")
        return None if value is None else value.strip()

    return check


def blank_is_none(value):
    return None if value is None or value == "" else value


# -- field types ---------------------------------------------------------------------------

def _extra(**schema):
    return Field(json_schema_extra=schema)


SiteKey = Annotated[str, BeforeValidator(site_key), Field(min_length=1, max_length=limits.SITE_KEY_MAX,
                                                           description="The site's key."), _extra(pattern=NON_BLANK)]
PageUrl = Annotated[
    str, BeforeValidator(url_text), Field(min_length=1, max_length=limits.URL_MAX), AfterValidator(normalized_url),
    Field(description="Absolute http(s) URL of the article, on one of the site's allowed origins. "
                      "Stored normalized (no fragment, no `utm_*`/`fbclid` tracking parameters)."),
    _extra(pattern=HTTP_URL),
]
ClientId = Annotated[
    str, Field(strict=True, min_length=limits.CLIENT_ID_MIN, max_length=limits.CLIENT_ID_MAX,
               pattern="^" + limits.CLIENT_ID_PATTERN + "$",
               description="Chosen by the client (a UUID): 8-64 letters, digits, `-`, `_`. The same "
                           "client_id twice on a site is one submission; ids are unique per site."),
    Refusal("must be 8-64 letters, digits, '-' or '_' (a UUID)"),
]


def Text(max_length, min_length=None):  # noqa: N802  (a type)
    """A string (never coerced from another JSON type) of at most max_length characters."""
    return Annotated[str, Field(strict=True, min_length=min_length, max_length=max_length)]


def Integer(minimum, maximum=None):  # noqa: N802  (a type)
    """An integer (true/false and 1.0 are not integers) within [minimum, maximum]."""
    return Annotated[int, Field(strict=True, ge=minimum, le=maximum)]


def _reason(error, metadata):
    refusal = next((m for m in metadata if isinstance(m, Refusal)), None)
    ctx = error.get("ctx") or {}
    if error["type"] == "refused":
        return error["msg"]
    if refusal is not None:
        return refusal.reason
    # too_long/too_short: the same limits, checked after a BeforeValidator.
    if error["type"] in ("string_too_long", "too_long"):
        return f"must be at most {ctx['max_length']} characters"
    if error["type"] in ("string_too_short", "too_short"):
        return "is required" if ctx["min_length"] == 1 else "is too short"
    return "is invalid"


def field_errors(exc, model):
    """{field: reason} from a model's ValidationError: the first error of each field, our wording."""
    fields = {(info.validation_alias or name): info for name, info in model.model_fields.items()}
    errors = {}
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0])
        if name not in errors:
            errors[name] = f"{name} {_reason(error, fields[name].metadata if name in fields else ())}"
    return errors


def value_error(exc, name, annotated):
    """The reason, worded as in a 400's `fields`, a single field of type `annotated` was refused."""
    return f"{name} {_reason(exc.errors(include_url=False)[0], get_args(annotated)[1:])}"


def check(model, data):
    """(values, errors) for a JSON object: every field of `model` read with .get (a missing field is
    None, as the cleaning expects), unknown fields ignored."""
    fields = {(info.validation_alias or name) for name, info in model.model_fields.items()}
    try:
        parsed = model.model_validate({name: data.get(name) for name in fields})
    except ValidationError as exc:
        return {}, field_errors(exc, model)
    return parsed.model_dump(), {}


# -- the JSON Schema dialect of our documents ------------------------------------------------

class ContractSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema, written the way the API documents always wrote it: a nullable
    scalar is `{"type": [t, "null"]}` (not an anyOf), no generated titles."""

    def nullable_schema(self, schema):
        inner = self.generate_inner(schema["schema"])
        if "$ref" in inner or not isinstance(inner.get("type"), str):
            return {"anyOf": [inner, {"type": "null"}]}
        inner = dict(inner, type=[inner["type"], "null"])
        if "enum" in inner:
            inner["enum"] = [*inner["enum"], None]
        return inner

    def field_title_should_be_set(self, schema):
        return False

    def generate(self, schema, mode="validation"):
        document = super().generate(schema, mode)
        _drop_titles(document)
        return document


def _drop_titles(node):
    """Generated titles and null defaults removed (property names are kept, even `title`)."""
    if isinstance(node, dict):
        node.pop("title", None)
        if "default" in node and node["default"] is None:  # absent already means null
            del node["default"]
        for key, value in node.items():
            if key != "properties":
                _drop_titles(value)
            else:
                for prop in value.values():
                    _drop_titles(prop)
    elif isinstance(node, list):
        for item in node:
            _drop_titles(item)

