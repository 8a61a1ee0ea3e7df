"""Event streams (SSE) with ``Last-Event-ID`` replay, across hibernation and restarts:
``GET /sessions/{id}/events`` (one session) and ``GET /events`` (the whole server).

A cursor resumes when it is no greater than the server's event clock (see
:mod:`claude_agent_server.sessions.events`, "the cursor rule"): any id a server on
this data has sent, stored or not, before a crash or not. A replay that must read
the registry while its database is unavailable is 503 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from ..sessions.tenancy import owner_filter
from ..web.deps import ManagerDep, SessionDep, SettingsDep
from ..web.responses import SSE, server_errors
from ..web.sse import event_stream, frame, snapshot_frame, start_after
from ..web.validation import MAX_EVENT_ID
from ..web.views import status_view

router = APIRouter(tags=["events"])

LastEventId = Annotated[int | None, Header(ge=0, le=MAX_EVENT_ID)]
After = Annotated[int | None, Query(ge=0, le=MAX_EVENT_ID, description="Same as Last-Event-ID, for clients that cannot set headers.")]


@router.get(
    "/sessions/{session_id}/events", response_class=EventSourceResponse, responses={**SSE, **server_errors(404, 503)}
)
async def session_events(
    session: SessionDep, manager: ManagerDep, settings: SettingsDep, last_event_id: LastEventId = None, after: After = None
) -> EventSourceResponse:
    """Subscribe to one session: first a ``status`` snapshot (no id), then the events
    with an id greater than ``Last-Event-ID`` (without it: none), then live events, with
    heartbeat comments. Hibernation does not end the stream; closing the session does.
    A cursor from the future is 400; a replay from the registry while its database is
    unavailable is 503.
    """
    start = start_after(session.events, last_event_id, after, manager.registry)

    async def frames() -> AsyncIterator[ServerSentEvent]:
        yield snapshot_frame(status_view(session).model_dump())
        async for event in session.events.subscribe(after=start):
            yield frame(event)

    return event_stream(frames(), settings.heartbeat_interval)


@router.get("/events", response_class=EventSourceResponse, responses={**SSE, **server_errors(503)})
async def server_events(manager: ManagerDep, settings: SettingsDep, last_event_id: LastEventId = None, after: After = None) -> EventSourceResponse:
    """Subscribe to the whole server: first a ``snapshot`` frame (no id) with
    ``{live, hibernated, warm}`` session counts, then every session's events (each with its
    ``session_id``; ``status`` excepted) and the lifecycle events ``session_created``,
    ``session_status`` (``status``, ``state``) and ``session_deleted``, with ids that
    increase across restarts; ``Last-Event-ID`` replays what followed that id (a
    cursor from the future is 400; a replay from the registry while its database is
    unavailable is 503).
    """
    start = start_after(manager.events, last_event_id, after, manager.registry)
    counts = await manager.counts()
    mine = owner_filter()  # a member's stream holds only their own sessions' events

    async def frames() -> AsyncIterator[ServerSentEvent]:
        yield snapshot_frame({"sessions": counts, "last_event_id": manager.events.last_id}, event="snapshot")
        async for event in manager.events.subscribe(after=start):
            if mine is None or manager.owned_by(event.session_id, mine):
                yield frame(event)

    return event_stream(frames(), settings.heartbeat_interval)
