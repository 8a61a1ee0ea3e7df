"""OpenCode's operations (tag ``opencode``) document their replies: every JSON 2xx reply of
the OpenAPI document has a typed schema (a model, a list or map of models, a boolean), never a
bare object (``additionalProperties: true`` without properties), an ``items: {}`` list or no
schema at all. Whether the real replies match those schemas is the conformance run's job
(test_openapi_conformance.py); the byte-exact shapes are tested in tests/opencode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from claude_agent_server.app import create_app
from claude_agent_server.settings import Settings

STREAMS = {"/event", "/global/event"}
"""Server-sent events, not JSON (their frames are tested in tests/opencode)."""


def _untyped(schema: dict[str, Any] | None) -> str | None:
    """Why a reply's schema is untyped (None when it is typed)."""
    if not schema:
        return "no schema"
    if "$ref" in schema or "oneOf" in schema or "anyOf" in schema:
        return None
    kind = schema.get("type")
    if kind is None:
        return "no type"
    if kind == "array":
        return None if _untyped(schema.get("items")) is None else "a list of untyped items"
    if kind == "object":
        if schema.get("properties") or schema.get("additionalProperties") is False:
            return None
        values = schema.get("additionalProperties")
        return None if isinstance(values, dict) and _untyped(values) is None else "a bare object"
    return None


def test_every_opencode_reply_has_a_typed_schema(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    document = create_app(Settings(workspace=tmp_path / "ws", data_dir=tmp_path / "data", demo=True)).openapi()
    seen, untyped = 0, []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "opencode" not in operation.get("tags", []) or path in STREAMS:
                continue
            for status, response in operation["responses"].items():
                if not status.startswith("2") or status == "204":
                    continue
                seen += 1
                why = _untyped(response.get("content", {}).get("application/json", {}).get("schema"))
                if why:
                    untyped.append(f"{method.upper()} {path} {status}: {why}")
    assert seen >= 39, seen  # every JSON reply of the adapter (the event streams and prompt_async aside)
    assert not untyped, "\n".join(untyped)


def test_the_check_catches_untyped_schemas() -> None:
    assert _untyped({"type": "object", "additionalProperties": True, "title": "x"}) == "a bare object"
    assert _untyped({"type": "array", "items": {}}) == "a list of untyped items"
    assert _untyped({"title": "Response"}) == "no type"
    assert _untyped({"type": "object", "additionalProperties": {"$ref": "#/components/schemas/X"}}) is None
