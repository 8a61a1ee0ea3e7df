"""API-key authentication: ``Authorization: Bearer <key>`` or ``x-api-key: <key>``."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, status


def presented_key(request: Request) -> str | None:
    """The key a request carries, if any."""
    if key := request.headers.get("x-api-key"):
        return key
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials else None


async def require_api_key(request: Request) -> None:
    """Dependency: 401 unless the server has no key or the request carries it (constant-time compare)."""
    expected: str | None = request.app.state.settings.api_key_value()
    if expected is None:
        return
    key = presented_key(request)
    if key is None or not secrets.compare_digest(key.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong API key (send Authorization: Bearer <key> or x-api-key)",
            headers={"WWW-Authenticate": "Bearer"},
        )
