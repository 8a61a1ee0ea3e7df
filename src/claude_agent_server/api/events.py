"""``GET /sessions/{id}/events``: the session's event stream with ``Last-Event-ID`` replay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from .deps import SessionDep, SettingsDep
from .sessions import status_view
from .sse import event_stream, frame, snapshot_frame

router = APIRouter(prefix="/sessions", tags=["events"])


@router.get("/{session_id}/events", response_class=EventSourceResponse)
async def session_events(
    session: SessionDep,
    settings: SettingsDep,
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
    after: Annotated[int | None, Query(ge=0, description="Same as Last-Event-ID, for clients that cannot set headers.")] = None,
) -> EventSourceResponse:
    """Subscribe: first a ``status`` snapshot (no id), then the buffered events with
    an id greater than ``Last-Event-ID`` (without it: none), then live events, with
    heartbeat comments. Ends when the session closes.
    """
    cursor = last_event_id if last_event_id is not None else after
    start = session.events.last_id if cursor is None else cursor

    async def frames() -> AsyncIterator[ServerSentEvent]:
        yield snapshot_frame(status_view(session))
        async for event in session.events.subscribe(after=start):
            yield frame(event)

    return event_stream(frames(), settings.heartbeat_interval)
