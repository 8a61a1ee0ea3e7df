"""Domain errors → HTTP status codes, mapped once for the whole app.

:class:`~claude_agent_server.store.RegistryUnavailable` (the registry's database cannot
be reached) is 503 with ``Retry-After`` on every route that reads the registry.
"""

from __future__ import annotations

import logging

import json

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from ..sessions import errors
from ..sessions.tenancy import SpendingLimitReached
from ..store import RegistryUnavailable

log = logging.getLogger(__name__)

STATUS: dict[type[errors.SessionError], int] = {
    SpendingLimitReached: 429,
    errors.SessionMoved: 503,  # before its base class: the first match counts
    errors.SessionNotFound: 404,
    errors.TranscriptNotFound: 404,
    errors.PermissionNotFound: 404,
    errors.MessageNotFound: 404,
    errors.QueuedMessageNotFound: 404,
    errors.InvalidSessionRequest: 400,
    errors.PromptTooLarge: 413,
    errors.SessionConflict: 409,
    errors.TurnInProgress: 409,
    errors.QueuedMessageCancelled: 409,
    errors.CommandRejected: 409,
    errors.TooManySessions: 503,
    errors.ServerShuttingDown: 503,
    errors.SessionStartError: 502,
}


async def _session_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.SessionError)
    code = next((c for t, c in STATUS.items() if isinstance(exc, t)), 400)
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    body: dict[str, object] = {"detail": exc.detail}
    if isinstance(exc, SpendingLimitReached):
        body.update(limit=exc.limit, limit_usd=exc.limit_usd, spent_usd=round(exc.spent_usd, 6), resets_at=exc.resets_at.isoformat())
    return JSONResponse(body, status_code=code, headers=headers)


async def _registry_unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RegistryUnavailable)
    since = f" since {exc.since.isoformat()}" if exc.since else ""
    detail = f"the session registry's database is unavailable{since}; retry later"  # the reason is in the server's log
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": str(exc.retry_after)})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": f"internal error: {type(exc).__name__}"}, status_code=500)


async def _invalid(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 body, as ASCII JSON: it echoes the input, which may hold text no UTF-8 can carry."""
    assert isinstance(exc, RequestValidationError)
    body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(errors.SessionError, _session_error)
    app.add_exception_handler(RegistryUnavailable, _registry_unavailable)
    app.add_exception_handler(Exception, _unexpected)
