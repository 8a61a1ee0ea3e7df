"""API-key authentication: ``Authorization: Bearer <key>`` or ``x-api-key: <key>``.

Two kinds of key: the server's own key (``--api-key``), which opens every route, and
the model key each live session's CLI is given, which opens only the model
endpoints (``/v1/messages*``, ``/demo/v1/...``) and only while that session's
process runs. The server's own key never leaves the server process.
"""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, status


def presented_key(request: Request) -> str | None:
    """The key a request carries, if any."""
    if key := request.headers.get("x-api-key"):
        return key
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials else None


def _unauthorized() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail="missing or wrong API key (send Authorization: Bearer <key> or x-api-key)",
        headers={"WWW-Authenticate": "Bearer"},
    )


def is_server_key(request: Request, key: str | None) -> bool:
    """Whether ``key`` is the server's own key (constant-time compare); True when the server has none.
    Adapters that take the key in other headers (e.g. HTTP Basic) check it with this too."""
    expected: str | None = request.app.state.settings.api_key_value()
    return expected is None or (key is not None and secrets.compare_digest(key.encode(), expected.encode()))


async def require_api_key(request: Request) -> None:
    """Dependency: 401 unless the server has no key or the request carries it (constant-time compare)."""
    if not is_server_key(request, presented_key(request)):
        raise _unauthorized()


async def require_model_key(request: Request) -> None:
    """Dependency of the model endpoints: the server's key, or the model key of a live session."""
    key = presented_key(request)
    if is_server_key(request, key):
        return
    if key is None or not request.app.state.manager.model_key_valid(key):
        raise _unauthorized()
