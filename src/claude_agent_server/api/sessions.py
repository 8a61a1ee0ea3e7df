"""Session resources: create, list, inspect, reconfigure, interrupt and close."""

from __future__ import annotations

from typing import Annotated, Any

from claude_agent_protocol import (
    AvailableSessions,
    CloseReply,
    CreatedSession,
    HibernateReply,
    InterruptReply,
    ModelReply,
    PermissionModeReply,
    SessionHistory,
    SessionList,
    SessionStatusView,
)

from fastapi import APIRouter, HTTPException, Query, status

from ..sessions import SessionRequest
from ..web.deps import ManagerDep, SessionDep, SessionIdPath
from ..web.responses import server_errors
from ..web.validation import MAX_OFFSET, ListedStatusName
from ..web.views import created, status_view
from .schemas import CreateSession, SetModel, SetPermissionMode

router = APIRouter(prefix="/sessions", tags=["sessions"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=server_errors(404, 409, 413, 502, 503, body=True))
async def create_session(body: CreateSession, manager: ManagerDep) -> CreatedSession:
    """Start a session (or resume one with ``resume_session_id``, also a closed one);
    waits until its CLI is connected. At the live cap the least recently used idle
    session is hibernated to make room.

    Errors: 400 bad id or cwd, 404 no such transcript, 409 the registry already
    holds it (live or hibernated: send messages to it directly), 502 the CLI failed
    to start (with its reason), 503 + ``Retry-After`` every live session is busy
    or the server is shutting down.
    """
    session = await manager.create(SessionRequest(**body.model_dump()))
    return created(session, resumed=body.resume_session_id is not None)


@router.get("", responses=server_errors(400, 503))
async def list_sessions(
    manager: ManagerDep,
    status: Annotated[ListedStatusName | None, Query(description="Only sessions with this status.")] = None,
    cwd: Annotated[str | None, Query(description="Only sessions of this directory (inside the workspace).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    owner: Annotated[
        str | None, Query(max_length=128, description="Only this user's sessions (admins and viewers; a member's list is always their own).")
    ] = None,
) -> SessionList:
    """The registry: live and hibernated sessions, newest activity first:
    ``{sessions:[{session_id, created_at, last_activity, title, status, state, turns,
    cost_usd, input_tokens, output_tokens, cwd, model, permission_mode, origin, node, forked_from, owner}],
    counts:{live, hibernated, warm}}``. Closed sessions are not listed (their transcripts are, in
    ``/sessions/available``)."""
    entries = await manager.list(status, cwd, limit, offset, owner=owner)
    return SessionList.model_validate({"sessions": entries, "counts": await manager.counts()})


@router.get("/available", responses=server_errors(400, 503))
async def available_sessions(
    manager: ManagerDep,
    cwd: Annotated[str | None, Query(description="Only this project directory.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AvailableSessions:
    """Transcripts on disk inside the workspace, newest first:
    ``{sessions:[{session_id, modified, preview, project, cwd, live, state}]}`` (``state``:
    the registry's live/hibernated/closed, or null for a transcript it does not know)."""
    return AvailableSessions.model_validate({"sessions": await manager.available(cwd, limit, offset)})


@router.api_route("/available", methods=["DELETE", "PATCH", "POST", "PUT"], include_in_schema=False)
async def available_other_methods() -> None:
    """405 for another method on ``/sessions/available`` (without this route, ``DELETE`` would
    reach ``DELETE /sessions/{session_id}`` and answer 400 for the id ``available``)."""
    raise HTTPException(status.HTTP_405_METHOD_NOT_ALLOWED, headers={"Allow": "GET"})


@router.get("/{session_id}/status", responses=server_errors(404, 503))
async def session_status(session: SessionDep) -> SessionStatusView:
    """Status (``hibernated`` for a session without a process; asking does not wake it),
    pending permission requests (oldest first), model and permission mode."""
    return status_view(session)


@router.post("/{session_id}/hibernate", responses=server_errors(404, 409, 503))
async def hibernate_session(session: SessionDep) -> HibernateReply:
    """Stop the session's CLI now; the session stays listed and its next message wakes it.
    409 while a turn runs or a permission request waits."""
    was_live = await session.hibernate()
    return HibernateReply(session_id=session.id, was_live=was_live)


@router.get("/{session_id}/history", responses=server_errors(404, 503))
async def session_history(session_id: SessionIdPath, manager: ManagerDep) -> SessionHistory:
    """The transcript's messages, from the registry's transcript store (SDK ``get_session_messages_from_store``),
    live or closed sessions alike."""
    return SessionHistory.model_validate({"session_id": session_id, "messages": await manager.history(session_id)})


@router.post("/{session_id}/interrupt", responses=server_errors(404, 503))
async def interrupt_session(session: SessionDep) -> InterruptReply:
    """Stop the running turn (pending permissions are denied); the session stays usable.
    A hibernated session has no turn to stop (``was_running: false``)."""
    was_running = await session.interrupt()
    return InterruptReply(was_running=was_running)


@router.post("/{session_id}/model", responses=server_errors(404, 409, 502, 503, body=True))
async def set_model(body: SetModel, session: SessionDep) -> ModelReply:
    """Switch the model for the following requests (null: the default); wakes a hibernated session."""
    await session.set_model(body.model)
    return ModelReply(model=body.model)


@router.post("/{session_id}/permission_mode", responses=server_errors(404, 409, 502, 503, body=True))
async def set_permission_mode(body: SetPermissionMode, session: SessionDep) -> PermissionModeReply:
    """Switch the permission mode (wakes a hibernated session); 422 for a mode the SDK does not know."""
    await session.set_permission_mode(body.mode)
    return PermissionModeReply(mode=body.mode)


@router.get("/{session_id}/server_info", responses=server_errors(404, 409, 502, 503))
async def server_info(session: SessionDep) -> dict[str, Any]:
    """The CLI's initialization info: commands, output styles, models, ... (wakes a hibernated session)."""
    return await session.server_info()


@router.delete("/{session_id}", responses=server_errors(404, 503))
async def close_session(session_id: SessionIdPath, manager: ManagerDep) -> CloseReply:
    """Close a session for good: it leaves ``GET /sessions`` and answers 404 at once; its
    CLI stops in the background (a running turn ends with an ``error`` event). Its transcript
    stays, listed by ``/sessions/available``, and ``resume_session_id`` revives it."""
    await manager.close(session_id, wait=False)
    return CloseReply(session_id=session_id)
