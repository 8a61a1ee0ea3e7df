"""Permissions: ``GET /permission`` (pending), ``POST /permission/{id}/reply`` and the older
``POST /session/{id}/permissions/{permissionID}``.

``once`` allows the tool call, ``always`` allows it and applies the CLI's suggested
rules (the same call is not asked again), ``reject`` denies it (with ``message``,
if given, as the reason the agent sees). Permission ids are derived from the
request (:func:`~..mapping.permission_id`), so no table is kept.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter

from ...sessions import PermissionDecision, PermissionRequest, Session
from .. import ids
from ..deps import HubDep, ManagerDep, SessionDep
from ..errors import ERRORS, NotFound, OpenCodeRoute
from ...sessions.errors import SessionElsewhere
from ..hub import Hub
from ..mapping import permission_id, permission_request
from ..protocol import LegacyPermissionReply, PermissionReply, Reply

router = APIRouter(route_class=OpenCodeRoute, tags=["opencode"], responses=ERRORS)


async def _waiting(manager: Any) -> list[Session]:
    """Sessions that may hold the request: this node's live ones with an unanswered request (an
    answer may come as soon as its event, before the registry lists the session as waiting)
    and every session the registry lists as waiting."""
    found = {s.id: s for s in manager.live_sessions() if s.permissions.unanswered()}
    for entry in await manager.list(status="waiting_permission", limit=1000):
        if entry["session_id"] not in found:
            with contextlib.suppress(SessionElsewhere):  # its requests wait on another node
                found[entry["session_id"]] = await manager.get(entry["session_id"])
    return list(found.values())


def _find(session: Session, permission: str) -> PermissionRequest | None:
    return next((r for r in session.permissions.unanswered() if permission_id(r.to_dict()) == permission), None)


def _answer(session: Session, request: PermissionRequest, reply: Reply, message: str | None = None) -> bool:
    decision = PermissionDecision(
        allowed=reply != "reject",
        apply_suggestions=reply == "always",
        message=message if reply == "reject" else None,
    )
    session.permissions.respond(request.request_id, decision)
    return True


async def _asked(hub: Hub, session: Session, request: PermissionRequest) -> dict[str, Any]:
    ses_id = await hub.ids.ses_of(session.id, session.snapshot()["created_at"])
    return permission_request(request.to_dict(), ses_id, None)


@router.get("/permission")
async def pending(manager: ManagerDep, hub: HubDep) -> list[dict[str, Any]]:
    """Pending permission requests of every session, as in ``permission.asked``."""
    return [await _asked(hub, session, request) for session in await _waiting(manager) for request in session.permissions.pending()]


@router.post("/permission/{permission_id}/reply")
async def reply(permission_id: str, body: PermissionReply, manager: ManagerDep) -> bool:
    """Answer a pending request (404 ``NotFoundError`` when it is not pending)."""
    if ids.is_valid(permission_id, "per"):
        for session in await _waiting(manager):
            if (request := _find(session, permission_id)) is not None:
                return _answer(session, request, body.reply, body.message)
    raise NotFound(f"permission {permission_id[:100]!r} is not pending (unknown, answered or expired)")


@router.post("/session/{session_id}/permissions/{permission_id}")
async def legacy_reply(permission_id: str, body: LegacyPermissionReply, session: SessionDep) -> bool:
    """The older form of :func:`reply`, for one session."""
    request = _find(session, permission_id) if ids.is_valid(permission_id, "per") else None
    if request is None:
        raise NotFound(f"permission {permission_id[:100]!r} is not pending in this session")
    return _answer(session, request, body.response)
