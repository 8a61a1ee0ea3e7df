"""The demo model's structured answers: a value that satisfies a JSON schema.

When a session has an ``output_format``, Claude Code offers the model a tool named
``StructuredOutput`` whose input schema is the format's schema; the demo model calls it
with :func:`value_for` of that schema (deterministic: strings repeat the human's text,
numbers are its length). Once the human has asked for prose (``answer in prose``) in the
conversation it answers in text and never calls the tool, even when reminded, to exercise a
turn without valid output.
"""

from __future__ import annotations

import re
from typing import Any

TOOL = "StructuredOutput"
"""The tool Claude Code offers for structured output."""
PROSE = re.compile(r"\banswer in prose\b", re.I)
"""Asking for prose: the demo does not call :data:`TOOL`."""
_DEPTH = 8


def value_for(schema: Any, text: str, depth: int = 0) -> Any:
    """A value valid against the common subset of JSON schema (``type``, ``properties``,
    ``required``, ``items``, ``enum``, ``const``, ``anyOf``/``oneOf``, ``minItems``,
    ``minLength``, ``minimum``); ``$ref`` and formats are not followed."""
    if not isinstance(schema, dict) or depth > _DEPTH:
        return text
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return value_for(schema[key][0], text, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: value_for(sub, text, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        count = max(1, int(schema.get("minItems") or 0))
        return [value_for(schema.get("items") or {}, text, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        value = max(len(text), int(low) + 1 if low is not None else 0)
        high = schema.get("maximum")
        return min(value, int(high)) if high is not None else value
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    value = text or "demo"
    return value.ljust(int(schema.get("minLength") or 0), ".")[: schema.get("maxLength") or None]


def structured_call(tools: list[dict[str, Any]], text: str, prefix: str, asked: list[str]) -> dict[str, Any] | None:
    """The ``tool_use`` block answering the offered :data:`TOOL` (None: it is not offered, or
    one of ``asked``, the human's texts so far, asks for prose)."""
    tool = next((t for t in tools if isinstance(t, dict) and t.get("name") == TOOL), None)
    if tool is None or any(PROSE.search(t) for t in asked):
        return None
    value = value_for(tool.get("input_schema") or {}, text)
    return {"type": "tool_use", "id": f"toolu_demo_{prefix}_so", "name": TOOL, "input": value}
