"""Dependencies of the OpenCode routes: the hub, the session named by a ``ses_`` id, the directory."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Path, Query

from ..proxy import ProxyConfig
from ..sessions import Session, SessionNotFound
from ..web.deps import ManagerDep, SettingsDep, StateDep
from .errors import NotFound
from .hub import Hub


async def get_hub(state: StateDep) -> Hub:
    """The adapter's hub, built with the server's state."""
    return state.opencode


HubDep = Annotated[Hub, Depends(get_hub)]


async def get_session(hub: HubDep, manager: ManagerDep, session_id: Annotated[str, Path(max_length=200)]) -> Session:
    """The session behind the ``ses_`` id in the path (404 ``NotFoundError`` naming that id
    when it is unknown or the session is closed)."""
    try:
        return await manager.get(await hub.ids.claude_of(session_id))
    except SessionNotFound:
        raise NotFound(f"session {session_id} not found") from None


SessionDep = Annotated[Session, Depends(get_session)]


async def get_directory(
    directory: Annotated[str | None, Query(max_length=4096)] = None,
    header: Annotated[str | None, Header(alias="x-opencode-directory", max_length=4096)] = None,
) -> str | None:
    """The client's directory: ``?directory=`` or ``x-opencode-directory`` (URI-decoded), if any."""
    value = directory or header
    return unquote(value) if value else None


DirectoryDep = Annotated[str | None, Depends(get_directory)]


async def get_proxy_config(state: StateDep) -> ProxyConfig | None:
    """The LiteLLM config of the server's proxy, if it has one."""
    return state.proxy.config


ProxyConfigDep = Annotated[ProxyConfig | None, Depends(get_proxy_config)]

__all__ = ["DirectoryDep", "HubDep", "ManagerDep", "ProxyConfigDep", "SessionDep", "SettingsDep"]
