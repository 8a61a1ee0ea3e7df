"""API-key authentication: ``Authorization: Bearer <key>`` or ``x-api-key: <key>``.

Two kinds of key: the server's own key (``--api-key``), which opens every route, and
the model key each live session's CLI is given, which opens only the model
endpoints (``/v1/messages*``, ``/demo/v1/...``) and only while that session's
process runs. The server's own key never leaves the server process.

The decision is made twice: by :class:`AuthGate`, a middleware that answers 401
from the headers alone, before a byte of the body is read (so a client without a
key cannot make the server wait for, or hold, a large body), and by the routes'
dependencies (:func:`require_api_key`, :func:`require_model_key`, the adapters'
``require_key``), which stay as the authority on each route.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable

from fastapi import FastAPI, HTTPException, Request, status
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from ..settings import Settings
from .state import server_state, started_state
from .surfaces import MODEL_KEY_PREFIXES, error_response, surface_of


def presented_key(request: HTTPConnection) -> str | None:
    """The key a request carries, if any."""
    if key := request.headers.get("x-api-key"):
        return key
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials else None


def basic_password(request: HTTPConnection) -> str | None:
    """The password of an ``Authorization: Basic`` header, if any (any user name; OpenCode's clients)."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] if ":" in decoded else None


def _unauthorized() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail="missing or wrong API key (send Authorization: Bearer <key> or x-api-key)",
        headers={"WWW-Authenticate": "Bearer"},
    )


def matches_server_key(settings: Settings, key: str | None) -> bool:
    """Whether ``key`` is the server's own key (constant-time compare); True when the server has none."""
    expected = settings.api_key_value()
    return expected is None or (key is not None and secrets.compare_digest(key.encode(), expected.encode()))


def is_server_key(request: HTTPConnection, key: str | None) -> bool:
    """:func:`matches_server_key` with the settings of the request's server. Adapters that take
    the key in other headers (e.g. HTTP Basic) check it with this too."""
    return matches_server_key(server_state(request.app).settings, key)


async def require_api_key(request: Request) -> None:
    """Dependency: 401 unless the server has no key or the request carries it (constant-time compare)."""
    if not is_server_key(request, presented_key(request)):
        raise _unauthorized()


async def require_model_key(request: Request) -> None:
    """Dependency of the model endpoints: the server's key, or the model key of a live session."""
    key = presented_key(request)
    if is_server_key(request, key):
        return
    if key is None or not server_state(request.app).manager.model_key_valid(key):
        raise _unauthorized()


def public_paths(app: FastAPI, settings: Settings) -> tuple[frozenset[str], tuple[str, ...]]:
    """``(paths, prefixes)`` served without a key: ``/health``, ``/ping``, the docs, the
    dashboard's page and files (``/``, ``/ui``, ``/ui/static/...``), and ``/metrics``
    with ``--metrics-public``. Every other path needs a key when the server has one."""
    paths = {"/health", "/ping", "/", "/ui", app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    if settings.metrics_public:
        paths.add("/metrics")
    return frozenset(p for p in paths if p), ("/ui/static/",)


UNAUTHORIZED = {
    "server": ("missing or wrong API key (send Authorization: Bearer <key> or x-api-key)", "Bearer"),
    "anthropic": ("missing or wrong API key (send x-api-key: <key> or Authorization: Bearer <key>)", "Bearer"),
    "openai": ("missing or wrong API key: send the server's key as Authorization: Bearer <key>", "Bearer"),
    "opencode": ("missing or wrong key (HTTP Basic with the server's API key as password)", 'Basic realm="claude-agent-server"'),
}
"""Per surface: the 401 message and ``WWW-Authenticate`` challenge."""


def credential_accepted(request: HTTPConnection, settings: Settings) -> bool:
    """Whether the request carries a key its route accepts, judged from the path alone:
    the server's key (``Authorization: Bearer``, ``x-api-key``; on OpenCode's routes also
    the Basic password), or on the model routes a live session's model key. True when
    the server has no key."""
    key = presented_key(request)
    if matches_server_key(settings, key):
        return True
    path = request.scope["path"]
    if surface_of(path) == "opencode" and matches_server_key(settings, basic_password(request)):
        return True
    state = started_state(request.app)  # before the lifespan has run no session exists, nor its key
    return key is not None and path.startswith(MODEL_KEY_PREFIXES) and state is not None and state.manager.model_key_valid(key)


class AuthGate:
    """401 (in the surface's error shape, with ``WWW-Authenticate``) for a request to a
    non-public path that carries no accepted key, before its body is read.

    Args:
        app: The ASGI app.
        settings: The server's key (``api_key``).
        public: Paths served without a key.
        public_prefixes: Path prefixes served without a key (static files).
    """

    def __init__(self, app: ASGIApp, settings: Settings, public: Iterable[str], public_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.settings = settings
        self.public = frozenset(public)
        self.public_prefixes = public_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or path in self.public or path.startswith(self.public_prefixes):
            await self.app(scope, receive, send)
            return
        if credential_accepted(HTTPConnection(scope), self.settings):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accepting: an HTTP 403
            return
        surface = surface_of(path)
        message, challenge = UNAUTHORIZED[surface]
        response = error_response(surface, 401, message, code="invalid_api_key", headers={"WWW-Authenticate": challenge})
        await response(scope, receive, send)
