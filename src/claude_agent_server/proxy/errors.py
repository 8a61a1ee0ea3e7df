"""Proxy errors, and LiteLLM's exceptions mapped to the Anthropic error shape.

Hierarchy::

    ProxyError                 status_code, error_type, message
    ├── InvalidRequest         400 invalid_request_error (a bad body)
    ├── AuthenticationFailed   401 authentication_error (the server's own API key)
    ├── ModelNotFound          404 not_found_error (a model the proxy cannot serve)
    └── UpstreamError          an upstream failure: 4xx kept, 5xx → 502, timeout → 504

    ProxyConfigError (ValueError)   the LiteLLM config file cannot be used (at startup)

Every error renders as Anthropic's ``{"type": "error", "error": {"type", "message"}}``,
as a JSON body (:meth:`ProxyError.body`) or an SSE frame (:meth:`ProxyError.sse_frame`).
"""

from __future__ import annotations

import json
import re
from typing import Any

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    502: "api_error",
    504: "timeout_error",
}
"""Anthropic's error type for each status this proxy answers with."""


class ProxyError(Exception):
    """An error for the client of ``/v1/messages``: an HTTP status, an Anthropic error type, a message."""

    status_code: int = 400
    error_type: str = "invalid_request_error"
    headers: dict[str, str] = {}
    """Response headers sent with the error (e.g. ``x-should-retry: false``, which Anthropic's SDKs, Claude Code's among them, obey)."""

    def __init__(self, message: str, *, status_code: int | None = None, error_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if error_type is not None:
            self.error_type = error_type

    def body(self) -> dict[str, Any]:
        """The Anthropic error object."""
        return {"type": "error", "error": {"type": self.error_type, "message": self.message}}

    def sse_frame(self) -> bytes:
        """The error as one ``event: error`` Server-Sent Event (for failures after streaming began)."""
        return f"event: error\ndata: {json.dumps(self.body())}\n\n".encode()


class InvalidRequest(ProxyError):
    """The request body is not a usable Anthropic Messages request."""


class AuthenticationFailed(ProxyError):
    """The request did not carry this server's API key."""

    status_code = 401
    error_type = "authentication_error"


class ModelNotFound(ProxyError):
    """The model is neither in the LiteLLM config nor (when allowed) a name LiteLLM can route."""

    status_code = 404
    error_type = "not_found_error"


class UpstreamError(ProxyError):
    """The upstream model provider (or LiteLLM on its behalf) failed."""

    status_code = 502
    error_type = "api_error"


class ProxyConfigError(ValueError):
    """The LiteLLM config cannot be used; the message names the file and the problem."""


_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*)+(?:\w+Error:\s*)?")
_REPR = re.compile(r"<([\w.]+) object at 0x[0-9a-fA-F]+>")
_MISSING_KEY = re.compile(r"missing \w+ api key", re.I)


def _clean(message: str) -> str:
    """LiteLLM's message without its ``litellm.BadRequestError: BadRequestError:`` prefixes
    and Python object reprs; a missing provider key is said to be the server's."""
    cleaned = _REPR.sub(r"<\1>", _PREFIX.sub("", message.strip()).strip() or message)
    if _MISSING_KEY.search(cleaned):
        return (
            "this server has no API key for the model's provider: set it in the server's environment "
            f"or as api_key in the LiteLLM config (a key sent by the client is not used upstream). {cleaned}"
        )
    return cleaned


def from_exception(exc: BaseException) -> ProxyError:
    """Map an exception raised while serving a request to a :class:`ProxyError`.

    LiteLLM's exceptions carry the upstream's ``status_code``: 4xx statuses are
    kept (422 becomes 400), 408 becomes 504 ``timeout_error``, 5xx and anything
    without a status (connection failures, unexpected errors) become 502
    ``api_error``. A :class:`ProxyError` is returned unchanged.
    """
    if isinstance(exc, ProxyError):
        return exc
    status = getattr(exc, "status_code", None)
    message = _clean(str(getattr(exc, "message", None) or exc)) or type(exc).__name__
    if not isinstance(status, int):
        return UpstreamError(f"upstream request failed: {type(exc).__name__}: {message}")
    if status == 408:
        return UpstreamError(message, status_code=504, error_type="timeout_error")
    if status == 422:
        status = 400
    if 400 <= status < 500:
        return UpstreamError(message, status_code=status, error_type=ERROR_TYPES.get(status, "invalid_request_error"))
    return UpstreamError(message)
