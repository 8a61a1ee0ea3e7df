"""``GET /mcp``: the MCP servers of the caller's live sessions, in OpenCode's shape."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter

from ...sessions import Session, SessionError
from ...sessions.tenancy import owner_filter
from ..deps import DirectoryDep, ManagerDep
from ..errors import ERRORS, OpenCodeRoute
from ..protocol import OpenCodeMcpStatus

log = logging.getLogger(__name__)

router = APIRouter(route_class=OpenCodeRoute, tags=["opencode"], responses=ERRORS)

MCP_TIMEOUT = 5.0
"""Seconds ``GET /mcp`` waits for one session's CLI to report its MCP servers."""
MCP_STATUS = {"connected": "connected", "disabled": "disabled", "failed": "failed", "needs-auth": "needs_auth"}
"""Claude Code's MCP server status → OpenCode's (any other, e.g. ``pending``: ``failed`` with the status as error)."""


def _status_of(server: dict[str, Any]) -> OpenCodeMcpStatus:
    status = MCP_STATUS.get(str(server.get("status")))
    if status is None:
        return OpenCodeMcpStatus(status="failed", error=str(server.get("error") or server.get("status") or "unknown"))
    if status == "failed":
        return OpenCodeMcpStatus(status="failed", error=str(server.get("error") or "failed"))
    return OpenCodeMcpStatus(status=status)  # type: ignore[arg-type]


async def _servers_of(session: Session) -> list[dict[str, Any]]:
    try:
        async with asyncio.timeout(MCP_TIMEOUT):
            return await session.mcp_status()
    except (SessionError, TimeoutError) as exc:
        log.debug("MCP status of %s: %s", session.id, exc)
        return []


@router.get("/mcp", response_model_exclude_none=True)
async def mcp(manager: ManagerDep, directory: DirectoryDep) -> dict[str, OpenCodeMcpStatus]:
    """``{name: {status: connected|disabled|failed|needs_auth, error?}}``: the MCP servers of the
    caller's live sessions (in ``directory`` when given) that were created with ``mcp_servers``, as their
    CLIs report them (hibernated sessions are not woken for this). A name several sessions use
    is ``connected`` if any of them has it connected."""
    mine = owner_filter()  # a member sees their own sessions' servers only
    sessions = [s for s in manager.live_sessions() if s.spec.mcp_servers and not s.closed and (mine is None or manager.owned_by(s.id, mine))]
    if directory:
        try:
            wanted = str(manager.resolve_cwd(directory))
        except Exception:  # a directory outside the workspace has no sessions here
            return {}
        sessions = [s for s in sessions if s.cwd == wanted]
    found: dict[str, OpenCodeMcpStatus] = {}
    for servers in await asyncio.gather(*(_servers_of(s) for s in sessions)):
        for server in servers:
            name = str(server.get("name") or "")
            if name and (name not in found or found[name].status != "connected"):
                found[name] = _status_of(server)
    return found
