"""A node that stalled stops the CLIs of the sessions it lost (fencing, see ``sessions/cluster.py``):
managers on one SQLite registry play the nodes, with ``cluster.shared`` set as on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from claude_agent_server.sessions import SessionManager
from claude_agent_server.sessions.errors import SessionElsewhere
from claude_agent_server.sessions.turns import turn_events
from claude_agent_server.store import RegistryUnavailable
from fakes import FakeClients, Hold, result

MakeManager = Callable[..., Awaitable[SessionManager]]


async def node(make_manager: MakeManager, name: str, **config: object) -> SessionManager:
    manager = await make_manager(node_id=name, node_url=lambda: f"http://{name}", **{"node_heartbeat": 3600, **config})
    manager.registry.cluster.shared = True  # other nodes may claim its leases, as on PostgreSQL
    return manager


async def until(condition: Callable[[], bool], timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_a_heartbeat_that_finds_a_lease_moved_stops_the_cli_and_writes_nothing(make_manager: MakeManager, clients: FakeClients) -> None:
    b = await node(make_manager, "b")
    a = await node(make_manager, "a")  # last: a node starting on SQLite drops the others' leases
    session = await a.create()
    hold = Hold()
    clients.enqueue(hold, result("never"))
    started = await session.send("a long turn")
    client = clients.last
    await until(lambda: session.status == "running")
    await a.registry.flush()  # what a had written when it stalled
    a.registry.cluster.lease = -1.0  # a stalls: its leases expire ...
    await a.node.renew()
    a.registry.cluster.lease = 10.0
    assert await b.node.beat() == [session.id]  # ... and b takes the session over (node_lost, hibernated)
    await b.registry.flush()
    before = await b.registry.get(session.id)
    stored = await b.registry.events(session_id=session.id, after=0)
    assert ("error", "node_lost") in [(e.type, e.data.get("reason")) for e in stored]  # b ended the turn

    await a.node.beat()  # a resumes: its renewal no longer holds the session's lease

    await until(lambda: client.disconnected)
    assert session.fenced and session.id not in a._sessions and a.live_count == 0
    seen = [e async for e in turn_events(session, started)]  # a caller waiting here is told, from memory only
    assert (seen[-1].type, seen[-1].data["reason"]) == ("error", "node_lost")
    await a.registry.flush()
    assert await a.registry.events(session_id=session.id, after=0) == stored  # a wrote nothing
    after = await a.registry.get(session.id)
    assert after is not None and before is not None
    assert (after.state, after.status, after.last_activity) == (before.state, before.status, before.last_activity)
    assert (await a.registry.cluster.owner(session.id, "z")) is None  # b released it; a released nothing
    with pytest.raises(SessionElsewhere):  # the next request wakes it on b, then a forwards there
        await (await b.get(session.id)).send("wakes on b")
        await a.get(session.id)
    assert clients.last is not client and not clients.last.disconnected


async def test_a_node_whose_renewals_hang_stops_its_clis_before_its_leases_expire(
    make_manager: MakeManager, clients: FakeClients, monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = await node(make_manager, "a", node_heartbeat=0.1)
    a.registry.cluster.lease = 1.0  # fenced after 0.9 s without a renewal
    session = await a.create()
    clients.enqueue(Hold(), result("never"))
    await session.send("a long turn")
    client = clients.last
    await until(lambda: session.status == "running")
    renewing = asyncio.Event()

    async def hang(*args: object) -> set[str]:  # the database stops answering
        renewing.set()
        await asyncio.Event().wait()
        raise AssertionError

    monkeypatch.setattr(a.registry.cluster, "beat", hang)
    await renewing.wait()
    stuck = asyncio.get_running_loop().time()
    await until(lambda: client.disconnected, timeout=3)
    assert asyncio.get_running_loop().time() - stuck < 1.0  # before the lease expires
    assert session.fenced and session.id not in a._sessions and a.live_count == 0
    await a.registry.flush()
    record = await a.registry.get(session.id)
    assert record is not None and (record.state, record.status) == ("live", "running")  # nothing written at the fence

    # The database answers again before any other node claimed the lease: a records what its CLI left.
    monkeypatch.undo()
    await a.node.beat()
    again = await a.get(session.id)
    assert again is not session and again.status == "hibernated"
    stored = await a.registry.events(session_id=session.id, after=0)
    [error] = [e for e in stored if e.type == "error"]
    assert error.data["reason"] == "node_lost" and "could not renew" in error.data["message"]
    assert await a.registry.cluster.owner(session.id, "z") is None  # released
    clients.enqueue(result("woken"))
    await again.send("the next message wakes it here")
    assert again.live and (await a.registry.cluster.owner(session.id, "z")).node_id == "a"  # type: ignore[union-attr]


async def test_a_request_after_a_long_stall_checks_the_lease_first(make_manager: MakeManager, clients: FakeClients) -> None:
    """No heartbeat nor watchdog has run since the stall (heartbeat 3600 s): the request itself renews first."""
    a = await node(make_manager, "a")
    a.registry.cluster.lease = 0.4  # fenced after 0.2 s without a renewal
    session = await a.create()
    client = clients.last
    await asyncio.sleep(0.5)  # a stalls; its lease expires and b claims it
    a.registry.cluster.lease = 10.0
    assert await a.registry.cluster.claim(session.id, "a", "b") is not None  # b's, for 10 s
    a.registry.cluster.lease = 0.4
    with pytest.raises(SessionElsewhere) as moved:
        await a.get(session.id)
    assert moved.value.node_id == "b"
    await until(lambda: client.disconnected)
    assert session.fenced and session.id not in a._sessions


async def test_what_a_cli_says_after_a_stall_is_not_written(make_manager: MakeManager, clients: FakeClients) -> None:
    """The CLI's output that a resumed node reads before any renewal or watchdog tick: the session is
    fenced at its first write, which is dropped."""
    a = await node(make_manager, "a")
    a.registry.cluster.lease = 0.4
    session = await a.create()
    hold = Hold()
    clients.enqueue(hold, result("after the stall"))
    started = await session.send("a long turn")
    await a.registry.flush()
    await asyncio.sleep(0.3)  # a stalls past fence_after (0.2 s): no heartbeat, no watchdog tick (heartbeat 3600 s)
    hold.release.set()
    await until(lambda: clients.last.disconnected)
    assert session.fenced
    await a.registry.flush()
    stored = await a.registry.events(session_id=session.id, after=started.id)
    assert [e.type for e in stored if e.type in ("result", "error")] == []


async def test_a_request_after_a_stall_is_refused_while_the_lease_cannot_be_renewed(
    make_manager: MakeManager, clients: FakeClients, monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = await node(make_manager, "a")
    a.registry.cluster.lease = 0.4
    session = await a.create()

    async def hang(*args: object) -> set[str]:
        await asyncio.Event().wait()
        raise AssertionError

    monkeypatch.setattr(a.registry.cluster, "beat", hang)
    await asyncio.sleep(0.3)
    with pytest.raises(RegistryUnavailable):  # 503 with Retry-After
        await a.get(session.id)
    assert not session.fenced  # not before its lease could expire: the watchdog's part
    a.registry.cluster.lease = 10.0
    monkeypatch.undo()
    assert await a.get(session.id) is session  # renewed: served


async def test_a_single_node_registry_never_fences(make_manager: MakeManager, clients: FakeClients) -> None:
    """SQLite (one server at a time): a stall costs nothing, no other node could have claimed."""
    a = await make_manager(node_id="a", node_url=lambda: "http://a", node_heartbeat=3600)
    a.registry.cluster.lease = 0.2
    session = await a.create()
    await asyncio.sleep(0.3)
    assert await a.get(session.id) is session and not session.fenced
