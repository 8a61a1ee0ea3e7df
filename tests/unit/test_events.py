"""The event log: ids, replay after an id, live subscribers, the bounded buffer, the registry behind it."""

from __future__ import annotations

import asyncio
import time

from claude_agent_server.sessions import Event, EventClock, EventLog


def ids(log: EventLog, after: int = 0) -> list[int]:
    return [e.id for e in log.since(after)]


async def test_ids_increase_across_logs_and_restarts() -> None:
    clock = EventClock()
    first, second = EventLog("s1", clock), EventLog("s2", clock)
    made = [log.append("text_delta", text=str(n)).id for n in range(3) for log in (first, second)]
    assert made == sorted(made) and len(set(made)) == 6
    assert abs(made[0] - time.time_ns() // 1000) < 10_000_000  # microseconds since the epoch
    restarted = EventClock(last=made[-1] + 10**12)  # a registry whose last id lies in the future
    assert restarted.next() == made[-1] + 10**12 + 1


async def test_replay_after_an_id() -> None:
    log = EventLog("s1", EventClock(), maxlen=10)
    made = [log.append("text_delta", text=str(n)).id for n in range(5)]
    assert log.last_id == made[-1]
    assert ids(log, made[1]) == made[2:]
    assert log.since(made[-1]) == [] and log.since(made[-1] + 99) == []
    event = log.since(made[3])[0]
    assert event.to_dict() | {"created_at": 0} == {"id": made[4], "type": "text_delta", "session_id": "s1", "created_at": 0, "text": "4"}
    assert event.to_dict()["created_at"].endswith("+00:00")


async def test_buffer_is_bounded_and_replay_starts_at_the_oldest_kept() -> None:
    log = EventLog("s1", EventClock(), maxlen=3)
    made = [log.append("text_delta", text=str(n)).id for n in range(10)]
    assert ids(log) == made[-3:]
    assert ids(log, made[-3]) == made[-2:]


async def test_subscriber_gets_replay_then_live_then_ends_on_close() -> None:
    log = EventLog("s1", EventClock())
    made = [log.append("turn_started", message="hi").id]
    received: list[int] = []

    async def consume() -> None:
        async for event in log.subscribe(after=0):
            received.append(event.id)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    made.append(log.append("text_delta", text="a").id)
    await asyncio.sleep(0)
    made.append(log.append("result", result="a").id)
    log.close()
    await asyncio.wait_for(task, 1)
    assert received == made


async def test_many_subscribers_see_the_same_sequence() -> None:
    log = EventLog("s1", EventClock())

    async def consume() -> list[int]:
        return [e.id async for e in log.subscribe()]

    tasks = [asyncio.create_task(consume()) for _ in range(3)]
    await asyncio.sleep(0)
    made = [log.append("status", status="running").id for _ in range(4)]
    log.close()
    assert await asyncio.gather(*tasks) == [made] * 3


async def test_replay_continues_from_the_registry_after_a_trim() -> None:
    persisted: list[Event] = []

    async def history(after: int) -> list[Event]:
        return [e for e in persisted if e.id > after][:2]  # pages of two

    log = EventLog("s1", EventClock(), history=history, sink=lambda e: e.type != "text_delta" and persisted.append(e))
    made = [log.append("turn_started", message="hi").id, log.append("text_delta", text="a").id]
    made += [log.append("result", result="a").id, log.append("status", status="hibernated").id]
    log.trim()  # hibernated: the buffer goes, the registry stays
    assert log.since(0) == [] and log.last_id == made[-1]
    later = log.append("status", status="waking").id
    log.close()
    replayed = [e.id async for e in log.subscribe(after=0)]
    assert replayed == [made[0], made[2], made[3], later]  # the delta was never persisted
    assert [e.id async for e in log.subscribe(after=made[2])] == [made[3], later]


async def test_the_buffer_is_bounded_in_bytes_too() -> None:
    log = EventLog("s1", EventClock(), maxlen=100, max_bytes=10_000)
    made = [log.append("turn_started", message="x" * 3000).id for _ in range(5)]
    assert ids(log) == made[-3:]  # three of ~3.1 KB fit in 10 KB
    huge = log.append("turn_started", message="y" * 50_000).id
    assert ids(log) == [huge]  # the newest is kept whatever its size


async def test_a_cursor_up_to_the_clocks_bound_resumes_and_later_ids_exceed_it() -> None:
    clock = EventClock(last=1_000)  # a restarted server: the registry's newest id is old
    log = EventLog(None, clock)
    unstored = time.time_ns() // 1000 - 5  # e.g. a text_delta sent just before a crash
    assert unstored > log.last_id and clock.admit(unstored)
    assert log.append("session_status", status="connected", state="live").id > unstored
    ahead = clock.bound() + 10**9  # 1000 s in the future: no server on this clock sent it
    assert not clock.admit(ahead) and clock.last < ahead
    clock.last = 10**17  # a registry whose newest id is ahead of the wall clock
    assert clock.admit(10**17) and not clock.admit(10**17 + 1)
