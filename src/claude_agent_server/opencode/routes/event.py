"""``GET /event`` (frames ``{type, properties}``) and ``GET /global/event`` (frames
``{directory, payload: {type, properties}}``), from the server's global event stream.

First frame ``server.connected`` at once, then ``server.heartbeat`` every
:data:`HEARTBEAT` seconds without events. The frames made from one of our events
share its id; the last of them carries it as ``id:``, so ``Last-Event-ID`` resumes
after it (a cursor ahead of the newest event is 400). Without one, a subscriber
starts before the turns that run or ended within the last seconds
(:meth:`~..hub.Hub.replay_from`): clients may post a prompt before their
event stream is connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from ...api.events import start_after
from ...api.schemas import MAX_EVENT_ID
from ...api.sse import CountedEventSource
from ...sessions import Event
from ..deps import HubDep, ManagerDep, SettingsDep
from ..errors import OpenCodeRoute
from ..hub import Hub
from ..views import Translator

router = APIRouter(route_class=OpenCodeRoute, tags=["opencode"])

HEARTBEAT = 10.0
"""Seconds between ``server.heartbeat`` frames."""
Wrap = Callable[[str, dict[str, Any]], dict[str, Any]]


async def _with_heartbeats(events: AsyncIterator[Event], every: float) -> AsyncIterator[Event | None]:
    """The events, with None after every ``every`` seconds without one."""
    iterator = aiter(events)
    pending: asyncio.Future[Event] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait({pending}, timeout=every)
            if not done:
                yield None
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield event
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending


def _stream(hub: Hub, translator: Translator, start: int, wrap: Wrap) -> EventSourceResponse:
    def sse(directory: str, payload: dict[str, Any], event_id: int | None = None) -> ServerSentEvent:
        return ServerSentEvent(data=json.dumps(wrap(directory, payload)), id=str(event_id) if event_id is not None else None)

    async def frames() -> AsyncIterator[ServerSentEvent]:
        with hub.subscriber(start) as delivered:
            yield sse("global", {"type": "server.connected", "properties": {}})
            async for event in _with_heartbeats(hub.manager.events.subscribe(after=start), HEARTBEAT):
                if event is None:
                    yield sse("global", {"type": "server.heartbeat", "properties": {}})
                    continue
                found = await translator.translate(event)
                directory = translator.directory(event.session_id)
                for index, payload in enumerate(found):
                    yield sse(directory, payload, event.id if index == len(found) - 1 else None)
                delivered(event.id)

    return CountedEventSource(frames(), ping=15, headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"})


def _start(hub: Hub, manager: Any, last_event_id: int | None) -> int:
    if last_event_id is not None:
        return start_after(manager.events, last_event_id, None)
    replay = hub.replay_from()
    return manager.events.last_id if replay is None else min(replay, manager.events.last_id)


LastEventId = Annotated[int | None, Header(ge=0, le=MAX_EVENT_ID)]


@router.get("/event", response_class=EventSourceResponse)
async def events(hub: HubDep, manager: ManagerDep, settings: SettingsDep, last_event_id: LastEventId = None, directory: Annotated[str | None, Query()] = None) -> EventSourceResponse:
    """Bus events as ``{type, properties}`` frames."""
    return _stream(hub, Translator(hub, settings), _start(hub, manager, last_event_id), lambda directory, payload: payload)


@router.get("/global/event", response_class=EventSourceResponse)
async def global_events(hub: HubDep, manager: ManagerDep, settings: SettingsDep, last_event_id: LastEventId = None) -> EventSourceResponse:
    """Bus events as ``{directory, payload}`` frames (``directory``: the session's cwd, or ``global``)."""
    return _stream(hub, Translator(hub, settings), _start(hub, manager, last_event_id), lambda directory, payload: {"directory": directory, "payload": payload})
