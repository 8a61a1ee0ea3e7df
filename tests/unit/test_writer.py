"""The registry's writer against a scripted database that can go away: nothing accepted is
lost, the spill file carries it across an outage (and a restart), retries back off up to
their cap, rows come out in order and exactly once, and flush never waits for the outage."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc as sa

from claude_agent_server.store import EventRecord, RegistryUnavailable, SessionRecord
from claude_agent_server.store.spill import SpillFile
from claude_agent_server.store.writer import Writer

BASE = 1_740_000_000_000_000


class FakeDatabase:
    """Holds what it was written; ``up`` False: every commit fails as an unreachable server's
    would; ids in ``refuse`` fail for their data (an integrity error)."""

    def __init__(self) -> None:
        self.up = True
        self.refuse: set[int] = set()
        self.events: dict[int, dict[str, Any]] = {}
        self.inserted: list[int] = []
        """Ids in the order they were first inserted."""
        self.records: dict[str, dict[str, Any]] = {}
        self.attempts: list[float] = []
        """``time.monotonic()`` of every commit attempt."""

    async def commit(self, events: list[dict[str, Any]], records: list[dict[str, Any]]) -> int:
        self.attempts.append(time.monotonic())
        await asyncio.sleep(0)
        if not self.up:
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
        if refused := [e["id"] for e in events if e["id"] in self.refuse]:
            raise sa.IntegrityError("INSERT INTO events ...", {}, Exception(f"refused {refused}"))
        new = [e for e in events if e["id"] not in self.events]
        for event in new:
            self.events[event["id"]] = event
            self.inserted.append(event["id"])
        for record in records:
            self.records[record["session_id"]] = record
        return len(new)


def event(n: int) -> EventRecord:
    return EventRecord(BASE + n, "s1", "message", {"n": n, "text": "x" * 50}, "2025-03-01T12:00:00+00:00")


def record(turns: int) -> SessionRecord:
    return SessionRecord("s1", spec={"cwd": "/w"}, turns=turns, status="running")


async def wait_for(predicate: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def spill_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "registry-spill" / "test.jsonl"


async def test_an_outage_loses_nothing_and_everything_is_written_once_in_order(db: FakeDatabase, spill_file: Path) -> None:
    writer = Writer(db.commit, spill=SpillFile(spill_file), retry_delay=0.01, max_retry_delay=0.05)
    for n in range(1, 11):
        writer.append(event(n))
    writer.update(record(1))
    await writer.flush()
    assert db.inserted == list(range(BASE + 1, BASE + 11)) and writer.health().status == "ok"

    db.up = False
    for n in range(11, 41):
        writer.append(event(n))
        if n % 10 == 0:
            writer.update(record(n // 10 + 1))
    started = time.monotonic()
    await writer.flush()  # durable in the spill file: it does not wait for the database
    assert time.monotonic() - started < 2
    health = writer.health()
    assert health.status == "unavailable" and health.since is not None
    assert health.pending_events == 30 and health.spilled_bytes > 0 and spill_file.exists()
    with pytest.raises(RegistryUnavailable) as refused:
        writer.check()
    assert refused.value.retry_after >= 1
    for n in range(41, 51):  # a turn goes on: enqueueing never waits
        writer.append(event(n))
    writer.update(record(6))

    db.up = True
    await wait_for(lambda: writer.available and writer.health().pending_events == 0)
    await writer.flush()

    assert db.inserted == list(range(BASE + 1, BASE + 51))  # in order, each once
    assert db.records["s1"]["turns"] == 6  # the newest snapshot won
    assert (writer.persisted, writer.dropped) == (50, 0) and writer.spilled > 0
    assert not spill_file.exists()
    await writer.close()


async def test_retries_back_off_exponentially_up_to_the_cap(db: FakeDatabase) -> None:
    db.up = False
    writer = Writer(db.commit, retry_delay=0.02, max_retry_delay=0.16)
    writer.append(event(1))
    await wait_for(lambda: len(db.attempts) >= 7)
    gaps = [later - earlier for earlier, later in zip(db.attempts, db.attempts[1:], strict=False)][:6]
    for gap, expected in zip(gaps, [0.02, 0.04, 0.08, 0.16, 0.16, 0.16], strict=True):
        assert expected * 0.9 <= gap < expected + 0.5, gaps
    db.up = True
    await writer.flush()
    assert db.inserted == [BASE + 1]
    await writer.close()


async def test_without_a_spill_file_flush_gives_up_after_its_timeout_and_nothing_is_lost(db: FakeDatabase) -> None:
    db.up = False
    writer = Writer(db.commit, retry_delay=0.01, max_retry_delay=0.05, flush_timeout=0.3)
    for n in range(1, 6):
        writer.append(event(n))
    with pytest.raises(RegistryUnavailable):
        await writer.flush()
    db.up = True
    await writer.flush()
    assert db.inserted == [BASE + n for n in range(1, 6)] and writer.dropped == 0
    await writer.close()


async def test_without_a_spill_file_an_outage_drops_only_beyond_the_memory_bound(db: FakeDatabase) -> None:
    db.up = False
    writer = Writer(db.commit, retry_delay=0.01, max_retry_delay=0.02, buffer_bytes=3000)
    for n in range(1, 41):
        writer.append(event(n))
    await wait_for(lambda: writer.dropped > 0)
    db.up = True
    await writer.flush()
    assert writer.dropped + len(db.inserted) == 40
    assert db.inserted == sorted(db.inserted) and db.inserted[-1] == BASE + 40  # the oldest went first
    await writer.close()


async def test_a_batch_refused_for_its_data_is_written_row_by_row(db: FakeDatabase) -> None:
    db.refuse = {BASE + 3}
    writer = Writer(db.commit)
    for n in range(1, 6):
        writer.append(event(n))
    writer.update(record(1))
    await writer.flush()
    assert db.inserted == [BASE + 1, BASE + 2, BASE + 4, BASE + 5] and db.records["s1"]["turns"] == 1
    assert writer.dropped == 1 and writer.available
    await writer.close()


async def test_close_during_an_outage_spills_and_the_next_writer_writes_it(db: FakeDatabase, spill_file: Path) -> None:
    writer = Writer(db.commit, spill=SpillFile(spill_file), retry_delay=0.01, max_retry_delay=0.05)
    writer.append(event(1))
    await writer.flush()
    db.up = False
    for n in range(2, 8):
        writer.append(event(n))
    writer.update(record(2))
    started = time.monotonic()
    await writer.close()
    assert time.monotonic() - started < 2 and spill_file.exists()
    assert writer.dropped == 0

    db.up = True
    reopened = Writer(db.commit, spill=SpillFile(spill_file))
    assert reopened.health().pending_events == 6 and not reopened.available
    await reopened.caught_up(10)
    assert db.inserted == [BASE + n for n in range(1, 8)] and db.records["s1"]["turns"] == 2
    assert not spill_file.exists()
    await reopened.close()


async def test_a_reader_meeting_an_outage_makes_the_writer_probe_until_it_answers(db: FakeDatabase) -> None:
    writer = Writer(db.commit, retry_delay=0.01, max_retry_delay=0.02)
    db.up = False
    error = writer.unreachable(ConnectionRefusedError(111, "refused"))
    assert error.retry_after >= 1 and writer.health().status == "unavailable"
    await wait_for(lambda: len(db.attempts) >= 2)  # probes: nothing waits to be written
    db.up = True
    await wait_for(lambda: writer.available)
    assert db.inserted == []
    await writer.close()


def test_a_line_cut_short_by_a_crash_is_cut_off(spill_file: Path) -> None:
    spill = SpillFile(spill_file)
    spill.append([{"id": 1, "data": {}}, {"id": 2, "data": {}}], [])
    with spill_file.open("ab") as file:
        file.write(b'{"event":{"id":3,"da')
    reopened = SpillFile(spill_file)
    assert reopened.events == 2
    chunk = reopened.read(10)
    assert [row["id"] for row in chunk.events] == [1, 2]
    reopened.append([{"id": 4, "data": {}}], [])
    assert [row["id"] for row in SpillFile(spill_file).read(10).events] == [1, 2, 4]
    assert spill_file.stat().st_mode & 0o777 == 0o600


async def test_a_permission_request_is_written_at_once_other_events_after_the_interval(db: FakeDatabase) -> None:
    """A person may answer a permission request through another node, or after this one dies:
    it is written without waiting for the batch interval (here an hour); other events wait."""
    writer = Writer(db.commit, flush_interval=3600)
    writer.append(event(1))
    await asyncio.sleep(0.2)
    assert db.inserted == []
    writer.append(EventRecord(BASE + 2, "s1", "permission_request", {"request_id": "r"}, "2025-03-01T12:00:00+00:00"))
    await wait_for(lambda: db.inserted == [BASE + 1, BASE + 2], timeout=5)
    writer.append(event(3))
    await asyncio.sleep(0.2)
    assert db.inserted == [BASE + 1, BASE + 2]
    await writer.close()


async def test_a_flush_writes_itself_while_the_task_is_idle_and_never_beside_it(db: FakeDatabase) -> None:
    """A flush commits what waits in the caller's own task when the writer task is not writing
    (no wake-up of the task and then of the caller); while the task writes, the flush waits for
    it instead: one batch at a time, every row once."""
    tasks: list[str] = []
    running = 0
    release = asyncio.Event()

    async def commit(events: list[dict[str, Any]], records: list[dict[str, Any]]) -> int:
        nonlocal running
        running += 1
        assert running == 1, "two batches at once"
        tasks.append(asyncio.current_task().get_name())  # type: ignore[union-attr]
        try:
            if events and events[0]["id"] == BASE + 2:
                await release.wait()  # the task's batch, held
            return await db.commit(events, records)
        finally:
            running -= 1

    writer = Writer(commit, flush_interval=60)
    writer.append(event(1))
    writer.update(record(1))
    await asyncio.sleep(0.01)  # the task waits for the interval: it is not writing
    await writer.flush()
    assert tasks == [asyncio.current_task().get_name()]  # type: ignore[union-attr]
    assert db.inserted == [BASE + 1] and db.records["s1"]["turns"] == 1

    writer.append(event(2))
    writer.update(record(2))
    held = asyncio.ensure_future(writer.flush())  # this one wakes the task, whose batch is held
    await wait_for(lambda: len(tasks) == 2)
    assert tasks[1] == "registry-writer"
    writer.append(event(3))
    late = asyncio.ensure_future(writer.flush())
    await asyncio.sleep(0.05)
    assert not late.done()  # behind the task's batch, not beside it
    release.set()
    await asyncio.gather(held, late)
    assert db.inserted == [BASE + 1, BASE + 2, BASE + 3] and db.records["s1"]["turns"] == 2
    await writer.close()
