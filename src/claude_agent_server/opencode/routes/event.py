"""``GET /event`` (frames ``{type, properties}``) and ``GET /global/event`` (frames
``{directory, payload: {type, properties}}``), from the server's global event stream.

First frame ``server.connected`` at once, then ``server.heartbeat`` every
:data:`HEARTBEAT` seconds without events. The frames made from one of our events
share its id; the last of them carries it as ``id:``, so ``Last-Event-ID`` resumes
after it (a cursor ahead of the newest event is 400). Without one, a subscriber gets
the open turns from their start (those that run, or whose ``POST
/session/{id}/message`` has not been answered: clients may post a prompt before their
event stream is connected), then live events; never a turn that is over
(:meth:`~..hub.Hub.subscribe`). Frames end lines with LF only (``api/sse.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from starlette.types import Receive, Scope, Send

from ...web.responses import SSE
from ...sessions.tenancy import owner_filter
from ...web.validation import MAX_EVENT_ID
from ...web.sse import CountedEventSource, Frame, start_after
from ...sessions import Event
from ..deps import HubDep, ManagerDep, SettingsDep
from ..errors import ERRORS, OpenCodeRoute
from ..hub import Hub, Subscription
from ..views import Translator

router = APIRouter(route_class=OpenCodeRoute, tags=["opencode"], responses=ERRORS)

HEARTBEAT = 10.0
"""Seconds between ``server.heartbeat`` frames."""
Wrap = Callable[[str, dict[str, Any]], dict[str, Any]]


class Notice(NamedTuple):
    """An OpenCode event the adapter announces itself (:meth:`~..hub.Hub.announce`)."""

    session_id: str
    payload: dict[str, Any]


async def _with_heartbeats(events: AsyncIterator[Event], every: float, notices: asyncio.Queue[Notice] | None = None) -> AsyncIterator[Event | Notice | None]:
    """The events and ``notices``, with None after every ``every`` seconds without either."""
    iterator = aiter(events)
    pending: asyncio.Future[Event] | None = None
    noticed: asyncio.Future[Notice] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            if noticed is None and notices is not None:
                noticed = asyncio.ensure_future(notices.get())
            waiting = {pending} | ({noticed} if noticed is not None else set())
            done, _ = await asyncio.wait(waiting, timeout=every, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                yield None
                continue
            if noticed is not None and noticed in done:
                notice, noticed = Notice(*noticed.result()), None
                yield notice
                if pending not in done:
                    continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield event
    finally:
        for left in (pending, noticed):
            if left is not None:
                left.cancel()
                with contextlib.suppress(BaseException):
                    await left


class _Subscribed(CountedEventSource):
    """The stream of one subscription, which ends with the response however it ends."""

    def __init__(self, hub: Hub, subscription: Subscription, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hub, self._subscription = hub, subscription

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._hub.unsubscribe(self._subscription)


def _stream(hub: Hub, translator: Translator, manager: Any, last_event_id: int | None, wrap: Wrap) -> EventSourceResponse:
    """The subscriber is registered before this returns (no await), so a prompt's reply waits for it."""
    after = start_after(manager.events, last_event_id, None) if last_event_id is not None else None
    subscription = hub.subscribe(after)

    def sse(directory: str, payload: dict[str, Any], event_id: int | None = None) -> ServerSentEvent:
        return Frame(data=json.dumps(wrap(directory, payload)), id=str(event_id) if event_id is not None else None)

    mine = owner_filter()  # a member's stream holds only their own sessions' events

    async def frames() -> AsyncIterator[ServerSentEvent]:
        yield sse("global", {"type": "server.connected", "properties": {}})
        async for event in _with_heartbeats(manager.events.subscribe(after=subscription.start), HEARTBEAT, subscription.notices):
            if event is None:
                yield sse("global", {"type": "server.heartbeat", "properties": {}})
                continue
            if isinstance(event, Notice):
                session_id, payload = event
                if mine is None or manager.owned_by(session_id, mine):
                    yield sse(translator.directory(session_id), payload)
                continue
            if subscription.wants(event.id, event.session_id) and (mine is None or manager.owned_by(event.session_id, mine)):
                found = await translator.translate(event)
                directory = translator.directory(event.session_id)
                for index, payload in enumerate(found):
                    yield sse(directory, payload, event.id if index == len(found) - 1 else None)
            hub.delivered(subscription, event.id)

    return _Subscribed(hub, subscription, frames(), ping=15, headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"})


LastEventId = Annotated[int | None, Header(ge=0, le=MAX_EVENT_ID)]


@router.get("/event", response_class=EventSourceResponse, responses=SSE)
async def events(hub: HubDep, manager: ManagerDep, settings: SettingsDep, last_event_id: LastEventId = None, directory: Annotated[str | None, Query()] = None) -> EventSourceResponse:
    """Bus events as ``{type, properties}`` frames."""
    return _stream(hub, Translator(hub, settings), manager, last_event_id, lambda directory, payload: payload)


@router.get("/global/event", response_class=EventSourceResponse, responses=SSE)
async def global_events(hub: HubDep, manager: ManagerDep, settings: SettingsDep, last_event_id: LastEventId = None) -> EventSourceResponse:
    """Bus events as ``{directory, payload}`` frames (``directory``: the session's cwd, or ``global``)."""
    return _stream(hub, Translator(hub, settings), manager, last_event_id, lambda directory, payload: {"directory": directory, "payload": payload})
