"""Dependency aliases every adapter uses: the server's state, and from it the manager,
the settings, the proxy, the metrics; the session named in a server-API path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from starlette.requests import HTTPConnection

from ..observability import ServerMetrics
from ..proxy import ProxyService
from ..sessions import Session, SessionManager
from ..settings import Settings
from .state import ServerState, server_state

__all__ = ["ManagerDep", "MetricsDep", "ProxyDep", "SessionDep", "SessionIdPath", "SettingsDep", "StateDep", "get_state"]


async def get_state(request: HTTPConnection) -> ServerState:
    """The :class:`ServerState` the lifespan built."""
    return server_state(request.app)


StateDep = Annotated[ServerState, Depends(get_state)]

# Each of these reads the state itself rather than depending on ``StateDep``: FastAPI solves a
# sub-dependency again for every dependency that names it (only the call is cached), and a
# turn's route would solve the state three times.


async def get_manager(request: HTTPConnection) -> SessionManager:
    return server_state(request.app).manager


async def get_settings(request: HTTPConnection) -> Settings:
    return server_state(request.app).settings


async def get_proxy(request: HTTPConnection) -> ProxyService:
    return server_state(request.app).proxy


async def get_metrics(request: HTTPConnection) -> ServerMetrics:
    return server_state(request.app).metrics


ManagerDep = Annotated[SessionManager, Depends(get_manager)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ProxyDep = Annotated[ProxyService, Depends(get_proxy)]
MetricsDep = Annotated[ServerMetrics, Depends(get_metrics)]


SessionIdPath = Annotated[
    str, Path(description="The session's id, a UUID (another value is 400).", json_schema_extra={"format": "uuid"})
]
"""A session id in a path: declared ``format: uuid``; the manager refuses a non-UUID with 400."""


async def get_session(request: HTTPConnection, session_id: SessionIdPath) -> Session:
    """The session in the path, live or hibernated (404 when closed or unknown, 400 for a bad id)."""
    return await server_state(request.app).manager.get(session_id)


SessionDep = Annotated[Session, Depends(get_session)]
