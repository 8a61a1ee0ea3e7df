"""Session events as Server-Sent Events frames (sse-starlette does the encoding).

Every SSE response is counted in the app's ``sse_subscribers`` metric while it is sent.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Receive, Scope, Send

from ..sessions import Event
from .metrics import app_metrics


def frame(event: Event) -> ServerSentEvent:
    """``id:`` the event id, ``event:`` its type, ``data:`` its JSON form."""
    return ServerSentEvent(id=str(event.id), event=event.type, data=json.dumps(event.to_dict()))


def snapshot_frame(data: dict[str, Any], event: str = "status") -> ServerSentEvent:
    """A frame without an id (it does not move the client's Last-Event-ID)."""
    return ServerSentEvent(event=event, data=json.dumps({"type": event, **data}))


class CountedEventSource(EventSourceResponse):
    """An SSE response counted as a subscriber of the app it is sent by (if it has metrics)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics = app_metrics(scope["app"]) if "app" in scope else None
        with metrics.sse_subscribed() if metrics is not None else contextlib.nullcontext():
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
