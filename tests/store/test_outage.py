"""A real PostgreSQL outage (a TCP forwarder in between, cut and restored): the registry keeps
what it is given (events, records, transcript lines, audit rows), reads say the database is
unavailable, and everything is written once it answers."""

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
OUTAGE_SECONDS = 6
KEY = {"project_key": "-work-x", "session_id": "0b7e4a9e-3c52-4d0c-9a43-3f0d2a1c5e10"}


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
                assert registry.health().dropped == 0 and registry.health().persisted == 30 and not spill.exists()
            finally:
                await registry.close()


async def test_a_postgresql_outage_of_seconds_loses_no_transcript_line_and_no_audit_row(tmp_path: Path) -> None:
    async with postgres_database() as url:
        with forwarding((PG_HOST, PG_PORT)) as forwarder:
            via = make_url(url).set(port=forwarder.port).render_as_string(hide_password=False)
            registry = await SqlRegistry.open(via, spill_path=tmp_path / "spill.jsonl", max_retry_delay=0.5)
            store = registry.transcripts

            async def audited(n: int) -> None:
                await registry.audit.record(action=f"rest.step{n}", method="POST", path="/sessions", status=200,
                                            user_name="ann", key_id="k1", client="127.0.0.1", session_id=None)

            try:
                await store.append(KEY, [{"type": "user", "uuid": "u0", "n": 0}])
                await audited(0)
                await store.flush()

                forwarder.cut()
                started, n = time.monotonic(), 0
                while time.monotonic() - started < OUTAGE_SECONDS:  # a turn's lines every 0.2 s, as a CLI would mirror them
                    n += 1
                    await store.append(KEY, [{"type": "assistant", "uuid": f"u{n}", "n": n}])
                    await audited(n)
                    await asyncio.sleep(0.2)
                with pytest.raises(RegistryUnavailable):
                    await store.load(KEY)

                forwarder.restore()
                deadline = time.monotonic() + 30
                while store.pending_bytes or registry.health().status != "ok":
                    assert time.monotonic() < deadline, (store.pending_bytes, registry.health())
                    await asyncio.sleep(0.05)

                lines = [e["n"] for e in await store.load(KEY) or []]
                assert lines == list(range(n + 1)), lines
                actions = [r.action for r in reversed(await registry.audit.entries(limit=1000))]
                assert actions == [f"rest.step{i}" for i in range(n + 1)], actions  # in order, each once
                assert store.dropped == store.failed == 0 and registry.audit.dropped == 0
                assert n >= OUTAGE_SECONDS / 0.2 / 2, n
            finally:
                await registry.close()
