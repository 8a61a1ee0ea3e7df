"""Controlling a conversation: fork a session, cancel a queued message, rewind the agent's file changes."""

from __future__ import annotations

from claude_agent_protocol import ForkedSession, ForkPointView, ForkSession

from fastapi import APIRouter, status

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
