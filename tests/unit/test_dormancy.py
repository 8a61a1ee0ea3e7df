"""Loaded sessions leave the manager's memory once hibernated and unused for ``dormant_after``
seconds, and load again, whole, on their next use."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from claude_agent_server.sessions import SessionManager
from claude_agent_server.sessions.turns import turn_events
from fakes import FakeClients, result

MakeManager = Callable[..., Awaitable[SessionManager]]
LATER = 3600.0
"""Seconds added to ``time.monotonic()``: far beyond ``dormant_after``."""


async def a_hibernated_session(manager: SessionManager, clients: FakeClients) -> str:
    """A session that ran one turn and was hibernated; returns its id."""
    session = await manager.create()
    clients.enqueue(result("first"))
    started = await session.send("first")
    async for _ in turn_events(session, started):
        pass
    assert await session.hibernate()
    return session.id


async def test_a_hibernated_unused_session_is_forgotten_and_loads_again_whole(make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await make_manager(dormant_after=60)
    sid = await a_hibernated_session(manager, clients)
    before = await manager.get(sid)
    now = time.monotonic()
    assert manager.forget_dormant(now) == []  # handed out just now
    assert manager.forget_dormant(now + 61) == [sid]
    assert manager.forget_dormant(now + 62) == []

    again = await manager.get(sid)
    assert again is not before and again.status == "hibernated" and again.record.turns == 1
    await manager.registry.flush()
    assert [e.type for e in [e async for e in _replay(again)]][:1] == ["turn_started"]  # its history, from the registry
    clients.enqueue(result("second"))
    started = await again.send("second")  # it wakes as any hibernated session does
    ended = [e async for e in turn_events(again, started)][-1]
    assert ended.type == "result" and ended.data["result"] == "second"
    assert manager.forget_dormant(time.monotonic() + LATER) == []  # live now


async def test_a_session_in_use_stays_loaded(make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await make_manager(dormant_after=0)
    sid = await a_hibernated_session(manager, clients)
    session = await manager.get(sid)
    stream = session.events.subscribe(after=session.events.last_id)  # an SSE client watching it
    watching = asyncio.create_task(anext(stream))
    await asyncio.sleep(0.01)
    assert session.events.subscribers == 1
    assert manager.forget_dormant(time.monotonic() + LATER) == []
    watching.cancel()  # the client goes away
    with contextlib.suppress(asyncio.CancelledError):
        await watching
    await stream.aclose()
    assert session.events.subscribers == 0
    session.spec.queued.append({"queue_id": "q1", "message": "later"})  # a queued message: it runs on the next wake
    assert manager.forget_dormant(time.monotonic() + LATER) == []
    session.spec.queued.clear()
    assert manager.forget_dormant(time.monotonic() + LATER) == [sid]


async def _replay(session):  # type: ignore[no-untyped-def]
    """The session's stored events from the start, up to its first ``result``."""
    async for event in session.events.subscribe(after=0):
        yield event
        if event.type == "result":
            return
