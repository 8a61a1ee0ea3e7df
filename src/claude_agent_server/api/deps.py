"""Dependency aliases: the manager, the settings and the session named in the path;
where sessions' CLIs send their model requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Request

from ..sessions import ModelRoute, Session, SessionManager, SessionSpec
from ..settings import Settings


def get_manager(request: Request) -> SessionManager:
    return request.app.state.manager


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(manager: Annotated[SessionManager, Depends(get_manager)], session_id: Annotated[str, Path()]) -> Session:
    """The session in the path, live or hibernated (404 when closed or unknown, 400 for a bad id)."""
    return await manager.get(session_id)


ManagerDep = Annotated[SessionManager, Depends(get_manager)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def base_url(host: str, port: int) -> str:
    """``http://host:port`` for a bound address (a wildcard address becomes 127.0.0.1)."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def self_url(request: Request) -> str:
    """This server's own base URL as reached by the request (its real address and port)."""
    server = request.scope.get("server") or ("127.0.0.1", request.app.state.settings.port)
    return base_url(server[0], server[1])


async def remember_self_url(request: Request) -> None:
    """Dependency: note the server's own address, for the model routes of sessions
    started or woken later (the port is known only once requests arrive)."""
    request.app.state.self_url = self_url(request)


def route_resolver(app: FastAPI, settings: Settings) -> Callable[[SessionSpec, str], ModelRoute | None]:
    """``route_for(spec, model_key)``: where a session's CLI sends model requests — this
    server's proxy (``enable_proxy``), the demo model (``--demo``), or None (as Claude Code
    is configured) — presenting the session's own model key, never the server's key."""

    def route_for(spec: SessionSpec, model_key: str) -> ModelRoute | None:
        base = getattr(app.state, "self_url", None) or base_url(settings.host, settings.port)
        if spec.enable_proxy:
            return ModelRoute(base, model_key, spec.background_model)
        if settings.demo:
            return ModelRoute(f"{base}/demo", model_key)
        return None

    return route_for


def routes_known(app: FastAPI, settings: Settings) -> Callable[[], bool]:
    """Whether the server's own address is known (with ``--port 0`` only once it is bound),
    so that a CLI started now can reach the demo model or the proxy."""
    return lambda: settings.port != 0 or getattr(app.state, "self_url", None) is not None
