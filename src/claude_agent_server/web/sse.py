"""Session events as Server-Sent Events frames (sse-starlette does the encoding).

Every SSE response of the server ends its lines with LF only (:data:`SEPARATOR`):
sse-starlette's default is CRLF, which the SSE specification allows but some clients
do not read (``@opencode-ai/sdk``'s default client splits frames on ``"\n\n"`` and
never yields one; OpenCode's own server sends LF). Build frames with :class:`Frame`
and responses with :class:`EventSource` (or :func:`event_stream`); :func:`start_after`
resolves a client's ``Last-Event-ID`` into where its stream resumes. Every SSE response
is counted in the app's ``sse_subscribers`` metric while it is sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import HTTPException, status
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Receive, Scope, Send

from ..sessions import Event, EventLog
from ..store import Registry
from .state import server_state

SEPARATOR = "\n"
"""Line separator of every SSE frame and ping comment."""


class Frame(ServerSentEvent):
    """An SSE frame whose lines end with LF (a plain ``ServerSentEvent`` uses CRLF, even
    in a response made with another separator)."""

    DEFAULT_SEPARATOR = SEPARATOR


class EventSource(EventSourceResponse):
    """An SSE response whose ping comments and dict frames end lines with LF."""

    DEFAULT_SEPARATOR = SEPARATOR


def frame(event: Event) -> ServerSentEvent:
    """``id:`` the event id, ``event:`` its type, ``data:`` its JSON form."""
    return Frame(id=str(event.id), event=event.type, data=event.json())


def snapshot_frame(data: dict[str, Any], event: str = "status") -> ServerSentEvent:
    """A frame without an id (it does not move the client's Last-Event-ID)."""
    return Frame(event=event, data=json.dumps({"type": event, **data}))


class CountedEventSource(EventSource):
    """An SSE response counted as a subscriber of the app it is sent by (if it has metrics)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with server_state(scope["app"]).metrics.sse_subscribed():
            await super().__call__(scope, receive, send)


def event_stream(frames: AsyncIterator[ServerSentEvent], heartbeat: float, shutdown_grace: float = 0) -> EventSourceResponse:
    """An SSE response with heartbeat comments every ``heartbeat`` seconds and no proxy buffering.

    Args:
        shutdown_grace: Seconds the stream may go on after the server begins to stop
            (a turn's stream: until the drained turn ends with its last event); 0 ends
            it at once (subscriptions).
    """
    return CountedEventSource(
        frames,
        ping=max(1, round(heartbeat)),
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"},
        shutdown_grace_period=shutdown_grace,
    )


def start_after(log: EventLog, last_event_id: int | None, after: int | None, registry: Registry | None = None) -> int:
    """Where a subscription starts: after the client's cursor, or after the newest event.

    Raises:
        HTTPException: 400 for a cursor beyond the event clock's bound (from the future:
            no server on this registry has sent it, and later ids might not exceed it).
        RegistryUnavailable: ``registry`` given, the replay needs it and its database is unavailable (503).
    """
    cursor = last_event_id if last_event_id is not None else after
    if cursor is None:
        return log.last_id
    if not log.clock.admit(cursor):
        detail = f"event id {cursor} is ahead of every id this server has sent (its clock is at {log.clock.bound()})"
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail)
    if registry is not None and not log.replays_from_memory(cursor):
        registry.check()
    return cursor
