"""Controlling a conversation: fork a session, cancel a queued message, rewind the agent's file
changes, and the session's MCP servers."""

from __future__ import annotations

from typing import Annotated

from claude_agent_protocol import McpAck, McpStatus, McpToggle
from claude_agent_protocol import ForkedSession, ForkPointView, ForkSession, QueueCancelReply, RewindFiles, RewindReply

from fastapi import APIRouter, Path, status

from ..sessions.forking import fork
from ..web.deps import ManagerDep, SessionDep
from ..web.responses import server_errors

router = APIRouter(prefix="/sessions", tags=["conversation"])


@router.post("/{session_id}/fork", status_code=status.HTTP_201_CREATED, responses=server_errors(404, 409, 502, 503, body=True))
async def fork_session(body: ForkSession, session: SessionDep, manager: ManagerDep) -> ForkedSession:
    """A new session (same spec: model, mode, cwd, tools, ...) whose history is this one's up to
    and including ``at_message_id`` (a transcript message uuid; default: all of it). The original
    is untouched; both go on independently. While a turn runs, the fork takes the last completed
    state. 404 for a message the transcript does not hold (or a session that has no transcript
    yet); 409 while its very first turn runs."""
    child, point = await fork(manager, session, body.at_message_id, body.title)
    return ForkedSession(session_id=child.id, forked_from=ForkPointView(**point.to_json()))


QueueIdPath = Annotated[str, Path(max_length=100, pattern="^q_[0-9a-f]{16}$", description="A queued message's id (``/status``'s ``queued``).")]


@router.delete("/{session_id}/queue/{queue_id}", responses=server_errors(404, 503))
async def cancel_queued(queue_id: QueueIdPath, session: SessionDep) -> QueueCancelReply:
    """Cancel a queued message (it never runs; the request that sent it answers 409). 404 when no
    queued message has that id (it may be running already)."""
    session.cancel_queued(queue_id)
    return QueueCancelReply(queue_id=queue_id)


@router.post("/{session_id}/rewind", responses=server_errors(400, 404, 409, 502, 503, body=True))
async def rewind(body: RewindFiles, session: SessionDep) -> RewindReply:
    """Restore every file the agent changed since the user message ``message_id`` (a transcript
    uuid, ``/history``) to its state before it (the SDK's file checkpointing; wakes a hibernated
    session). With ``conversation: true`` the conversation is also cut back to before that message:
    the session hibernates and its next turn continues from there. 409 while a turn runs, or when
    the CLI has no checkpoint for it (checkpointing off, ``--no-file-checkpointing``); 404 for a
    message that is not a prompt of the transcript."""
    files = await session.rewind(body.message_id, body.conversation)
    return RewindReply(message_id=body.message_id, files=files, conversation=body.conversation)


McpNamePath = Annotated[str, Path(pattern="^[A-Za-z0-9_-]{1,64}$", description="An MCP server's name.")]


@router.get("/{session_id}/mcp", responses=server_errors(404, 409, 502, 503))
async def mcp_status(session: SessionDep) -> McpStatus:
    """The session's MCP servers as its CLI reports them (``get_mcp_status``): name, status
    (connected, failed, pending, disabled, ...), error, tools; wakes a hibernated session."""
    return McpStatus.model_validate({"servers": await session.mcp_status()})


@router.post("/{session_id}/mcp/{name}/reconnect", responses=server_errors(404, 409, 502, 503))
async def mcp_reconnect(name: McpNamePath, session: SessionDep) -> McpAck:
    """Reconnect a failed or disconnected MCP server; 409 for a server the session does not have."""
    await session.mcp_reconnect(name)
    return McpAck(name=name)


@router.post("/{session_id}/mcp/{name}/toggle", responses=server_errors(404, 409, 502, 503, body=True))
async def mcp_toggle(name: McpNamePath, body: McpToggle, session: SessionDep) -> McpAck:
    """Enable or disable an MCP server (``{enabled}``); 409 for a server the session does not have."""
    await session.mcp_toggle(name, body.enabled)
    return McpAck(name=name, enabled=body.enabled)
