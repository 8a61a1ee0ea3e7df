"""Which API surface a path belongs to, and an error response in that surface's shape.

The server speaks four vocabularies, each with its own error body:

============  ==============================================================  =====================================
surface       paths                                                           error body
============  ==============================================================  =====================================
anthropic     ``/v1/messages*``, ``/demo/v1/...``, ``/api/event_logging/...``  ``{"type": "error", "error": {"type", "message"}}``
openai        any other ``/v1/...``                                           ``{"error": {"message", "type", "param", "code"}}``
opencode      OpenCode's singular paths (``/session``, ``/event``, ...)       ``{"name", "data": {"message"}}``
server        everything else (``/sessions``, ``/invocations``, ``/ui``, ...)  ``{"detail": message}``
============  ==============================================================  =====================================

The middlewares that answer before a route runs (body limits, content type, auth,
Host and Origin checks) use :func:`error_response`, so a client of one surface
never gets another's shape.
"""

from __future__ import annotations

from typing import Literal

from starlette.responses import JSONResponse

from ..proxy.errors import ERROR_TYPES

Surface = Literal["anthropic", "openai", "opencode", "server"]

ANTHROPIC_PREFIXES = ("/v1/messages", "/demo/v1/", "/upstream/", "/api/event_logging/")
"""The Anthropic Messages routes (the proxy, the demo model, the upstream pass-through to Anthropic, Bedrock or
Vertex, Claude Code's telemetry upload)."""

MODEL_KEY_PREFIXES = ANTHROPIC_PREFIXES
"""Paths a live session's model key opens (the routes behind ``require_model_key``)."""

OPENCODE_SEGMENTS = frozenset({
    "session", "event", "permission", "global", "config", "provider", "agent", "path", "project", "experimental",
    "command", "lsp", "formatter", "mcp", "vcs", "file", "find", "tui", "log", "app", "mode", "auth", "instance", "api",
})
"""First path segments of OpenCode's server API (1.x, and the 0.x paths its older SDKs call; ``/api/*`` is its
TUI's, except Claude Code's ``/api/event_logging`` upload, which is Anthropic's)."""

_OPENCODE_NAMES = {
    400: "BadRequestError", 401: "UnauthorizedError", 404: "NotFoundError", 405: "MethodNotAllowedError",
    409: "BusyError", 422: "BadRequestError",
}
_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error"}


def surface_of(path: str) -> Surface:
    """The surface whose error shape a request for ``path`` gets."""
    if path.startswith(ANTHROPIC_PREFIXES):
        return "anthropic"
    if path.startswith("/v1/"):
        return "openai"
    if path.partition("/")[2].partition("/")[0] in OPENCODE_SEGMENTS:
        return "opencode"
    return "server"


def error_body(surface: Surface, status: int, message: str, code: str | None = None) -> dict[str, object]:
    """The error body of ``surface`` for ``status``.

    Args:
        surface: From :func:`surface_of`.
        status: The HTTP status (it picks Anthropic's error type, OpenAI's ``type`` and OpenCode's ``name``).
        message: Safe to show the caller.
        code: OpenAI's machine-readable ``code`` (e.g. ``invalid_api_key``); the other shapes have none.
    """
    if surface == "anthropic":
        kind = ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    if surface == "openai":
        kind = _OPENAI_TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}
    if surface == "opencode":
        name = _OPENCODE_NAMES.get(status, "BadRequestError" if status < 500 else "UnknownError")
        return {"name": name, "data": {"message": message}}
    return {"detail": message}


def error_response(
    surface: Surface, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """:func:`error_body` as a JSON response (also an ASGI app: ``await response(scope, receive, send)``)."""
    return JSONResponse(error_body(surface, status, message, code), status_code=status, headers=headers)
