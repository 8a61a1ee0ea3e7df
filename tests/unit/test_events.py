"""The event log: ids, replay after an id, live subscribers, the bounded buffer."""

from __future__ import annotations

import asyncio

from claude_agent_server.sessions import EventLog


async def test_ids_increase_and_replay_after_an_id() -> None:
    log = EventLog("s1", maxlen=10)
    for n in range(5):
        log.append("text_delta", text=str(n))
    assert log.last_id == 5
    assert [e.id for e in log.since(2)] == [3, 4, 5]
    assert log.since(5) == [] and log.since(99) == []
    event = log.since(4)[0]
    assert event.to_dict()["type"] == "text_delta"
    assert event.to_dict() | {"created_at": 0} == {"id": 5, "type": "text_delta", "session_id": "s1", "created_at": 0, "text": "4"}
    assert event.to_dict()["created_at"].endswith("+00:00")


async def test_buffer_is_bounded_and_replay_starts_at_the_oldest_kept() -> None:
    log = EventLog("s1", maxlen=3)
    for n in range(10):
        log.append("text_delta", text=str(n))
    assert [e.id for e in log.since(0)] == [8, 9, 10]
    assert [e.id for e in log.since(8)] == [9, 10]


async def test_subscriber_gets_replay_then_live_then_ends_on_close() -> None:
    log = EventLog("s1")
    log.append("turn_started", message="hi")
    received: list[int] = []

    async def consume() -> None:
        async for event in log.subscribe(after=0):
            received.append(event.id)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    log.append("text_delta", text="a")
    await asyncio.sleep(0)
    log.append("result", result="a")
    log.close()
    await asyncio.wait_for(task, 1)
    assert received == [1, 2, 3]


async def test_many_subscribers_see_the_same_sequence() -> None:
    log = EventLog("s1")

    async def consume() -> list[int]:
        return [e.id async for e in log.subscribe()]

    tasks = [asyncio.create_task(consume()) for _ in range(3)]
    await asyncio.sleep(0)
    for _ in range(4):
        log.append("status", status="running")
    log.close()
    assert await asyncio.gather(*tasks) == [[1, 2, 3, 4]] * 3
