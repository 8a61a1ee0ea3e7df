"""How every API shows a session it has just created, and a session's status: the wire
contract's :class:`~claude_agent_protocol.CreatedSession` and :class:`~claude_agent_protocol.SessionStatusView`."""

from __future__ import annotations

from claude_agent_protocol import CreatedSession, PermissionRequestView, QueuedMessage, SessionStatusView

from ..sessions import Session

__all__ = ["created", "status_view"]


def created(session: Session, resumed: bool = False) -> CreatedSession:
    """The reply to a create: ``{session_id, created_at, status, model, cwd, permission_mode, origin, resumed}``."""
    entry = session.snapshot()
    return CreatedSession(
        session_id=session.id,
        created_at=entry["created_at"],
        status="connected",
        model=session.model,
        cwd=session.cwd,
        permission_mode=session.permission_mode,
        origin=entry["origin"],
        resumed=resumed,
    )


def status_view(session: Session) -> SessionStatusView:
    """What the session does now (``GET /sessions/{id}/status``, the first frame of its event stream)."""
    pending = [PermissionRequestView.model_validate(p.to_dict()) for p in session.permissions.pending()]
    return SessionStatusView(
        session_id=session.id,
        status=session.status,
        pending_permission=pending[0] if pending else None,
        pending_permissions=pending,
        current_model=session.model,
        permission_mode=session.permission_mode,
        last_event_id=session.events.last_id,
        turn_event_id=session.turn_event_id,
        cwd=session.cwd,
        node=session.node,
        queued=[QueuedMessage.model_validate(item) for item in session.queued],
        forked_from=session.record.spec.get("forked_from"),
    )
