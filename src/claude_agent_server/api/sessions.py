"""Session resources: create, list, inspect, reconfigure, interrupt and close."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from ..sessions import Session
from .deps import ManagerDep, SessionDep, model_route
from .schemas import CreateSession, SetModel, SetPermissionMode

router = APIRouter(prefix="/sessions", tags=["sessions"])


def status_view(session: Session) -> dict[str, Any]:
    pending = [p.to_dict() for p in session.permissions.pending()]
    return {
        "session_id": session.id,
        "status": session.status,
        "pending_permission": pending[0] if pending else None,
        "pending_permissions": pending,
        "current_model": session.model,
        "permission_mode": session.permission_mode,
        "last_event_id": session.events.last_id,
        "cwd": session.cwd,
    }


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_session(body: CreateSession, request: Request, manager: ManagerDep) -> dict[str, Any]:
    """Start a session (or resume one with ``resume_session_id``); waits until its CLI is connected.

    Errors: 400 bad id or cwd, 404 no such transcript, 409 already live,
    502 the CLI failed to start (with its reason), 503 too many sessions.
    """
    fields = body.model_dump(exclude={"enable_proxy", "background_model"})
    session = await manager.create(**fields, route=model_route(request, body.enable_proxy, body.background_model))
    return {
        "session_id": session.id,
        "created_at": session.created_at,
        "status": "connected",
        "model": session.model,
        "cwd": session.cwd,
        "permission_mode": session.permission_mode,
        "resumed": body.resume_session_id is not None,
    }


@router.get("")
async def list_sessions(manager: ManagerDep) -> dict[str, Any]:
    """Live sessions: ``{sessions:[{session_id, created_at, last_activity, status, message_count, cwd, model}]}``."""
    return {"sessions": [s.snapshot() for s in manager.sessions()]}


@router.get("/available")
async def available_sessions(
    manager: ManagerDep,
    cwd: Annotated[str | None, Query(description="Only this project directory.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Transcripts on disk inside the workspace, newest first: ``{sessions:[{session_id, modified, preview, project, cwd, live}]}``."""
    return {"sessions": await manager.available(cwd, limit, offset)}


@router.get("/{session_id}/status")
async def session_status(session: SessionDep) -> dict[str, Any]:
    """Status, pending permission requests (oldest first), model and permission mode."""
    return status_view(session)


@router.get("/{session_id}/history")
async def session_history(session_id: str, manager: ManagerDep) -> dict[str, Any]:
    """The transcript's messages (SDK ``get_session_messages``), live or closed sessions alike."""
    return {"session_id": session_id, "messages": await manager.history(session_id)}


@router.post("/{session_id}/interrupt")
async def interrupt_session(session: SessionDep) -> dict[str, Any]:
    """Stop the running turn (pending permissions are denied); the session stays usable."""
    was_running = await session.interrupt()
    return {"status": "interrupted", "was_running": was_running}


@router.post("/{session_id}/model")
async def set_model(body: SetModel, session: SessionDep) -> dict[str, Any]:
    """Switch the model for the following requests (null: the default)."""
    await session.set_model(body.model)
    return {"status": "ok", "model": body.model}


@router.post("/{session_id}/permission_mode")
async def set_permission_mode(body: SetPermissionMode, session: SessionDep) -> dict[str, Any]:
    """Switch the permission mode; 422 for a mode the SDK does not know."""
    await session.set_permission_mode(body.mode)
    return {"status": "ok", "mode": body.mode}


@router.get("/{session_id}/server_info")
async def server_info(session: SessionDep) -> dict[str, Any]:
    """The CLI's initialization info: commands, output styles, models, ..."""
    return await session.server_info()


@router.delete("/{session_id}")
async def close_session(session_id: str, manager: ManagerDep) -> dict[str, Any]:
    """Close a live session; its transcript stays, listed by ``/sessions/available`` for resume."""
    await manager.close(session_id)
    return {"status": "closed", "session_id": session_id}
