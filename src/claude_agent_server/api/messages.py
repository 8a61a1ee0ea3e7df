"""``POST /sessions/{id}/messages``: one turn, as one JSON reply or as SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from claude_agent_protocol import SendMode, TurnReply
from fastapi import APIRouter, Request
from sse_starlette import ServerSentEvent

from ..sessions import Event, Session
from ..sessions.turns import build_reply, turn_events
from ..settings import Settings
from ..web.deps import SessionDep, SettingsDep
from ..web.responses import SSE, server_errors
from ..web.sse import event_stream, frame
from .schemas import SendMessage

router = APIRouter(prefix="/sessions", tags=["messages"])


def wants_stream(request: Request, stream: bool) -> bool:
    return stream or "text/event-stream" in request.headers.get("accept", "")


async def run_turn(session: Session, message: str, stream: bool, settings: Settings, mode: SendMode = "reject") -> Any:
    """Start a turn (409 if one runs, unless ``mode`` queues or steers) and answer with its reply or its event stream.

    A streamed turn outlives the start of a shutdown: the drain ends the turn (at
    most ``shutdown_grace`` seconds, then an interrupt), and its last event reaches the client.
    """
    started = await session.submit(message, mode)
    if stream:

        async def frames() -> AsyncIterator[ServerSentEvent]:
            async for event in turn_events(session, started):
                yield frame(event)

        return event_stream(frames(), settings.heartbeat_interval, shutdown_grace=settings.shutdown_grace + 10)
    events: list[Event] = [event async for event in turn_events(session, started)]
    return build_reply(session.id, events)


@router.post(
    "/{session_id}/messages",
    response_model=TurnReply,
    response_model_exclude_unset=True,  # ``error`` only when the turn ended without a result
    responses={**SSE, **server_errors(404, 409, 413, 502, 503, body=True)},
)
async def send_message(body: SendMessage, request: Request, session: SessionDep, settings: SettingsDep) -> Any:
    """Run one turn. Blocking: ``{session_id, messages, result, cost_usd, num_turns,
    duration_ms, usage, is_error, stop_reason}``. With ``stream: true`` or
    ``Accept: text/event-stream``: the turn's events as SSE, ending with ``result``
    or ``error``. While another turn runs, ``mode`` decides: ``reject`` (the default) is 409;
    ``queue`` waits for the turns before it (listed in ``/status``'s ``queued``; cancel with
    ``DELETE /sessions/{id}/queue/{queue_id}``: the request then answers 409) and answers with its
    own turn; ``steer`` delivers the message into the running turn and answers with that turn.
    """
    return await run_turn(session, body.message, wants_stream(request, body.stream), settings, body.mode)
