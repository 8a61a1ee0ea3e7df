"""The statuses a route can answer besides its success, documented once: ``responses=``
tables for the OpenAPI document, each error with its body model.

Every route of the server's own API (``/sessions``, ``/events``, ``/invocations``, ``/stats``,
...) can be refused before it runs: 401 without the key (when the server has one), 400 for
a ``Host`` it does not serve and 403 for a page of another origin (without a key), and, for
a body, 413 when it is too large and 415 when it is not JSON. :func:`server_errors` adds the
route's own statuses to those.
"""

from __future__ import annotations

from typing import Any

from claude_agent_protocol import ErrorBody
from pydantic import BaseModel

__all__ = ["DESCRIPTIONS", "SSE", "SSE_FRAME", "error_responses", "request_body", "server_errors"]

DESCRIPTIONS: dict[int, str] = {
    400: "Bad request: a malformed id or value, or a Host this server does not serve",
    401: "Missing or wrong API key",
    403: "A page of another origin (the server has no API key)",
    404: "No such session, transcript, permission request or resource",
    405: "Method not allowed",
    409: "Conflict: a turn is running, or the session is in the registry already",
    413: "The request body (or the prompt) is too large",
    415: "The request body is not JSON",
    422: "The request does not match its schema",
    429: "Too many requests: no session can be made live now (Retry-After)",
    502: "The session's Claude Code process failed to start or died",
    504: "The upstream model did not answer in time",
    503: "Unavailable: every live session is busy, the server is shutting down, or its database is down (Retry-After)",
}

GATE = (400, 403)
"""What the middlewares (Host and Origin checks) may answer on any route; 401 is added for a protected one."""
BODY = (413, 415, 422)
"""What they may answer on a route that takes a body."""

SSE_FRAME: dict[str, Any] = {
    "type": "object",
    "description": "One Server-Sent Events frame: its id (a cursor for Last-Event-ID), event type and JSON data",
    "properties": {"id": {"type": "string"}, "event": {"type": "string"}, "data": {"type": "string", "contentMediaType": "application/json"}},
}
SSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/event-stream": {"schema": SSE_FRAME}}, "description": "Server-Sent Events"}}
"""A streaming route's 200: ``text/event-stream`` (frames ``id:``, ``event:``, ``data:`` JSON)."""


def error_responses(model: type[BaseModel], *codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for ``codes`` (sorted, deduplicated), each with ``model`` as its body."""
    return {code: {"model": model, "description": DESCRIPTIONS[code]} for code in sorted(set(codes))}


def server_errors(*codes: int, body: bool = False, public: bool = False) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route of the server's own API: its ``codes`` plus what the middlewares
    answer (the key check unless ``public``; body limits and content type when it takes a ``body``),
    each with :class:`~claude_agent_protocol.ErrorBody` (a 422's ``detail`` is the list of problems)."""
    codes = (*codes, *GATE, *(() if public else (401,)), *(BODY if body else ()))
    return error_responses(ErrorBody, *codes)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra=`` declaring ``model`` as the JSON body of a route that reads the body itself
    (to parse it in a worker thread, or to answer in its own error shape); the schema is inlined
    (a model without recursive references)."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": _inline(schema, schema.get("$defs", {}))}}}}
