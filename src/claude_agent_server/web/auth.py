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

from ..sessions.tenancy import ADMIN, Caller, current_caller
from ..settings import Settings
from ..store import RegistryUnavailable
from . import audit
from .identity import SERVER_CALLER, JwtRefused
from .state import ServerState, server_state, started_state
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
    """Dependency: 401 unless the gate signed the request in (the server's key, a user's key,
    a JWT), the server needs no sign-in, or the request carries the server's key."""
    if authenticated(request):
        return
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
    """Whether the request carries the server's key (``Authorization: Bearer``, ``x-api-key``;
    on OpenCode's routes also the Basic password), or on the model routes a live session's
    model key. True when the server has no key. (Users' keys and JWTs need the registry:
    :meth:`AuthGate.identify`.)"""
    key = presented_key(request)
    if matches_server_key(settings, key):
        return True
    path = request.scope["path"]
    if surface_of(path) == "opencode" and matches_server_key(settings, basic_password(request)):
        return True
    state = started_state(request.app)  # before the lifespan has run no session exists, nor its key
    return key is not None and path.startswith(MODEL_KEY_PREFIXES) and state is not None and state.manager.model_key_valid(key)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods that change something: a viewer gets 403 on each, on every route."""
ADMIN_PREFIXES = ("/admin/", "/audit", "/metrics", "/nodes")
"""Paths only admins may use (``/metrics`` unless ``--metrics-public``; ``/nodes``: the cluster's addresses)."""
AUTHENTICATED = "agent.authenticated"
CALLER = "agent.caller"
"""Scope keys the gate sets: the request signed in (or needs not); its :class:`Caller` (or None)."""


def caller_of(request: HTTPConnection) -> Caller | None:
    """The caller the gate resolved for this request (None: auth off, or a session's model key)."""
    found: Caller | None = request.scope.get(CALLER)
    return found


def authenticated(request: HTTPConnection) -> bool:
    """Whether the gate let this request in as signed in (or auth is off)."""
    return bool(request.scope.get(AUTHENTICATED))


class AuthGate:
    """Resolves the caller of each request once (the server's key, a user's key, a JWT; see
    :mod:`.identity`) and answers, before the body is read and in the surface's error shape:
    401 (with ``WWW-Authenticate``) for a non-public path without an accepted credential,
    403 for a viewer's change (any POST/PUT/PATCH/DELETE) and for a non-admin on
    ``/admin/*``, ``/audit`` and ``/metrics``. The caller is set as the session layer's
    :data:`~..sessions.tenancy.current_caller` for the rest of the request, so every session
    lookup, list and creation is scoped by it; changes and failed sign-ins go to the audit log.

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

    async def identify(self, conn: HTTPConnection, state: ServerState | None) -> tuple[bool, Caller | None, str | None]:
        """``(accepted, caller, refusal)``: whether the request may pass as signed in, as whom, and why not."""
        path = conn.scope["path"]
        if state is None:  # before the lifespan: the server's key alone
            accepted = credential_accepted(conn, self.settings)
            return accepted, (SERVER_CALLER if accepted and self.settings.api_key_value() else None), None
        key = presented_key(conn)
        if path.startswith(MODEL_KEY_PREFIXES):  # the model routes: the server's key or a live session's model key
            accepted = credential_accepted(conn, self.settings)
            return accepted, (SERVER_CALLER if accepted and matches_server_key(self.settings, key) and key else None), None
        if surface_of(path) == "opencode" and key is None:
            key = basic_password(conn)
        try:
            who = await state.identities.resolve(key)
        except JwtRefused as exc:
            return False, None, str(exc)
        if who is not None:
            return True, who, None
        required = await state.identities.auth_required()
        return not required, None, ("unknown, revoked or expired key" if key else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        state = started_state(conn.app)
        surface = surface_of(path)
        public = path in self.public or path.startswith(self.public_prefixes)
        try:
            accepted, who, refusal = await self.identify(conn, state)
        except RegistryUnavailable as exc:
            if public:
                accepted, who, refusal = True, None, None
            else:
                response = error_response(surface, 503, "the user registry is unavailable; retry later",
                                          headers={"Retry-After": str(exc.retry_after)})
                await response(scope, receive, send)
                return
        if not accepted and not public:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})  # before accepting: an HTTP 403
                return
            message, challenge = UNAUTHORIZED[surface]
            response = error_response(surface, 401, message, code="invalid_api_key", headers={"WWW-Authenticate": challenge})
            await response(scope, receive, send)
            if refusal is not None and state is not None:
                await audit.record_failure(state, conn, refusal)
            return
        forbidden = forbidden_reason(scope.get("method", "GET"), path, who, self.settings, public)
        if forbidden is not None:
            await error_response(surface, 403, forbidden, code="forbidden")(scope, receive, send)
            if state is not None and who is not None:
                await audit.record(state, conn, who, 403)
            return
        scope[AUTHENTICATED] = accepted
        scope[CALLER] = who
        token = current_caller.set(who)
        try:
            if state is None or who is None or scope.get("method") not in UNSAFE_METHODS:
                await self.app(scope, receive, send)
            else:
                await audit.run_audited(self.app, state, conn, who, scope, receive, send)
        finally:
            current_caller.reset(token)


def forbidden_reason(method: str, path: str, who: Caller | None, settings: Settings, public: bool) -> str | None:
    """Why a signed-in caller may not do this (403), or None."""
    if who is None or public:
        return None
    if path.startswith(ADMIN_PREFIXES) and who.role != ADMIN and not (path == "/metrics" and settings.metrics_public):
        return f"{path.split('/')[1]} is for admins"
    if method in UNSAFE_METHODS and not who.may_change:
        return "viewers read; they change nothing"
    return None
