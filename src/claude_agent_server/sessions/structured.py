"""Structured output: a session's ``output_format`` (a JSON schema) and checks against it.

With ``ClaudeAgentOptions(output_format={"type": "json_schema", "schema": S})`` the CLI
offers the model a ``StructuredOutput`` tool whose input is ``S``; when the model calls
it, the turn's result carries ``structured_output`` (the tool's input). A session's
``output_format`` is part of its spec, so a woken session keeps it and a warm client
(started without one) never serves a session that asks for one.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

MAX_SCHEMA_BYTES = 64 * 1024
"""A schema reaches the CLI as a command-line argument (``--json-schema``): at most this many bytes as JSON."""


def output_format(value: Any) -> dict[str, Any]:
    """The SDK's form ``{"type": "json_schema", "schema": {...}}`` of ``value``: that form
    itself, or a bare JSON schema (an object).

    Raises:
        ValueError: Not an object, not a valid JSON schema (draft 2020-12), or too large.
    """
    if not isinstance(value, dict):
        raise ValueError("must be a JSON schema (an object) or {\"type\": \"json_schema\", \"schema\": {...}}")
    schema = value.get("schema") if value.get("type") == "json_schema" else value
    if not isinstance(schema, dict):
        raise ValueError("schema must be a JSON schema (an object)")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"not a valid JSON schema: {exc.message}") from None
    if len(json.dumps(schema, ensure_ascii=False).encode("utf-8", "surrogatepass")) > MAX_SCHEMA_BYTES:
        raise ValueError(f"the schema must be at most {MAX_SCHEMA_BYTES} bytes as JSON")
    return {"type": "json_schema", "schema": schema}


def schema_errors(value: Any, fmt: dict[str, Any]) -> str | None:
    """Why ``value`` does not satisfy the ``output_format`` ``fmt`` (None: it does)."""
    error = next(iter(Draft202012Validator(fmt["schema"]).iter_errors(value)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where + ': ' if where else ''}{error.message}"[:500]


__all__ = ["MAX_SCHEMA_BYTES", "output_format", "schema_errors"]
