"""``/session/{id}/fork`` and ``/session/{id}/children``: OpenCode's branches of a session."""

from __future__ import annotations

from fastapi import APIRouter

from ...sessions.forking import children, fork, fork_before_turn
from ..deps import HubDep, ManagerDep, SessionDep, SettingsDep
from ..errors import ERRORS, NotFound, OpenCodeRoute
from ..protocol import ForkBody, SessionInfo
from ..views import conversation, entry_of, session_info

router = APIRouter(route_class=OpenCodeRoute, tags=["opencode"], responses=ERRORS)


@router.post("/session/{session_id}/fork", response_model_exclude_none=True)
async def fork_session(session: SessionDep, manager: ManagerDep, hub: HubDep, settings: SettingsDep, body: ForkBody | None = None) -> SessionInfo:
    """A new session with the messages before ``messageID`` (all of them without it), as OpenCode
    forks: the turns before the one that message belongs to are kept."""
    if body is None or body.message_id is None:
        child, _ = await fork(manager, session, None, None)
    else:
        found = await conversation(hub, settings, await entry_of(hub, session.id))
        if body.message_id not in found.messages:
            raise NotFound(f"message {body.message_id[:100]!r} not found in session {found.context.session_id}")
        turn = 0
        for message_id, message in found.messages.items():
            if message_id == body.message_id:
                break
            turn += message.info.role == "user"
        child = await fork_before_turn(manager, session, turn - (found.messages[body.message_id].info.role != "user"), None)
    return await session_info(hub, settings, child.snapshot())


@router.get("/session/{session_id}/children", response_model_exclude_none=True)
async def session_children(session: SessionDep, hub: HubDep, settings: SettingsDep) -> list[SessionInfo]:
    """The sessions forked from this one (still open), oldest first."""
    found = []
    for claude_id in await children(hub.manager.registry, session.id):
        record = await hub.manager.registry.get(claude_id)
        if record is not None and record.state != "closed":
            found.append(await session_info(hub, settings, await entry_of(hub, claude_id)))
    return found
