"""``/session/{id}/revert`` and ``/session/{id}/unrevert`` (see :mod:`..revert`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ...sessions import Session
from .. import revert as reverting
from ..deps import HubDep, ManagerDep, SessionDep, SettingsDep
from ..errors import ERRORS, OpenCodeRoute
from ..hub import Hub
from ..protocol import RevertBody, SessionInfo, dump
from ..views import conversation, entry_of, session_info

router = APIRouter(route_class=OpenCodeRoute, tags=["opencode"], responses=ERRORS)


async def _updated(hub: Hub, settings: Any, session: Session) -> SessionInfo:
    """The session's ``Session``, announced to event subscribers as ``session.updated``."""
    info = await session_info(hub, settings, await entry_of(hub, session.id))
    hub.announce(session.id, [{"type": "session.updated", "properties": {"sessionID": info.id, "info": dump(info)}}])
    return info


@router.post("/session/{session_id}/revert", response_model_exclude_none=True)
async def revert(body: RevertBody, session: SessionDep, manager: ManagerDep, hub: HubDep, settings: SettingsDep) -> SessionInfo:
    """Revert the turn of ``messageID`` (or of ``partID``'s message) and every later one: the
    ``Session`` with its ``revert``. With ``--file-checkpointing`` the files the agent changed
    since are restored (``unrevert`` puts them back); without it the revert is
    conversation-only. 409 while a turn runs; 400 for the first turn."""
    view = await conversation(hub, settings, await entry_of(hub, session.id))
    transcript = await manager.transcripts.messages(session.id, session.spec.cwd)
    await reverting.revert(hub.reverts, session, view, transcript, body.message_id, body.part_id, manager.config.file_checkpointing)
    return await _updated(hub, settings, session)


@router.post("/session/{session_id}/unrevert", response_model_exclude_none=True)
async def unrevert(session: SessionDep, hub: HubDep, settings: SettingsDep) -> SessionInfo:
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
