"""What the OpenAPI schema says beyond what FastAPI derives from the routes.

The JSON prompt schema (Draft 2020-12, `app/services/library/prompts/`) is the contract of
every `data` field: it goes into `components/schemas` as `JsonPrompt` (its `$defs` beside it, named
`JsonPrompt.<name>`), so clients, the docs and the API fuzzer all see the rules the server uses.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import WithJsonSchema

from app.services.library.prompts import load_schema

PROMPT_COMPONENT = "JsonPrompt"

# Annotate a `dict[str, Any]` field with this to declare it a JSON prompt.
# (wrapped in allOf: pydantic resolves a bare top-level $ref against its own definitions)
JsonPromptSchema = WithJsonSchema({"allOf": [{"$ref": f"#/components/schemas/{PROMPT_COMPONENT}"}]})


def prompt_components() -> dict[str, Any]:
    """The prompt schema and its definitions as OpenAPI components, with `$ref`s rewritten."""
    schema = load_schema()
    defs: dict[str, Any] = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    components = {PROMPT_COMPONENT: schema} | {
        f"{PROMPT_COMPONENT}.{name}": value for name, value in defs.items()
    }
    text = json.dumps(components).replace('"#/$defs/', f'"#/components/schemas/{PROMPT_COMPONENT}.')
    result: dict[str, Any] = json.loads(text)
    return result


def add_prompt_schema(spec: dict[str, Any]) -> dict[str, Any]:
    spec.setdefault("components", {}).setdefault("schemas", {}).update(prompt_components())
    return spec


def links(status: int, **targets: tuple[str, dict[str, str]]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI links from this operation's `status` answer to the operations it leads to, as
    `Name=(operation_id, {"param": "$response.body#/id"})`. Clients (and the fuzzer's stateful
    phase) follow them from a created row to the operations that read or change it."""
    return {
        status: {
            "links": {
                name: {"operationId": operation_id, "parameters": parameters}
                for name, (operation_id, parameters) in targets.items()
            }
        }
    }
