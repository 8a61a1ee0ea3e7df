"""``POST /sessions/{id}/permissions/respond``: a human answers a permission request."""

from __future__ import annotations

from claude_agent_protocol import PermissionAck
from fastapi import APIRouter

from ..sessions import PermissionDecision
from ..web.deps import SessionDep
from ..web.responses import server_errors
from .schemas import PermissionAnswer

router = APIRouter(prefix="/sessions", tags=["permissions"])


@router.post("/{session_id}/permissions/respond", responses=server_errors(404, 503, body=True))
async def respond(body: PermissionAnswer, session: SessionDep) -> PermissionAck:
    """Allow or deny a pending request; 404 when the id is unknown, answered or expired.

    ``apply_suggestions`` also applies the CLI's suggested permission updates
    (e.g. an ``addRules`` allow rule), so the same call is not asked again.
    """
    decision = PermissionDecision(
        allowed=body.allowed,
        apply_suggestions=body.apply_suggestions,
        message=body.message,
        updated_input=body.updated_input,
    )
    session.permissions.respond(body.request_id, decision)
    return PermissionAck(request_id=body.request_id, allowed=body.allowed)
