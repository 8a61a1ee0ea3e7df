"""The feed on real PostgreSQL: text deltas sent by one node's feed reach another's, in order, and never its own events callback."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import make_url

from claude_agent_server.sessions.deltas import DeltaInbox, encode
from claude_agent_server.sessions.events import Event
from claude_agent_server.store import EventFeed
from databases import postgres_database

SID = "00000000-0000-4000-8000-000000000001"


async def test_deltas_go_from_one_feed_to_another_in_order_and_in_pieces() -> None:
    async with postgres_database() as url:
        heard: list[str] = []
        notified: list[str] = []
        arrived = asyncio.Event()

        def on_delta(payload: str) -> None:
            heard.append(payload)
            arrived.set()

        sender = await EventFeed.start(make_url(url), lambda node: None)
        receiver = await EventFeed.start(make_url(url), notified.append, on_delta)
        try:
            text = "ω" * 5000  # over PostgreSQL's 8000-byte payload once encoded: goes in pieces
            items = [(Event(i, "text_delta", SID, {"text": f"t{i}", "parent_tool_use_id": None}), 1) for i in range(10, 40)]
            items.append((Event(50, "text_delta", SID, {"text": text, "parent_tool_use_id": None}), 1))
            payloads = encode("a", items)
            await sender.notify(payloads)
            async with asyncio.timeout(10):
                while len(heard) < len(payloads):
                    await arrived.wait()
                    arrived.clear()
            assert heard == payloads and notified == []  # deltas only, on their own channel
            inbox = DeltaInbox("b")
            for payload in heard:
                inbox.received(payload)
            got = inbox.ready(lambda after: True)
            assert [e.id for e in got] == [*range(10, 40), 50] and got[-1].data["text"] == text
            with pytest.raises(Exception, match="payload string too long"):
                await sender.notify(["x" * 8001])  # what encode() never makes
        finally:
            await sender.close()
            await receiver.close()
