"""A real PostgreSQL outage (a TCP forwarder in between, cut and restored): the registry keeps
what it is given, reads say the database is unavailable, and everything is written once it answers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import make_url

from claude_agent_server.store import EventRecord, RegistryUnavailable, SessionRecord, SqlRegistry
from databases import PG_HOST, PG_PORT, postgres_database
from forwarder import forwarding

BASE = 1_740_000_000_000_000


def event(n: int) -> EventRecord:
    return EventRecord(BASE + n, "s1", "message", {"n": n}, "2025-03-01T12:00:00+00:00")


async def test_a_postgresql_outage_loses_nothing(tmp_path: Path) -> None:
    spill = tmp_path / "data" / "registry-spill" / "pg.jsonl"
    async with postgres_database() as url:
        with forwarding((PG_HOST, PG_PORT)) as forwarder:
            via = make_url(url).set(port=forwarder.port).render_as_string(hide_password=False)
            registry = await SqlRegistry.open(via, spill_path=spill, max_retry_delay=0.5)
            try:
                await registry.put(SessionRecord("s1", spec={}))
                for n in range(1, 11):
                    registry.append(event(n))
                await registry.flush()

                forwarder.cut()
                for n in range(11, 31):
                    registry.append(event(n))
                registry.update(SessionRecord("s1", spec={}, turns=3, status="running"))
                started = time.monotonic()
                await registry.flush()  # spilled: durable without the database
                assert time.monotonic() - started < 5
                for read in (registry.list(), registry.count_by_state(), registry.get("s1"), registry.events(session_id="s1", after=0)):
                    with pytest.raises(RegistryUnavailable) as refused:
                        await read
                    assert refused.value.retry_after >= 1
                health = registry.health()
                assert health.status == "unavailable" and health.pending_events == 20 and health.spilled_bytes > 0

                forwarder.restore()
                deadline = time.monotonic() + 30
                while registry.health().status != "ok":
                    assert time.monotonic() < deadline, registry.health()
                    await asyncio.sleep(0.05)

                assert [e.id - BASE for e in await registry.events(session_id="s1", after=0)] == list(range(1, 31))
                assert (await registry.get("s1")).turns == 3
                assert registry.dropped == 0 and registry.persisted == 30 and not spill.exists()
            finally:
                await registry.close()
