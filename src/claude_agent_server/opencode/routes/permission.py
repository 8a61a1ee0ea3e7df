"""Permissions: ``GET /permission`` (pending), ``POST /permission/{id}/reply`` and the older
``POST /session/{id}/permissions/{permissionID}``.

``once`` allows the tool call, ``always`` allows it and applies the CLI's suggested
rules (the same call is not asked again), ``reject`` denies it (with ``message``,
if given, as the reason the agent sees). Permission ids are derived from the
request (:func:`~..mapping.permission_id`), so no table is kept.

Any node answers for the whole cluster: the requests of a session whose CLI runs on another
node are read from the registry, where each pending request of a session's main agent is
written before it is listed (``store/parked.py``), and a reply to one of them is forwarded
to that node (:class:`SessionElsewhere`), which answers it as its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from ...sessions import PermissionDecision, PermissionRequest, Session
from ...sessions.permissions import ParkedRequest
from .. import ids
from ..deps import HubDep, ManagerDep, SessionDep
from ..errors import ERRORS, NotFound, OpenCodeRoute
from ...sessions.errors import SessionElsewhere
from ..hub import Hub
from ..mapping import permission_id, permission_request
from ..protocol import LegacyPermissionReply, PermissionReply, PermissionRequest as AskedPermission, Reply

router = APIRouter(route_class=OpenCodeRoute, tags=["opencode"], responses=ERRORS)


@dataclass(slots=True)
class _Waiting:
    """Sessions that may hold a pending request: ``here`` (this node runs or holds them) and
    ``elsewhere`` (live on another node: their requests as the registry has them)."""

    here: list[Session] = field(default_factory=list)
    elsewhere: list[tuple[SessionElsewhere, str, list[ParkedRequest]]] = field(default_factory=list)
    """``(where it lives, its created_at, its unanswered requests)``."""


async def _waiting(manager: Any) -> _Waiting:
    """This node's live sessions with an unanswered request (an answer may come as soon as its
    event, before the registry lists the session as waiting) and every session the registry
    lists as waiting, on this node or another."""
    found = {s.id: s for s in manager.live_sessions() if s.permissions.unanswered()}
    waiting = _Waiting()
    for entry in await manager.list(status="waiting_permission", limit=1000):
        if entry["session_id"] not in found:
            try:
                found[entry["session_id"]] = await manager.get(entry["session_id"])
            except SessionElsewhere as where:
                waiting.elsewhere.append((where, entry["created_at"], await manager.requests_elsewhere(where.session_id)))
    waiting.here = list(found.values())
    return waiting


def _find(requests: list[PermissionRequest | ParkedRequest], permission: str) -> PermissionRequest | ParkedRequest | None:
    return next((r for r in requests if permission_id(r.to_dict()) == permission), None)


def _answer(session: Session, request: PermissionRequest | ParkedRequest, reply: Reply, message: str | None = None) -> bool:
    decision = PermissionDecision(
        allowed=reply != "reject",
        apply_suggestions=reply == "always",
        message=message if reply == "reject" else None,
    )
    session.permissions.respond(request.request_id, decision)
    return True


async def _asked(hub: Hub, session_id: str, created_at: Any, request: PermissionRequest | ParkedRequest) -> AskedPermission:
    return permission_request(request.to_dict(), await hub.ids.ses_of(session_id, created_at), None)


@router.get("/permission", response_model_exclude_none=True)
async def pending(manager: ManagerDep, hub: HubDep) -> list[AskedPermission]:
    """Pending permission requests of every session on every node, as in ``permission.asked``."""
    waiting = await _waiting(manager)
    asked = [await _asked(hub, s.id, s.snapshot()["created_at"], r) for s in waiting.here for r in s.permissions.pending()]
    return asked + [await _asked(hub, where.session_id, created, r) for where, created, requests in waiting.elsewhere for r in requests]


@router.post("/permission/{permission_id}/reply")
async def reply(permission_id: str, body: PermissionReply, manager: ManagerDep) -> bool:
    """Answer a pending request (404 ``NotFoundError`` when it is not pending); one waiting on
    another node is forwarded there."""
    if ids.is_valid(permission_id, "per"):
        waiting = await _waiting(manager)
        for session in waiting.here:
            if (request := _find(session.permissions.unanswered(), permission_id)) is not None:
                return _answer(session, request, body.reply, body.message)
        for where, _, requests in waiting.elsewhere:
            if _find(requests, permission_id) is not None:
                raise where
    raise NotFound(f"permission {permission_id[:100]!r} is not pending (unknown, answered or expired)")


@router.post("/session/{session_id}/permissions/{permission_id}")
async def legacy_reply(permission_id: str, body: LegacyPermissionReply, session: SessionDep) -> bool:
    """The older form of :func:`reply`, for one session."""
    request = _find(session.permissions.unanswered(), permission_id) if ids.is_valid(permission_id, "per") else None
    if request is None:
        raise NotFound(f"permission {permission_id[:100]!r} is not pending in this session")
    return _answer(session, request, body.response)
