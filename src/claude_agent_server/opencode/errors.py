"""OpenCode's error shape and auth on the adapter's routes only.

Errors are ``{"name": "NotFoundError"|"BadRequestError"|..., "data": {"message"}}``
(OpenCode ``server/error.ts``). :class:`OpenCodeRoute` (FastAPI's documented way
to handle exceptions per router: a custom ``APIRoute``) turns domain errors,
validation errors and HTTP errors raised by these routes into that shape; the rest
of the server keeps its own. Paths that match no route (404) or not with this
method (405) get that shape too when they lie under one of OpenCode's path prefixes
(:func:`~..api.surfaces.surface_of`, :func:`install_not_found`).

Auth (:func:`require_key`): with a server API key, HTTP Basic with the key as
password (any user name; ``opencode attach -p <key>`` sends ``opencode:<key>``),
or the usual ``Authorization: Bearer`` / ``x-api-key``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..sessions import SessionError
from ..web.auth import authenticated, basic_password, is_server_key, presented_key
from ..web.errors import STATUS
from ..web.responses import error_responses
from ..web.state import server_state
from ..web.surfaces import error_body, surface_of
from .protocol import NamedError

log = logging.getLogger(__name__)

class OpenCodeError(Exception):
    """An error of the adapter itself, with its HTTP status."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(OpenCodeError):
    status = 404


class BadRequest(OpenCodeError):
    status = 400


ERRORS = error_responses(NamedError, 400, 401, 403, 404, 409, 413, 415, 502, 503)
"""What any OpenCode route may answer besides its success (a validation error is 400 here, not 422)."""


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """``{"name", "data": {"message"}}`` with ``status``."""
    return JSONResponse(error_body("opencode", status, message), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return "invalid request: " + "; ".join(parts)


class OpenCodeRoute(APIRoute):
    """A route whose errors have OpenCode's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except OpenCodeError as exc:
                return error_response(exc.status, exc.message)
            except SessionError as exc:
                status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
                retry = getattr(exc, "retry_after", None)
                return error_response(status, exc.detail, {"Retry-After": str(retry)} if retry is not None else None)
            except RequestValidationError as exc:
                return error_response(400, _validation_message(exc))
            except HTTPException as exc:
                return error_response(exc.status_code, str(exc.detail), dict(exc.headers or {}))

        return handle


def install_not_found(app: FastAPI) -> None:
    """Answer the HTTP errors of OpenCode's paths (404, 405, a body that is not JSON) in OpenCode's
    shape; other paths keep the handler installed before (FastAPI's ``{"detail"}`` by default)."""
    previous = app.exception_handlers.get(StarletteHTTPException, http_exception_handler)

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if surface_of(request.url.path) == "opencode":
            path = request.url.path[:200]
            messages = {405: f"method {request.method} is not allowed on {path}", 404: f"{path} is not served here"}
            message = messages.get(exc.status_code, str(exc.detail))
            return error_response(exc.status_code, message, dict(exc.headers or {}))
        return await previous(request, exc)  # type: ignore[no-any-return]

    app.add_exception_handler(StarletteHTTPException, handle)


async def require_key(request: Request) -> None:
    """Dependency: 401 (``WWW-Authenticate: Basic``) unless the server has no key or the
    request carries it as Basic password, Bearer token or ``x-api-key``."""
    if authenticated(request) or server_state(request.app).settings.api_key_value() is None:
        return
    if is_server_key(request, presented_key(request)) or is_server_key(request, basic_password(request)):
        return
    raise HTTPException(401, "missing or wrong key (HTTP Basic with the server's API key as password)", {"WWW-Authenticate": 'Basic realm="claude-agent-server"'})
