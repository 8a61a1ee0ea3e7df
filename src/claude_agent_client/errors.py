"""Errors raised by the API client.

Hierarchy::

    ClientError                  anything this package raises about the server
    ├── ServerUnavailable        no HTTP answer at all (refused, reset, timed out); ``url``, ``reason``
    └── APIError                 the server answered with an error status; ``status_code``, ``detail``
        ├── AuthenticationError  401: missing or wrong API key
        ├── NotFound             404: unknown session, transcript or permission request
        ├── Conflict             409: a turn is already running / session already live
        ├── InvalidRequest       400 or 422: bad id, cwd, mode, ...
        └── ServerError          5xx: the server or its Claude Code CLI failed (503: every
                                 live session is busy; ``retry_after`` then says when to retry)
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
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
    "parse_retry_after",
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
        retry_after: Seconds the server asked to wait before retrying (its ``Retry-After``
            header), or None when it sent none.
    """

    def __init__(self, status_code: int, detail: Any, retry_after: float | None = None) -> None:
        self.status_code = status_code
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(f"HTTP {status_code}: {self.message}")

    @property
    def message(self) -> str:
        """``detail`` as one human-readable line, with the server's retry hint when it gave one."""
        text = describe_detail(self.detail)
        if self.retry_after is None:
            return text
        return f"{text} (the server asks to retry in {self.retry_after:g} s)"


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


def error_for_status(status_code: int, detail: Any, retry_after: float | None = None) -> APIError:
    """The :class:`APIError` subclass instance for an HTTP error status.

    Args:
        status_code: The HTTP status.
        detail: The server's ``detail``.
        retry_after: Seconds from the response's ``Retry-After`` header (see :func:`parse_retry_after`).
    """
    kind = ServerError if status_code >= 500 else _BY_STATUS.get(status_code, APIError)
    return kind(status_code, detail, retry_after)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date.

    Returns None for a missing or unparsable header; a date in the past gives 0.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)
