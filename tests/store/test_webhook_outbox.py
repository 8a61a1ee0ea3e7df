"""Webhook deliveries wait in the registry's outbox: claimed by one node at a time, delivered by
another node (or after a restart) when the one that queued them stops, each once in normal operation."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx

from claude_agent_server.notify import WebhookSender
from claude_agent_server.sessions import Event
from claude_agent_server.store import SqlRegistry
from store.conftest import OpenRegistry

URL = "http://receiver.test/hook"


def result_event(event_id: int) -> Event:
    return Event(event_id, "result", "s1", {"result": f"turn {event_id}"}, "2026-12-07T00:00:00+00:00")  # type: ignore[arg-type]


async def wait_for(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


class Receiver:
    """A scripted receiver: records each POST's ``webhook-id``; ``hold`` keeps every answer back."""

    def __init__(self, hold: bool = False) -> None:
        self.ids: list[str] = []
        self.hold = asyncio.Event() if hold else None

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if self.hold is not None:
            await self.hold.wait()
        self.ids.append(request.headers["webhook-id"])
        assert json.loads(request.content)["type"] == "turn_completed"
        return httpx.Response(204)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def sender(registry: SqlRegistry, node: str, receiver: Receiver, **options: float) -> WebhookSender:
    made = WebhookSender([URL], None, registry.webhooks, node, transport=receiver.transport(), **options)  # type: ignore[arg-type]
    made.start()
    return made


async def test_a_delivery_is_claimed_by_one_node_until_its_claim_expires(open_registry: OpenRegistry) -> None:
    registries = [await open_registry() for _ in range(3)]
    outbox = registries[0].webhooks
    outbox.add(URL, "msg_1", "{}")
    outbox.add(URL, "msg_1", "{}")  # the same delivery: skipped
    await outbox.flush()
    assert await outbox.waiting() == 1
    claims = await asyncio.gather(*(r.webhooks.claim(f"n{i}", 10, 60) for i, r in enumerate(registries) for _ in range(2)))
    [(winner, [delivery])] = [(i // 2, c) for i, c in enumerate(claims) if c]
    assert (delivery.url, delivery.message_id, delivery.body) == (URL, "msg_1", "{}")
    loser = registries[(winner + 1) % 3].webhooks
    await loser.done(delivery.id, "nobody")  # not its claim: nothing happens
    assert await outbox.waiting() == 1
    await registries[winner].webhooks.unclaim(f"n{winner}")  # it stopped: any node may take it
    assert [d.id for d in await loser.claim("late", 10, -1.0)] == [delivery.id]  # a claim that has already expired
    assert [d.id for d in await outbox.claim("next", 10, 60)] == [delivery.id]
    await outbox.done(delivery.id, "next")
    assert await outbox.waiting() == 0 and not await outbox.due()


async def test_the_outbox_keeps_the_newest_deliveries_up_to_its_cap(registry: SqlRegistry) -> None:
    outbox = registry.webhooks
    outbox.cap = 3
    for i in range(5):
        outbox.add(URL, f"msg_{i}", "{}")
        await outbox.flush()
    assert outbox.dropped == 2
    assert [d.message_id for d in await outbox.claim("n", 10, 60)] == ["msg_2", "msg_3", "msg_4"]


async def test_a_delivery_left_by_a_stopped_server_is_delivered_after_its_restart(open_registry: OpenRegistry, database_url: str) -> None:
    stuck = Receiver(hold=True)  # never answers: the server stops while it waits
    first = await open_registry()
    before = sender(first, "node:1", stuck)
    before.observe(result_event(1))
    await wait_for(lambda: bool(before._sending))  # claimed and being sent
    await before.close(grace=0.1)  # the server stops (its registry is closed by the fixture)
    assert stuck.ids == [] and await first.webhooks.waiting() == 1
    receiver = Receiver()
    after = await open_registry()  # the same database, as after a restart (another port: another node id)
    restarted = sender(after, "node:2", receiver, poll=0.05)
    try:
        await wait_for(lambda: receiver.ids == ["msg_1"])
        await wait_for(lambda: restarted.deliveries.labels("delivered")._value.get() == 1)
        await asyncio.sleep(0.2)
        assert receiver.ids == ["msg_1"] and await after.webhooks.waiting() == 0
    finally:
        await restarted.close()


async def test_a_dead_nodes_claimed_delivery_is_made_by_another_node(open_registry: OpenRegistry) -> None:
    a, b = await open_registry(), await open_registry()
    stuck, receiver = Receiver(hold=True), Receiver()
    dying = sender(a, "a", stuck, claim_seconds=0.5)
    dying.observe(result_event(7))
    await wait_for(lambda: bool(dying._sending))  # a holds the claim (b starts after: it cannot win the first claim)
    dying._task.cancel()  # type: ignore[union-attr]  # a dies: it neither sends nor gives its claim back
    for task in list(dying._sending):
        task.cancel()
    other = sender(b, "b", receiver, poll=0.05)
    try:
        await wait_for(lambda: receiver.ids == ["msg_7"])  # once a's claim has expired
        await asyncio.sleep(0.2)
        assert receiver.ids == ["msg_7"] and stuck.ids == []
    finally:
        dying._task = None
        await other.close()


async def test_each_delivery_arrives_once_with_two_nodes_sending(open_registry: OpenRegistry) -> None:
    a, b = await open_registry(), await open_registry()
    receiver = Receiver()
    senders = [sender(a, "a", receiver, poll=0.02), sender(b, "b", receiver, poll=0.02)]
    try:
        for i in range(1, 21):
            senders[i % 2].observe(result_event(i))
        await wait_for(lambda: len(receiver.ids) >= 20)
        await asyncio.sleep(0.3)
        assert Counter(receiver.ids) == Counter(f"msg_{i}" for i in range(1, 21))  # each once
        assert await a.webhooks.waiting() == 0
    finally:
        for made in senders:
            await made.close()
