"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

Contract: https://platform.openai.com/docs/guides/error-codes — the official SDKs
raise ``BadRequestError`` (400), ``AuthenticationError`` (401), ``NotFoundError``
(404), ``ConflictError`` (409), ``RateLimitError`` (429, honouring ``Retry-After``)
and ``InternalServerError`` (5xx) from these. Domain errors are mapped here, once.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..sessions import errors
from ..sessions.tenancy import SpendingLimitReached

SESSION_HEADER = "X-Session-Id"
"""The header naming the session a response came from (and that a request continues)."""


class GatewayError(Exception):
    """An error answered in OpenAI's shape.

    Args:
        status: HTTP status code.
        message: Safe to show the caller.
        type: OpenAI's error type (``invalid_request_error``, ``authentication_error``, ...).
        code: A machine-readable code (``model_not_found``, ``rate_limit_exceeded``, ...).
        param: The request field at fault, if any.
        retry_after: Seconds the caller should wait (the ``Retry-After`` header).
    """

    def __init__(
        self, status: int, message: str, type: str = "invalid_request_error", code: str | None = None,
        param: str | None = None, retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.retry_after = retry_after
        self.session_id: str | None = None
        """The session the failed call ran in, when it got that far (sent as ``X-Session-Id``)."""

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.session_id is not None:
            headers[SESSION_HEADER] = self.session_id
        if self.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return headers

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers())


def bad_request(message: str, param: str | None = None, code: str | None = None) -> GatewayError:
    return GatewayError(400, message, param=param, code=code)


def unauthorized() -> GatewayError:
    return GatewayError(
        401, "missing or wrong API key: send the server's key as Authorization: Bearer <key>",
        type="authentication_error", code="invalid_api_key",
    )


def model_not_found(model: str) -> GatewayError:
    return GatewayError(
        404, f"the model {model[:200]!r} does not exist here; GET /v1/models lists the models served",
        code="model_not_found", param="model",
    )


def from_session_error(exc: errors.SessionError) -> GatewayError:
    """The OpenAI-shaped form of a session-layer error."""
    if isinstance(exc, SpendingLimitReached):
        return GatewayError(429, exc.detail, type="rate_limit_error", code="spending_limit_reached", retry_after=exc.retry_after)
    if isinstance(exc, errors.TooManySessions):
        return GatewayError(429, exc.detail, type="rate_limit_error", code="rate_limit_exceeded", retry_after=exc.retry_after)
    if isinstance(exc, errors.ServerShuttingDown):
        return GatewayError(503, exc.detail, type="server_error", code="server_shutting_down", retry_after=exc.retry_after)
    if isinstance(exc, (errors.SessionNotFound, errors.TranscriptNotFound)):
        return GatewayError(404, exc.detail, code="session_not_found")
    if isinstance(exc, errors.PromptTooLarge):
        return GatewayError(413, exc.detail, code="context_length_exceeded", param="messages")
    if isinstance(exc, (errors.TurnInProgress, errors.SessionConflict)):
        return GatewayError(409, exc.detail, code="session_busy")
    if isinstance(exc, errors.SessionStartError):
        return GatewayError(502, exc.detail, type="server_error", code="agent_start_failed")
    if isinstance(exc, errors.CommandRejected):
        return GatewayError(502, exc.detail, type="server_error", code="agent_refused")
    return GatewayError(400, exc.detail)


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GatewayError)
    return exc.response()


def install(app: FastAPI) -> None:
    """Answer :class:`GatewayError` in OpenAI's shape, wherever it is raised (dependencies included)."""
    app.add_exception_handler(GatewayError, _handle)
