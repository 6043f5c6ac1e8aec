"""Render the OpenAPI document (moderation/api/openapi.py, generated from moderation/schemas) as docs/api.md, the API reference.

    python tools/gen_api_docs.py           # rewrite docs/api.md
    python tools/gen_api_docs.py --check   # exit 1 if docs/api.md is not the current rendering

tests/test_openapi.py runs --check, so the reference cannot drift from the document.
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation.api.openapi import DOCUMENT  # noqa: E402

OUTPUT = ROOT / "docs" / "api.md"
METHODS = ("get", "post", "put", "patch", "delete")


def resolve(node, document=DOCUMENT):
    """Follow a local $ref (one level at a time, until the node is not a reference)."""
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def ref_name(node):
    return node["$ref"].rsplit("/", 1)[1] if isinstance(node, dict) and "$ref" in node else None


def cell(text):
    """Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def type_of(schema):
    name = ref_name(schema)
    if name:
        return f"[{name}](#{name.lower()})"
    schema = schema or {}
    if "const" in schema:
        return f"`{schema['const']!r}`".replace("'", '"')
    if "allOf" in schema:
        return " + ".join(type_of(part) for part in schema["allOf"])
    if "anyOf" in schema:
        return " or ".join(type_of(part) for part in schema["anyOf"])
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    shown = []
    for kind in kinds:
        if kind == "array":
            shown.append(f"array of {type_of(schema.get('items', {}))}")
        else:
            shown.append(kind)
    return " or ".join(shown)


def constraints(schema):
    schema = schema or {}
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"`{v}`" for v in schema["enum"] if v is not None))
    low, high = schema.get("minLength"), schema.get("maxLength")
    if low is not None or high is not None:
        parts.append(f"length {low or 0}–{high}" if high is not None else f"length ≥ {low}")
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None or high is not None:
        parts.append(f"{low if low is not None else '…'}–{high if high is not None else '…'}")
    if "pattern" in schema:
        parts.append(f"pattern `{schema['pattern']}`")
    if "format" in schema:
        parts.append(f"format {schema['format']}")
    if "default" in schema:
        parts.append(f"default `{schema['default']}`")
    return "; ".join(parts)


def fields_table(schema):
    schema = resolve(schema)
    required = set(schema.get("required", ()))
    lines = ["| Field | Type | Required | Constraints | Description |", "|---|---|---|---|---|"]
    for name, prop in schema.get("properties", {}).items():
        lines.append("| `{}` | {} | {} | {} | {} |".format(
            name, cell(type_of(prop)), "yes" if name in required else "", cell(constraints(prop)),
            cell(prop.get("description", ""))))
    return lines


def render_operation(path, method, operation):
    lines = [f"### `{method.upper()} {path}`", "", f"**{operation['summary']}.**"]
    if operation.get("description"):
        lines += ["", operation["description"]]
    auth = "Bearer token" if operation.get("security") else "none (public)"
    lines += ["", f"Authentication: {auth}."]
    parameters = [resolve(p) for p in operation.get("parameters", [])]
    if parameters:
        lines += ["", "| Parameter | In | Type | Required | Constraints | Description |",
                  "|---|---|---|---|---|---|"]
        for p in parameters:
            lines.append("| `{}` | {} | {} | {} | {} | {} |".format(
                p["name"], p["in"], cell(type_of(p.get("schema"))), "yes" if p.get("required") else "",
                cell(constraints(p.get("schema"))), cell(p.get("description", ""))))
    body = operation.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        name = ref_name(schema)
        required = "required" if body.get("required") else "optional"
        lines += ["", f"Request body ({required}, `application/json`)"
                  + (f": [{name}](#{name.lower()})." if name else ":")]
        if not name:
            lines += [""] + fields_table(schema)
    lines += ["", "| Status | Meaning | Body | Headers |", "|---|---|---|---|"]
    for status, response in operation["responses"].items():
        response = resolve(response)
        content = response.get("content", {}).get("application/json", {})
        body_type = type_of(content["schema"]) if content else ""
        headers = ", ".join(f"`{h}`" for h in response.get("headers", {}))
        lines.append(f"| {status} | {cell(response['description'])} | {cell(body_type)} | {headers} |")
    return lines


def render(document=DOCUMENT):
    info = document["info"]
    lines = [
        f"# {info['title']} (version {info['version']})",
        "",
        "<!-- Generated by tools/gen_api_docs.py from moderation/api/openapi.py: do not edit by hand. -->",
        "",
        "The machine-readable OpenAPI 3.1 document is served at `GET /api/v1/openapi.json`.",
        "",
        info["description"].rstrip(),
        "",
        "## Operations",
        "",
    ]
    for tag in document["tags"]:
        lines += ["| Method and path | Summary |", "|---|---|"] if tag is document["tags"][0] else []
        for path, item in document["paths"].items():
            for method in METHODS:
                if method in item and tag["name"] in item[method].get("tags", ()):
                    lines.append(f"| `{method.upper()} {path}` | {item[method]['summary']} |")
    for tag in document["tags"]:
        lines += ["", f"## {tag['name'][0].upper()}{tag['name'][1:]}", "", tag["description"]]
        for path, item in document["paths"].items():
            for method in METHODS:
                if method in item and tag["name"] in item[method].get("tags", ()):
                    lines += [""] + render_operation(path, method, item[method])
    components = document["components"]
    lines += ["", "## Errors", "", "| Response | Meaning | Headers |", "|---|---|---|"]
    for name, response in components["responses"].items():
        headers = ", ".join(f"`{h}`" for h in response.get("headers", {}))
        lines.append(f"| {name} | {cell(response['description'])} | {headers} |")
    lines += ["", "## Headers", "", "| Header | Type | Meaning |", "|---|---|---|"]
    for name, header in components["headers"].items():
        lines.append(f"| {name} | {type_of(header['schema'])} | {cell(header['description'])} |")
    lines += ["", "## Schemas"]
    for name, schema in components["schemas"].items():
        lines += ["", f"### {name}"]
        if schema.get("description"):
            lines += ["", schema["description"]]
        if "allOf" in schema:
            lines += ["", "All fields of " + " plus ".join(
                type_of(part) for part in schema["allOf"] if "$ref" in part) + ", and:"]
            schema = next(part for part in schema["allOf"] if "$ref" not in part)
        lines += [""] + fields_table(schema)
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/api.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run python tools/gen_api_docs.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
