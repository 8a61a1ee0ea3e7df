"""Session resources: create, list, inspect, reconfigure, interrupt and close."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from ..sessions import Session
from ..web.deps import ManagerDep, SessionDep
from .schemas import MAX_OFFSET, CreateSession, SessionStatusName, SetModel, SetPermissionMode

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
async def create_session(body: CreateSession, manager: ManagerDep) -> dict[str, Any]:
    """Start a session (or resume one with ``resume_session_id``, also a closed one);
    waits until its CLI is connected. At the live cap the least recently used idle
    session is hibernated to make room.

    Errors: 400 bad id or cwd, 404 no such transcript, 409 the registry already
    holds it (live or hibernated: send messages to it directly), 502 the CLI failed
    to start (with its reason), 503 + ``Retry-After`` every live session is busy
    or the server is shutting down.
    """
    session = await manager.create(**body.model_dump())
    return {**created(session), "resumed": body.resume_session_id is not None}


def created(session: Session) -> dict[str, Any]:
    """The reply to a create: ``{session_id, created_at, status, model, cwd, permission_mode, origin}``."""
    entry = session.snapshot()
    return {
        "session_id": session.id,
        "created_at": entry["created_at"],
        "status": "connected",
        "model": session.model,
        "cwd": session.cwd,
        "permission_mode": session.permission_mode,
        "origin": entry["origin"],
    }


@router.get("")
async def list_sessions(
    manager: ManagerDep,
    status: Annotated[SessionStatusName | None, Query(description="Only sessions with this status.")] = None,
    cwd: Annotated[str | None, Query(description="Only sessions of this directory (inside the workspace).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """The registry: live and hibernated sessions, newest activity first:
    ``{sessions:[{session_id, created_at, last_activity, title, status, state, turns,
    cost_usd, input_tokens, output_tokens, cwd, model, permission_mode}], counts:{live, hibernated, warm}}``.
    Closed sessions are not listed (their transcripts are, in ``/sessions/available``)."""
    return {"sessions": await manager.list(status, cwd, limit, offset), "counts": await manager.counts()}


@router.get("/available")
async def available_sessions(
    manager: ManagerDep,
    cwd: Annotated[str | None, Query(description="Only this project directory.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Transcripts on disk inside the workspace, newest first:
    ``{sessions:[{session_id, modified, preview, project, cwd, live, state}]}`` (``state``:
    the registry's live/hibernated/closed, or null for a transcript it does not know)."""
    return {"sessions": await manager.available(cwd, limit, offset)}


@router.get("/{session_id}/status")
async def session_status(session: SessionDep) -> dict[str, Any]:
    """Status (``hibernated`` for a session without a process; asking does not wake it),
    pending permission requests (oldest first), model and permission mode."""
    return status_view(session)


@router.post("/{session_id}/hibernate")
async def hibernate_session(session: SessionDep) -> dict[str, Any]:
    """Stop the session's CLI now; the session stays listed and its next message wakes it.
    409 while a turn runs or a permission request waits."""
    was_live = await session.hibernate()
    return {"status": "hibernated", "session_id": session.id, "was_live": was_live}


@router.get("/{session_id}/history")
async def session_history(session_id: str, manager: ManagerDep) -> dict[str, Any]:
    """The transcript's messages (SDK ``get_session_messages``), live or closed sessions alike."""
    return {"session_id": session_id, "messages": await manager.history(session_id)}


@router.post("/{session_id}/interrupt")
async def interrupt_session(session: SessionDep) -> dict[str, Any]:
    """Stop the running turn (pending permissions are denied); the session stays usable.
    A hibernated session has no turn to stop (``was_running: false``)."""
    was_running = await session.interrupt()
    return {"status": "interrupted", "was_running": was_running}


@router.post("/{session_id}/model")
async def set_model(body: SetModel, session: SessionDep) -> dict[str, Any]:
    """Switch the model for the following requests (null: the default); wakes a hibernated session."""
    await session.set_model(body.model)
    return {"status": "ok", "model": body.model}


@router.post("/{session_id}/permission_mode")
async def set_permission_mode(body: SetPermissionMode, session: SessionDep) -> dict[str, Any]:
    """Switch the permission mode (wakes a hibernated session); 422 for a mode the SDK does not know."""
    await session.set_permission_mode(body.mode)
    return {"status": "ok", "mode": body.mode}


@router.get("/{session_id}/server_info")
async def server_info(session: SessionDep) -> dict[str, Any]:
    """The CLI's initialization info: commands, output styles, models, ... (wakes a hibernated session)."""
    return await session.server_info()


@router.delete("/{session_id}")
async def close_session(session_id: str, manager: ManagerDep) -> dict[str, Any]:
    """Close a session for good: it leaves ``GET /sessions`` and answers 404 at once; its
    CLI stops in the background (a running turn ends with an ``error`` event). Its transcript
    stays, listed by ``/sessions/available``, and ``resume_session_id`` revives it."""
    await manager.close(session_id, wait=False)
    return {"status": "closed", "session_id": session_id}
