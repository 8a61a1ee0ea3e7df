"""A dead node's sessions are taken over once, whichever node meets them first: two managers
on one SQLite registry play two nodes (node ``a`` dies: its leases expire and it writes nothing more)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from claude_agent_server.sessions import SessionManager
from claude_agent_server.sessions.events import Event
from claude_agent_server.store import ParkedRecord, utcnow
from fakes import Ask, FakeClients, result

MakeManager = Callable[..., Awaitable[SessionManager]]


async def dead_node_waiting(make_manager: MakeManager, clients: FakeClients) -> tuple[list[SessionManager], SessionManager, str, Event]:
    """Nodes ``b`` and ``c`` (their heartbeats far away: the test beats), then node ``a`` (last: a
    node starting on SQLite drops the others' leases) whose session waits for a permission when
    ``a`` dies (its leases taken already expired). Returns [b, c], a, the id, the request event."""
    live = [await make_manager(node_id=name, node_heartbeat=3600, permission_timeout=60) for name in "bc"]
    a = await make_manager(node_id="a", node_heartbeat=3600, permission_timeout=60)
    a.registry.cluster.lease = -1.0  # every lease a takes has expired: as if its heartbeats stopped
    session = await a.create()
    clients.enqueue(Ask("Bash", {"command": "echo hi > f.txt"}, tool_use_id="toolu_live"), result())
    await session.send("ask")
    async with asyncio.timeout(5):
        while not session.permissions.pending():
            await asyncio.sleep(0.01)
    await a.registry.flush()  # what a had written when it died
    [request] = [e for e in session.events.since(0) if e.type == "permission_request"]
    return live, a, session.id, request


async def events_until_error(manager: SessionManager, session_id: str, after: int) -> list[Event]:
    """The session's stream on ``manager`` from ``after`` up to its ``error`` event (5 s at most)."""
    seen = []
    session = await manager.get(session_id)
    async with asyncio.timeout(5):
        async for event in session.events.subscribe(after=after):
            seen.append(event)
            if event.type == "error":
                break
    return seen


async def test_a_request_that_reads_a_dead_nodes_session_first_takes_it_over(make_manager: MakeManager, clients: FakeClients) -> None:
    """The flaky cluster failover: a request on another node loaded the session after its lease
    expired and before any heartbeat took it over, and wrote its record ``hibernated``; the
    heartbeat then found no live record and the turn never ended (no ``node_lost`` events)."""
    [b, _], _, sid, request = await dead_node_waiting(make_manager, clients)
    session = await b.get(sid)  # the first thing that meets the dead lease
    assert session.status == "hibernated" and not session.live
    seen = await events_until_error(b, sid, request.id - 1)
    ends = [e for e in seen if e.type in ("permission_request", "permission_resolved", "error")]
    assert [(e.type, e.data.get("reason")) for e in ends] == [
        ("permission_request", None), ("permission_resolved", "node_lost"), ("error", "node_lost"),
    ]
    assert ends[1].data["request_id"] == request.data["request_id"] and ends[1].data["allowed"] is False
    assert await b.node.beat() == []  # taken over once
    record = await b.registry.get(sid)
    assert record is not None and (record.state, record.status) == ("hibernated", "hibernated")
    assert await b.registry.parked.of_session(sid) == []  # its CLI is gone: no one can answer it
    assert await b.registry.cluster.owner(sid, "z") is None  # the lease is released
    clients.enqueue(result("woken on b"))
    await session.send("the next message wakes it here")
    assert session.live and (await b.registry.cluster.owner(sid, "z")).node_id == "b"  # type: ignore[union-attr]


async def test_the_heartbeat_takes_over_once_and_a_parked_request_stays_parked(make_manager: MakeManager, clients: FakeClients) -> None:
    [b, c], a, sid, request = await dead_node_waiting(make_manager, clients)
    [live] = await a.registry.parked.of_session(sid)
    parked: dict[str, Any] = {**live.request, "request_id": "parked-earlier", "tool_use_id": "toolu_parked"}
    await a.registry.parked.put(replace(live, request_id="parked-earlier", tool_use_id="toolu_parked", request=parked, parked_at=utcnow()))
    a.journal.record(sid, "permission_request", **parked)  # as its earlier CLI had published it
    await a.registry.flush()
    first, second = await asyncio.gather(b.node.beat(), c.node.beat())  # two live nodes at once
    assert sorted([first, second]) == [[], [sid]]
    await c.registry.flush()
    stored = await b.registry.events(session_id=sid, after=request.id)  # (on SQLite no relay moves b's clock past c's ids)
    ends = [(e.type, e.data.get("request_id"), e.data.get("reason")) for e in stored if e.type in ("permission_resolved", "error")]
    assert ends == [("permission_resolved", request.data["request_id"], "node_lost"), ("error", None, "node_lost")]  # once
    rows = await b.registry.parked.of_session(sid)
    assert [(r.request_id, r.parked_at is not None) for r in rows] == [("parked-earlier", True)]
    session = await b.get(sid)
    assert session.status == "waiting_permission"  # listed, and anyone may answer it
    assert [p.request_id for p in session.permissions.parked.values()] == ["parked-earlier"]
    assert isinstance(rows[0], ParkedRecord)


async def test_the_turn_a_dead_node_left_ends_whatever_its_record_says(make_manager: MakeManager, clients: FakeClients) -> None:
    """The flaky cluster failover, again: whether a turn ran is read from the event log. The record is a
    snapshot written in the background, and here it no longer says ``live`` (a node that read the session
    while a takeover was under way wrote it ``hibernated``); the takeover found no live record and ended
    nothing, so the turn's ``error`` never came and its request stayed unresolved."""
    [b, _], _, sid, request = await dead_node_waiting(make_manager, clients)
    left = await b.registry.get(sid)
    assert left is not None and left.state == "live"
    await b.registry.put(replace(left, state="hibernated"))
    assert await b.node.beat() == [sid]
    stored = await b.registry.events(session_id=sid, after=request.id)
    ends = [(e.type, e.data.get("request_id"), e.data.get("reason")) for e in stored if e.type in ("permission_resolved", "error")]
    assert ends == [("permission_resolved", request.data["request_id"], "node_lost"), ("error", None, "node_lost")]
    assert await b.registry.parked.of_session(sid) == []  # its CLI is gone: no one can answer it
    record = await b.registry.get(sid)
    assert record is not None and (record.state, record.status) == ("hibernated", "hibernated")


async def test_a_closed_session_a_dead_node_left_stays_closed(make_manager: MakeManager, clients: FakeClients) -> None:
    [b, _], _, sid, request = await dead_node_waiting(make_manager, clients)
    left = await b.registry.get(sid)
    assert left is not None
    await b.registry.put(replace(left, state="closed", status="closed"))  # closed while its turn waited
    assert await b.node.beat() == [sid]
    stored = await b.registry.events(session_id=sid, after=request.id)
    assert [e.type for e in stored if e.data.get("reason") == "node_lost" or e.data.get("status") == "hibernated"] == []
    record = await b.registry.get(sid)
    assert record is not None and (record.state, record.status) == ("closed", "closed")

async def test_a_dead_nodes_session_with_no_turn_running_gets_no_events(make_manager: MakeManager, clients: FakeClients) -> None:
    """A record left ``live`` in a turn is still enough (its events may be older than the log's window);
    one whose last turn ended gets only its ``status`` hibernated."""
    b = await make_manager(node_id="b", node_heartbeat=3600)
    a = await make_manager(node_id="a", node_heartbeat=3600)
    a.registry.cluster.lease = -1.0
    session = await a.create()
    clients.enqueue(result("done"))
    await session.send("a turn that ends")
    async with asyncio.timeout(5):
        while session.status != "connected":
            await asyncio.sleep(0.01)
    await a.registry.flush()
    mark = a.clock.last
    assert await b.node.beat() == [session.id]
    stored = await b.registry.events(session_id=session.id, after=mark)
    assert [(e.type, e.data.get("status")) for e in stored] == [("status", "hibernated")]


class GatedOwners:
    """An owner lookup whose answer waits for ``gate``, then says what the registry says once the
    claimer holds the lease: no other node holds it."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.asked = 0

    async def owner(self, session_id: str, fresh: bool = False) -> None:
        self.asked += 1
        await self.gate.wait()


async def test_a_request_on_the_claimer_waits_for_its_takeover(make_manager: MakeManager, clients: FakeClients) -> None:
    """A request on the node whose heartbeat claims the session while the request looks up its owner
    reads the claimed lease as "no other node's": it loaded the record the dead node left ``live``,
    answered ``hibernated`` before the takeover's events were written, and wrote that record back
    ``hibernated``. It waits for the takeover now, and looks again."""
    [b, _], _, sid, _ = await dead_node_waiting(make_manager, clients)
    owners = GatedOwners()
    looking = asyncio.create_task(b.node.elsewhere(sid, owners))  # type: ignore[arg-type]
    while not owners.asked:
        await asyncio.sleep(0)
    takeover = asyncio.create_task(b.node.take_over(sid, "a"))
    await asyncio.sleep(0)  # the takeover is under way (registered before its claim)
    owners.gate.set()
    await asyncio.wait_for(looking, 5)
    assert takeover.done() and takeover.result() is True and owners.asked == 2
