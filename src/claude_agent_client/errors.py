"""Errors raised by the API client.

Hierarchy::

    ClientError                  anything this package raises about the server
    ├── ServerUnavailable        no HTTP answer at all (refused, reset, timed out); ``url``, ``reason``
    └── APIError                 the server answered with an error status; ``status_code``, ``detail``
        ├── AuthenticationError  401: missing or wrong API key
        ├── NotFound             404: unknown session, transcript or permission request
        ├── Conflict             409: a turn is already running / session already live
        ├── InvalidRequest       400 or 422: bad id, cwd, mode, ...
        └── ServerError          5xx: the server or its Claude Code CLI failed
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "ClientError",
    "Conflict",
    "InvalidRequest",
    "NotFound",
    "ServerError",
    "ServerUnavailable",
    "error_for_status",
]


class ClientError(Exception):
    """Base class of every error this package raises."""


class ServerUnavailable(ClientError):
    """The server could not be reached or the connection broke.

    Attributes:
        url: The server's base URL.
        reason: A short description of the transport failure.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the agent server at {url}: {reason}")
        self.url = url
        self.reason = reason


class APIError(ClientError):
    """The server answered with an HTTP error status.

    Attributes:
        status_code: The HTTP status code.
        detail: The server's ``detail`` (a string, or FastAPI's list of validation errors).
    """

    def __init__(self, status_code: int, detail: Any) -> None:
        super().__init__(f"HTTP {status_code}: {describe_detail(detail)}")
        self.status_code = status_code
        self.detail = detail

    @property
    def message(self) -> str:
        """``detail`` as one human-readable line."""
        return describe_detail(self.detail)


class AuthenticationError(APIError):
    """401: the server wants an API key (``--api-key`` / ``AGENT_SERVER_API_KEY``)."""


class NotFound(APIError):
    """404: unknown or closed session, missing transcript, stale permission request."""


class Conflict(APIError):
    """409: a turn is already running, or the session is already live."""


class InvalidRequest(APIError):
    """400 or 422: the request was malformed (bad id, cwd, mode, ...)."""


class ServerError(APIError):
    """5xx: the server failed (502: its Claude Code CLI failed to start)."""


def describe_detail(detail: Any) -> str:
    """One line for a ``detail`` value, including FastAPI's ``[{loc, msg}, ...]`` lists."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                parts.append(f"{loc}: {item.get('msg', item)}" if loc else str(item.get("msg", item)))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


_BY_STATUS: dict[int, type[APIError]] = {
    400: InvalidRequest,
    401: AuthenticationError,
    404: NotFound,
    409: Conflict,
    422: InvalidRequest,
}


def error_for_status(status_code: int, detail: Any) -> APIError:
    """The :class:`APIError` subclass instance for an HTTP error status."""
    if status_code >= 500:
        return ServerError(status_code, detail)
    return _BY_STATUS.get(status_code, APIError)(status_code, detail)
