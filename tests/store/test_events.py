"""The event log: queued appends, batches, reads by session and globally, drops, close and reopen."""

from __future__ import annotations

import asyncio
import time

from claude_agent_server.store import EventRecord, SessionRecord, SqlRegistry

BASE = 1_740_000_000_000_000  # event ids are microseconds since the epoch


def event(n: int, session_id: str | None = "s1", *, server: bool = False, **data) -> EventRecord:
    kind = "session_status" if server else "message"
    at = f"2025-03-01T12:00:{n % 60:02d}.000000+00:00"
    return EventRecord(BASE + n, session_id, kind, data or {"n": n}, at, server)


async def test_events_by_session_and_globally(registry: SqlRegistry) -> None:
    appended = [
        event(1, server=True),  # session_created for s1: global stream only
        event(2),
        event(3, "s2"),
        event(4, None, server=True),
        event(5, text="héllo", parts=[{"type": "text"}, None]),
        event(6),
    ]
    for e in appended:
        registry.append(e)
    assert await registry.events(session_id=None, after=0) == []  # queued, not written yet

    await registry.flush()

    assert await registry.events(session_id="s1", after=0) == [appended[1], appended[4], appended[5]]
    assert await registry.events(session_id="s1", after=BASE + 2) == [appended[4], appended[5]]
    assert await registry.events(session_id="s1", after=0, limit=1) == [appended[1]]
    assert await registry.events(session_id=None, after=0) == appended
    assert await registry.events(session_id=None, after=BASE + 3, limit=2) == appended[3:5]
    assert await registry.events(session_id="nobody", after=0) == []
    assert await registry.last_event_id() == BASE + 6
    assert registry.health().persisted == 6


async def test_writing_an_id_twice_is_a_no_op(registry: SqlRegistry) -> None:
    assert await registry.last_event_id() == 0
    registry.append(event(1, text="first"))
    registry.append(event(1, text="same batch"))
    await registry.flush()
    registry.append(event(1, text="later batch"))
    registry.append(event(2))
    await registry.flush()

    assert [e.data for e in await registry.events(session_id="s1", after=0)] == [{"text": "first"}, {"n": 2}]
    assert registry.health().persisted == 2


async def test_events_are_written_in_batches(registry: SqlRegistry) -> None:
    batches = registry.health().batches
    for n in range(1, 1201):
        registry.append(event(n))
    registry.update(SessionRecord("s1", spec={}))

    await registry.flush()

    assert len(await registry.events(session_id="s1", after=0)) == 1200
    assert await registry.get("s1") is not None
    assert registry.health().persisted == 1200
    assert registry.health().batches - batches == 3  # batch_size 500


async def test_a_full_buffer_spills_to_disk_without_blocking(open_registry, tmp_path) -> None:
    spill = tmp_path / "spill" / "registry.jsonl"
    registry = await open_registry(buffer_bytes=2000, flush_interval=60, spill_path=spill)
    started = time.perf_counter()
    for n in range(1, 26):
        registry.append(event(n))
    assert time.perf_counter() - started < 0.5

    await registry.flush()
    while registry.health().status != "ok":  # catching up: writing the spill file
        await asyncio.sleep(0.01)

    assert [e.id - BASE for e in await registry.events(session_id="s1", after=0)] == list(range(1, 26))
    assert registry.health().spilled > 0 and registry.health().dropped == 0
    assert (registry.health().persisted, registry.health().pending_events) == (25, 0)
    assert not spill.exists()  # written, then removed


async def test_close_writes_what_is_queued_and_a_reopened_registry_sees_it(open_registry) -> None:
    registry = await open_registry(flush_interval=60)
    await registry.put(SessionRecord("s1", spec={"model": "m"}))
    for n in range(1, 6):
        registry.append(event(n))
    live = SessionRecord("s1", spec={"model": "m"}, status="running", turns=1)
    registry.update(live)

    await registry.close()
    assert registry.health().persisted == 5
    registry.append(event(6))  # after close: refused, counted
    assert registry.health().dropped == 1

    reopened = await open_registry()
    assert len(await reopened.events(session_id=None, after=0)) == 5
    assert await reopened.get("s1") == live
    assert await reopened.last_event_id() == BASE + 5
