"""Dependency aliases: the manager, the settings and the session named in the path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from ..sessions import ModelRoute, Session, SessionManager
from ..settings import Settings


def get_manager(request: Request) -> SessionManager:
    return request.app.state.manager


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(manager: Annotated[SessionManager, Depends(get_manager)], session_id: Annotated[str, Path()]) -> Session:
    return manager.get(session_id)


ManagerDep = Annotated[SessionManager, Depends(get_manager)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def self_url(request: Request) -> str:
    """This server's own base URL as reached by the request (its real address and port)."""
    server = request.scope.get("server") or ("127.0.0.1", request.app.state.settings.port)
    host, port = server[0], server[1]
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def model_route(request: Request, enable_proxy: bool, background_model: str | None) -> ModelRoute | None:
    """Where a new session's CLI should send model requests: the proxy, the demo model, or nowhere special."""
    settings: Settings = request.app.state.settings
    key = settings.api_key_value()
    if enable_proxy:
        return ModelRoute(self_url(request), key or "no-key-needed", background_model)
    if settings.demo:
        return ModelRoute(f"{self_url(request)}/demo", key or "demo-key")
    return None
