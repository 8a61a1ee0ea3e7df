"""Nodes and session leases on both dialects: one holder at a time, taken in one transaction."""

from __future__ import annotations

import pytest

import asyncio
from datetime import timedelta

from claude_agent_server.store import SessionRecord, SqlRegistry, utcnow

SID = "00000000-0000-4000-8000-000000000001"


async def test_a_lease_has_one_holder_until_it_expires(registry: SqlRegistry) -> None:
    cluster = registry.cluster
    await cluster.beat("a", "http://a", utcnow(), 0)
    assert (await cluster.take(SID, "a")).acquired
    taken = await cluster.take(SID, "b")
    assert not taken.acquired and taken.holder is not None and taken.holder.node_id == "a" and taken.holder.url == "http://a"
    assert (await cluster.owner(SID, "b")).node_id == "a"  # type: ignore[union-attr]
    assert await cluster.owner(SID, "a") is None
    cluster.lease = -1.0  # every lease taken or renewed from now on is already expired
    await cluster.beat("a", "http://a", utcnow(), 0)
    cluster.lease = 10.0
    taken = await cluster.take(SID, "b")  # a dead node's lease is claimed, never taken as if it were free
    assert not taken.acquired and taken.holder is not None and (taken.holder.node_id, taken.holder.dead) == ("a", True)
    assert (await cluster.owner(SID, "b")).dead  # type: ignore[union-attr]
    claim = await cluster.claim(SID, "a", "b")
    assert claim is not None and claim.record is None  # no session record: e.g. a warm CLI's
    assert await cluster.claim(SID, "a", "c") is None
    await cluster.release(SID, "a")  # not a's any more: nothing happens
    holder = await cluster.owner(SID, "a")
    assert holder is not None and (holder.node_id, holder.dead) == ("b", False)
    await cluster.release(SID, "b")
    assert await cluster.owner(SID, "a") is None
    assert (await cluster.take(SID, "c")).acquired


async def test_concurrent_takes_give_one_holder(open_registry) -> None:  # type: ignore[no-untyped-def]
    registries = [await open_registry() for _ in range(3)]
    results = await asyncio.gather(*(r.cluster.take(SID, f"n{i}") for i, r in enumerate(registries) for _ in range(3)))
    holders = {f"n{i // 3}" for i, lease in enumerate(results) if lease.acquired}
    assert len(holders) == 1


async def test_a_dead_nodes_lease_is_claimed_by_exactly_one_node(open_registry) -> None:  # type: ignore[no-untyped-def]
    registries = [await open_registry() for _ in range(3)]
    registry = registries[0]
    now = utcnow()
    # Its record says hibernated (another node read and wrote it): the claim does not depend on it.
    await registry.put(SessionRecord(SID, {"cwd": "/w"}, created_at=now, last_activity=now, state="hibernated", status="waiting_permission"))
    registry.cluster.lease = -1.0
    assert (await registry.cluster.take(SID, "dead")).acquired
    registry.cluster.lease = 10.0
    assert await registry.cluster.expired("n0") == [(SID, "dead")]
    claims = await asyncio.gather(*(r.cluster.claim(SID, "dead", f"n{i}") for i, r in enumerate(registries) for _ in range(3)))
    [(winner, claim)] = [(f"n{i // 3}", c) for i, c in enumerate(claims) if c is not None]
    assert claim.record is not None and (claim.record.state, claim.record.status) == ("hibernated", "waiting_permission")
    holder = await registry.cluster.owner(SID, "z")
    assert holder is not None and (holder.node_id, holder.dead) == (winner, False)  # held while it takes over
    assert await registry.cluster.expired("z") == []
    await registry.cluster.unclaim(SID, "dead", winner)  # a takeover that failed: claimable again
    assert await registry.cluster.expired("z") == [(SID, "dead")]


async def test_recover_leaves_another_live_nodes_sessions_alone(registry: SqlRegistry) -> None:
    if registry._engine.url.get_backend_name() == "sqlite":
        pytest.skip("a SQLite registry serves one node: its recovery takes over every lease (test_a_sqlite_restart_takes_its_leases)")
    now = utcnow()
    other, mine, dead, orphan = SID, SID[:-1] + "2", SID[:-1] + "3", SID[:-1] + "4"
    for sid in (other, mine, dead, orphan):
        await registry.put(SessionRecord(sid, {"cwd": "/w"}, created_at=now, last_activity=now, state="live", status="connected"))
    await registry.cluster.beat("b", "http://b", now, 1)
    assert (await registry.cluster.take(other, "b")).acquired
    assert (await registry.cluster.take(mine, "a")).acquired  # a's previous run
    registry.cluster.lease = -1.0
    assert (await registry.cluster.take(dead, "d")).acquired  # a dead node's: left to the claim (node_lost)
    registry.cluster.lease = 10.0
    recovered = await registry.recover("a")
    assert sorted(r.session_id for r in recovered) == sorted([mine, orphan])
    assert (await registry.get(other)).state == "live"  # type: ignore[union-attr]
    assert await registry.cluster.expired("a") == [(dead, "d")]
    await registry.cluster.release(dead, "d")
    nodes = await registry.cluster.nodes()
    assert [(n.node_id, n.leases, n.heartbeat_at > now - timedelta(seconds=1)) for n in nodes] == [("b", 1, True)]
    await registry.cluster.stop("b")
    assert [(n.stopped, n.leases) for n in await registry.cluster.nodes()] == [(True, 0)]


async def test_a_sqlite_restart_takes_its_leases(registry: SqlRegistry) -> None:
    """One server at a time holds a SQLite registry (its data dir's lock): a restart under another
    node id (another port) recovers what the earlier process left leased."""
    if registry._engine.url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL serves several nodes: another live node's leases stay (test_recover_leaves_...)")
    now = utcnow()
    await registry.put(SessionRecord(SID, {"cwd": "/w"}, created_at=now, last_activity=now, state="live", status="connected"))
    await registry.cluster.take(SID, "old-node:1")
    recovered = await registry.recover("new-node:2")
    assert [r.session_id for r in recovered] == [SID]


async def test_a_heartbeat_names_the_leases_its_node_still_holds(registry: SqlRegistry) -> None:
    """The renewal tells a node which of its sessions are still its own: one another node claimed is not."""
    cluster, other = registry.cluster, SID[:-1] + "2"
    assert await cluster.beat("a", "http://a", utcnow(), 0) == set()
    assert (await cluster.take(SID, "a")).acquired and (await cluster.take(other, "a")).acquired
    assert await cluster.beat("a", "http://a", utcnow(), 2) == {SID, other}
    cluster.lease = -1.0  # a stalls: its leases expire
    await cluster.beat("a", "http://a", utcnow(), 2)
    cluster.lease = 10.0
    assert await cluster.claim(SID, "a", "b") is not None
    assert await cluster.beat("a", "http://a", utcnow(), 2) == {other}  # a resumes: SID is b's now
    assert (await cluster.owner(SID, "a")).node_id == "b"  # type: ignore[union-attr]


async def test_a_record_update_queued_by_a_node_that_lost_the_lease_is_not_written(open_registry) -> None:  # type: ignore[no-untyped-def]
    """What a stalled node's writer still held (queued before the stall) lands after another node
    claimed the session: the record stays as the lease's holder wrote it."""
    a, b = await open_registry(node_id="a"), await open_registry(node_id="b")
    now = utcnow()
    record = SessionRecord(SID, {"cwd": "/w"}, created_at=now, last_activity=now, state="live", status="running")
    await a.put(record)
    assert (await a.cluster.take(SID, "a")).acquired
    a.update(SessionRecord(SID, {"cwd": "/w"}, created_at=now, last_activity=now, state="live", status="connected"))
    await a.flush()  # a holds the lease: written
    assert (await b.get(SID)).status == "connected"  # type: ignore[union-attr]
    await a.cluster.release(SID, "a")
    assert (await b.cluster.take(SID, "b")).acquired  # b runs it now
    b.update(SessionRecord(SID, {"cwd": "/w"}, created_at=now, last_activity=now, state="hibernated", status="hibernated"))
    await b.flush()
    a.update(SessionRecord(SID, {"cwd": "/w"}, created_at=now, last_activity=now, state="live", status="running"))  # stale
    await a.flush()
    assert ((stored := await b.get(SID)) is not None) and (stored.state, stored.status) == ("hibernated", "hibernated")
    await b.cluster.release(SID, "b")
    a.update(SessionRecord(SID, {"cwd": "/w"}, created_at=now, last_activity=now, state="hibernated", status="hibernated", title="t"))
    await a.flush()  # no lease: any node writes (a title, a hibernated session's change)
    assert (await b.get(SID)).title == "t"  # type: ignore[union-attr]
