"""Writing the audit log from the auth gate: every authenticated change (POST, PUT, PATCH,
DELETE) with its outcome, every refused change and every failed sign-in.

The action is the route's name (its endpoint function, e.g. ``send_message``, prefixed by the
surface: ``rest.send_message``, ``opencode.prompt``), so a route added later is named without
a table to keep up; the session id comes from the path, or, for a create, from the reply's
``session_id``/``id``. Nothing of a key, a token or a message's text is written.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import HTTPConnection
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..sessions.tenancy import Caller
from .state import ServerState
from .surfaces import surface_of

log = logging.getLogger(__name__)

SESSION_PARAMS = ("session_id", "sessionID", "id")
MAX_SNIFF = 64 * 1024
"""Bytes of a change's JSON reply read for a new session's id, at most."""


def action_of(scope: Scope) -> str:
    """``<surface>.<route name>`` (``rest`` for the server's own API); ``<surface>.unknown`` without a route."""
    surface = surface_of(scope.get("path", ""))
    route = scope.get("route") or _matching_route(scope)
    name = getattr(route, "name", None) or "unknown"
    return f"{'rest' if surface == 'server' else surface}.{name}"


def _matching_route(scope: Scope) -> Any:
    """The route a request refused before routing would have reached (for its name and path ids)."""
    return _match(getattr(scope.get("app"), "routes", ()), scope)


def _match(routes: Any, scope: Scope) -> Any:
    path, method = scope.get("path", ""), scope.get("method", "GET")
    for route in routes:
        nested = getattr(route, "effective_candidates", None)  # FastAPI's included routers
        if nested is not None:
            if (found := _match(nested(), scope)) is not None:
                return found
            continue
        regex, methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is None or (methods is not None and method not in methods):
            continue
        if (matched := regex.match(path)) is not None:
            scope.setdefault("path_params", matched.groupdict())
            return route
    return None


def session_of(scope: Scope) -> str | None:
    params: dict[str, Any] = scope.get("path_params") or {}
    for name in SESSION_PARAMS:
        if isinstance(params.get(name), str):
            return str(params[name])[:64]
    return None


def _client(conn: HTTPConnection) -> str | None:
    return conn.client.host if conn.client else None


async def _write(state: ServerState, **row: Any) -> None:
    """Queue the row (the registry writes it, through a database outage too; see :mod:`..store.audit`)."""
    try:
        await state.manager.registry.audit.record(**row)
    except Exception:  # the change happened; a lost audit row is logged, not turned into an error
        log.exception("could not queue the audit row %s", {k: v for k, v in row.items() if k != "client"})


async def record(state: ServerState, conn: HTTPConnection, who: Caller, status: int, session_id: str | None = None) -> None:
    scope = conn.scope
    await _write(
        state, action=action_of(scope), method=scope.get("method", ""), path=scope.get("path", ""), status=status,
        user_name=who.user, key_id=who.key_id, client=_client(conn), session_id=session_id or session_of(scope),
    )


async def record_failure(state: ServerState, conn: HTTPConnection, reason: str) -> None:
    """A failed sign-in: the reason (never the key or token) goes in ``action``."""
    scope = conn.scope
    await _write(
        state, action="auth.failure", method=scope.get("method", ""), path=scope.get("path", ""), status=401,
        user_name=None, key_id=None, client=_client(conn), session_id=None,
    )
    log.info("sign-in refused from %s on %s: %s", _client(conn), scope.get("path"), reason)


async def run_audited(app: ASGIApp, state: ServerState, conn: HTTPConnection, who: Caller, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve a change and record it with its status (500 when the app failed before answering)."""
    status = 500
    sniff: list[bytes] = []
    json_reply = False

    async def watch(message: Message) -> None:
        nonlocal status, json_reply
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers = dict(message.get("headers") or [])
            json_reply = headers.get(b"content-type", b"").startswith(b"application/json")
        elif message["type"] == "http.response.body" and json_reply and sum(map(len, sniff)) < MAX_SNIFF:
            sniff.append(message.get("body", b""))
        await send(message)

    try:
        await app(scope, receive, watch)
    finally:
        session_id = session_of(scope)
        if session_id is None and json_reply and status < 300:
            session_id = _created_id(b"".join(sniff))
        await record(state, conn, who, status, session_id)


def _created_id(body: bytes) -> str | None:
    try:
        reply = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(reply, dict):
        for name in ("session_id", "id"):
            if isinstance(reply.get(name), str):
                return str(reply[name])[:64]
    return None
