"""``/session/{id}/revert`` and ``/session/{id}/unrevert`` (see :mod:`..revert`), and ``/mcp``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter

from ...sessions import Session, SessionError
from ...sessions.tenancy import owner_filter
from .. import revert as reverting
from ..deps import DirectoryDep, HubDep, ManagerDep, SessionDep, SettingsDep
from ..errors import ERRORS, OpenCodeRoute
from ..hub import Hub
from ..protocol import RevertBody
from ..views import conversation, entry_of, session_info

log = logging.getLogger(__name__)

router = APIRouter(route_class=OpenCodeRoute, tags=["opencode"], responses=ERRORS)

MCP_TIMEOUT = 5.0
"""Seconds ``GET /mcp`` waits for one session's CLI to report its MCP servers."""
MCP_STATUS = {"connected": "connected", "disabled": "disabled", "failed": "failed", "needs-auth": "needs_auth"}
"""Claude Code's MCP server status → OpenCode's (any other, e.g. ``pending``: ``failed`` with the status as error)."""


async def _updated(hub: Hub, settings: Any, session: Session) -> dict[str, Any]:
    """The session's ``Session``, announced to event subscribers as ``session.updated``."""
    info = await session_info(hub, settings, await entry_of(hub, session.id))
    hub.announce(session.id, [{"type": "session.updated", "properties": {"sessionID": info["id"], "info": info}}])
    return info


@router.post("/session/{session_id}/revert")
async def revert(body: RevertBody, session: SessionDep, manager: ManagerDep, hub: HubDep, settings: SettingsDep) -> dict[str, Any]:
    """Revert the turn of ``messageID`` (or of ``partID``'s message) and every later one: the
    ``Session`` with its ``revert``. With ``--file-checkpointing`` the files the agent changed
    since are restored (``unrevert`` puts them back); without it the revert is
    conversation-only. 409 ``SessionBusyError``-like while a turn runs; 400 for the first turn."""
    view = await conversation(hub, settings, await entry_of(hub, session.id))
    transcript = await manager.transcripts.messages(session.id, session.spec.cwd)
    await reverting.revert(hub.reverts, session, view, transcript, body.message_id, body.part_id, manager.config.file_checkpointing)
    return await _updated(hub, settings, session)


@router.post("/session/{session_id}/unrevert")
async def unrevert(session: SessionDep, hub: HubDep, settings: SettingsDep) -> dict[str, Any]:
    """Bring back what the pending revert hid (and the files it restored); the ``Session``.
    Nothing happens without a pending revert; 409 while a turn runs."""
    if await reverting.unrevert(hub.reverts, session):
        return await _updated(hub, settings, session)
    return await session_info(hub, settings, await entry_of(hub, session.id))


async def commit_revert(hub: Hub, settings: Any, session: Session) -> None:
    """Before a prompt: a pending revert becomes final (:func:`..revert.commit`); its hidden
    messages are announced as removed."""
    if await hub.reverts.pending(session.id) is None:
        return
    view = await conversation(hub, settings, await entry_of(hub, session.id))
    done = await reverting.commit(hub.reverts, session, hub.manager.events.last_id)
    if done is None:
        return
    removed = [
        {"type": "message.removed", "properties": {"sessionID": view.context.session_id, "messageID": message_id}}
        for message_id, message in view.messages.items()
        if (turn := view.turn_of.get(message_id)) is not None and turn.start >= done.start
    ]
    hub.announce(session.id, removed)
    await _updated(hub, settings, session)


def _status_of(server: dict[str, Any]) -> dict[str, Any]:
    status = MCP_STATUS.get(str(server.get("status")))
    if status is None:
        return {"status": "failed", "error": str(server.get("error") or server.get("status") or "unknown")}
    if status == "failed":
        return {"status": "failed", "error": str(server.get("error") or "failed")}
    return {"status": status}


async def _servers_of(session: Session) -> list[dict[str, Any]]:
    try:
        async with asyncio.timeout(MCP_TIMEOUT):
            return await session.mcp_status()
    except (SessionError, TimeoutError) as exc:
        log.debug("MCP status of %s: %s", session.id, exc)
        return []


@router.get("/mcp")
async def mcp(manager: ManagerDep, directory: DirectoryDep) -> dict[str, Any]:
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
    found: dict[str, Any] = {}
    for servers in await asyncio.gather(*(_servers_of(s) for s in sessions)):
        for server in servers:
            name = str(server.get("name") or "")
            if name and (name not in found or found[name]["status"] != "connected"):
                found[name] = _status_of(server)
    return found
