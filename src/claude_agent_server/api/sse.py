"""Session events as Server-Sent Events frames (sse-starlette does the encoding).

Every SSE response of the server ends its lines with LF only (:data:`SEPARATOR`):
sse-starlette's default is CRLF, which the SSE specification allows but some clients
do not read (``@opencode-ai/sdk``'s default client splits frames on ``"\n\n"`` and
never yields one; OpenCode's own server sends LF). Build frames with :class:`Frame`
and responses with :class:`EventSource` (or :func:`event_stream`). Every SSE response
is counted in the app's ``sse_subscribers`` metric while it is sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Receive, Scope, Send

from ..sessions import Event
from ..web.state import server_state

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
    return Frame(id=str(event.id), event=event.type, data=json.dumps(event.to_dict()))


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
