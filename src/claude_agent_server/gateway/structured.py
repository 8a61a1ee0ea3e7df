"""Structured output on the gateway: ``response_format`` (chat) and ``text.format`` (Responses).

* ``{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}`` (chat) or
  ``{"type": "json_schema", "name", "schema", "strict"}`` (Responses): the turn runs in a
  session whose ``output_format`` is that schema; the reply's content is the JSON of the
  result's ``structured_output``, checked against the schema.
* ``{"type": "json_object"}``: the session is asked (in its system prompt) to answer with
  one JSON object; the reply must parse as one.
* ``{"type": "text"}`` or none: plain text.

When the agent gives no valid output the reply is an OpenAI-shaped error
(502 ``invalid_structured_output``), never free text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from ..sessions.structured import output_format, schema_errors
from .errors import GatewayError, bad_request

JSON_OBJECT_PROMPT = "Answer every message with one JSON object and nothing else: no prose, no code fences."
"""What a ``json_object`` session's system prompt asks for."""


@dataclass(frozen=True, slots=True)
class Structured:
    """A call's structured-output mode.

    Attributes:
        kind: ``json_schema`` or ``json_object``.
        output_format: The session's ``output_format`` (``json_schema`` only).
    """

    kind: Literal["json_schema", "json_object"]
    output_format: dict[str, Any] | None = None

    @property
    def scope(self) -> str:
        """What the history's scope adds (a conversation under another format never matches)."""
        return self.kind + ("" if self.output_format is None else ":" + json.dumps(self.output_format, sort_keys=True))

    def content(self, result: dict[str, Any], text: str) -> str:
        """The reply's content from the turn's ``result`` event data and its text.

        Raises:
            GatewayError: 502 ``invalid_structured_output``: no output, or it does not satisfy the schema
                or (``json_object``) does not parse as a JSON object.
        """
        if self.kind == "json_schema":
            assert self.output_format is not None
            value = result.get("structured_output")
            if value is None:
                raise _invalid("the agent ended its turn without structured output for the schema")
            if (why := schema_errors(value, self.output_format)) is not None:
                raise _invalid(f"the agent's structured output does not satisfy the schema: {why}")
            return json.dumps(value, ensure_ascii=False)
        candidate = _unfenced(text)
        try:
            value = json.loads(candidate)
        except ValueError:
            raise _invalid("the agent's reply is not JSON") from None
        if not isinstance(value, dict):
            raise _invalid("the agent's reply is JSON but not an object")
        return candidate


def _unfenced(text: str) -> str:
    """``text`` without surrounding whitespace and one Markdown code fence around it."""
    body = text.strip()
    if body.startswith("```") and body.endswith("```") and len(body) > 6:
        body = body[3:-3]
        body = body.split("\n", 1)[1] if body.split("\n", 1)[0].strip().isalpha() else body
    return body.strip()


def _invalid(message: str) -> GatewayError:
    return GatewayError(502, message, type="server_error", code="invalid_structured_output")


def parse_format(value: Any, param: str, nested: bool) -> Structured | None:
    """The mode of a ``response_format`` (``nested``: the schema is under ``json_schema``, as
    chat completions send it) or ``text.format`` value.

    Raises:
        GatewayError: 400 naming ``param`` for an unknown type or a schema that is not valid.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"{param}: must be an object with a type", param)
    kind = value.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return Structured("json_object")
    if kind != "json_schema":
        raise bad_request(f"{param}.type: one of text, json_object, json_schema; not {str(kind)[:40]!r}", param)
    holder = value.get("json_schema") if nested else value
    schema = holder.get("schema") if isinstance(holder, dict) else None
    if schema is None:
        where = f"{param}.json_schema.schema" if nested else f"{param}.schema"
        raise bad_request(f"{where}: a JSON schema is required", param)
    try:
        return Structured("json_schema", output_format(schema))
    except ValueError as exc:
        raise bad_request(f"{param}: {exc}", param) from None


__all__ = ["JSON_OBJECT_PROMPT", "Structured", "parse_format"]
