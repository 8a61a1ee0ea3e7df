"""Event streams (SSE) with ``Last-Event-ID`` replay, across hibernation and restarts:
``GET /sessions/{id}/events`` (one session) and ``GET /events`` (the whole server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from .deps import ManagerDep, SessionDep, SettingsDep
from .sessions import status_view
from .sse import event_stream, frame, snapshot_frame

router = APIRouter(tags=["events"])

LastEventId = Annotated[int | None, Header(ge=0)]
After = Annotated[int | None, Query(ge=0, description="Same as Last-Event-ID, for clients that cannot set headers.")]


@router.get("/sessions/{session_id}/events", response_class=EventSourceResponse)
async def session_events(session: SessionDep, settings: SettingsDep, last_event_id: LastEventId = None, after: After = None) -> EventSourceResponse:
    """Subscribe to one session: first a ``status`` snapshot (no id), then the events
    with an id greater than ``Last-Event-ID`` (without it: none), then live events, with
    heartbeat comments. Hibernation does not end the stream; closing the session does.
    """
    cursor = last_event_id if last_event_id is not None else after
    start = session.events.last_id if cursor is None else cursor

    async def frames() -> AsyncIterator[ServerSentEvent]:
        yield snapshot_frame(status_view(session))
        async for event in session.events.subscribe(after=start):
            yield frame(event)

    return event_stream(frames(), settings.heartbeat_interval)


@router.get("/events", response_class=EventSourceResponse)
async def server_events(manager: ManagerDep, settings: SettingsDep, last_event_id: LastEventId = None, after: After = None) -> EventSourceResponse:
    """Subscribe to the whole server: first a ``snapshot`` frame (no id) with
    ``{live, hibernated}`` session counts, then every session's events (each with its
    ``session_id``; ``status`` excepted) and the lifecycle events ``session_created``,
    ``session_status`` (``status``, ``state``) and ``session_deleted``, with ids that
    increase across restarts; ``Last-Event-ID`` replays what followed that id.
    """
    cursor = last_event_id if last_event_id is not None else after
    start = manager.events.last_id if cursor is None else cursor
    counts = await manager.counts()

    async def frames() -> AsyncIterator[ServerSentEvent]:
        yield snapshot_frame({"sessions": counts, "last_event_id": manager.events.last_id}, event="snapshot")
        async for event in manager.events.subscribe(after=start):
            yield frame(event)

    return event_stream(frames(), settings.heartbeat_interval)
