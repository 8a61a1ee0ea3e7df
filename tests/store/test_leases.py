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
    taken = await cluster.take(SID, "b")
    assert taken.acquired and taken.lost == "a"
    await cluster.release(SID, "a")  # not a's any more: nothing happens
    assert (await cluster.owner(SID, "a")).node_id == "b"  # type: ignore[union-attr]
    await cluster.release(SID, "b")
    assert await cluster.owner(SID, "a") is None


async def test_concurrent_takes_give_one_holder(open_registry) -> None:  # type: ignore[no-untyped-def]
    registries = [await open_registry() for _ in range(3)]
    results = await asyncio.gather(*(r.cluster.take(SID, f"n{i}") for i, r in enumerate(registries) for _ in range(3)))
    holders = {f"n{i // 3}" for i, lease in enumerate(results) if lease.acquired}
    assert len(holders) == 1


async def test_reap_hibernates_a_dead_nodes_live_sessions_once(registry: SqlRegistry) -> None:
    now = utcnow()
    record = SessionRecord(SID, {"cwd": "/w"}, created_at=now, last_activity=now, state="live", status="running")
    await registry.put(record)
    cluster = registry.cluster
    cluster.lease = -1.0
    assert (await cluster.take(SID, "dead")).acquired
    cluster.lease = 10.0
    reaped = await cluster.reap()
    assert [(r.session_id, r.status, node) for r, node in reaped] == [(SID, "running", "dead")]
    assert await cluster.reap() == []
    stored = await registry.get(SID)
    assert stored is not None and (stored.state, stored.status) == ("hibernated", "hibernated")


async def test_recover_leaves_another_live_nodes_sessions_alone(registry: SqlRegistry) -> None:
    if registry._engine.url.get_backend_name() == "sqlite":
        pytest.skip("a SQLite registry serves one node: its recovery takes over every lease (test_a_sqlite_restart_takes_its_leases)")
    now = utcnow()
    other, mine = SID, SID[:-1] + "2"
    for sid in (other, mine):
        await registry.put(SessionRecord(sid, {"cwd": "/w"}, created_at=now, last_activity=now, state="live", status="connected"))
    await registry.cluster.beat("b", "http://b", now, 1)
    assert (await registry.cluster.take(other, "b")).acquired
    assert (await registry.cluster.take(mine, "a")).acquired  # a's previous run
    recovered = await registry.recover("a")
    assert [r.session_id for r in recovered] == [mine]
    assert (await registry.get(other)).state == "live"  # type: ignore[union-attr]
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
