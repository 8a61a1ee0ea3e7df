"""Forward compatibility: what a newer server may add (an event type, a status, a state, an
origin, a reply item, a field) must not break this client; what breaks the contract is one
clear error, never a traceback. Against a scripted server (httpx.MockTransport)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from claude_agent_protocol import SessionEntry
from rich.console import Console

from claude_agent_client.api import AgentClient
from claude_agent_client.chat import Chat
from claude_agent_client.config import parse_args
from claude_agent_client.errors import APIError
from claude_agent_client.picker import recent_sessions
from claude_agent_client.turn import TurnRunner
from claude_agent_client.wire import StatusSnapshot
from client.fake_server import BIG_ID, NOW, FakeServer, ScriptedInput, events, sse

NEWER = {"shard": "eu-2", "labels": {"team": "x"}}
"""Fields a newer server adds to every object."""


@pytest.fixture
async def opened() -> AsyncIterator[list[AgentClient]]:
    clients: list[AgentClient] = []
    yield clients
    for client in clients:
        await client.aclose()


def client_for(fake: FakeServer, opened: list[AgentClient]) -> AgentClient:
    client = AgentClient("http://test", transport=fake.transport)
    opened.append(client)
    return client


def frame(offset: int, kind: str, **fields: object) -> dict[str, object]:
    """A raw event as a newer server would send it (not built from this version's models)."""
    return {"id": BIG_ID + offset, "type": kind, "session_id": "s1", "created_at": NOW, **NEWER, **fields}


async def test_a_turn_with_a_newer_server_s_events_runs_to_its_end(opened: list[AgentClient]) -> None:
    fake = FakeServer()
    fake.turn = [
        *events("s1", (1, "turn_started", {"message": "hello"})),
        frame(2, "subagent_started", agent="explorer"),  # an event type this client does not know
        frame(3, "status", status="migrating"),  # a status it does not know
        frame(4, "assistant_message", content=[
            {"type": "image", "media_type": "image/png", "data": "iVBOR"},  # a reply item it does not know
            {"type": "text", "content": "Still here.", **NEWER},
        ]),
        frame(5, "result", num_turns=1, duration_ms=1200, turn_cost_usd=0.001, session_cost_usd=0.002, carbon_grams=0.3),
    ]
    out = Console(file=io.StringIO(), width=120, no_color=True)
    outcome = await TurnRunner(client_for(fake, opened), "s1", ScriptedInput(), out).run("hello")
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert outcome.status == "done" and outcome.result is not None and outcome.result.type == "result"
    assert "Still here." in text and "── turn $0.0010 · session $0.0020 · 1 turn · 1.2 s" in text
    assert "✗" not in text and "explorer" not in text


async def test_replies_with_a_newer_server_s_values_are_read(opened: list[AgentClient]) -> None:
    fake = FakeServer()
    fake.status.cwd = "/w/app"
    status = {**fake.status.model_dump(mode="json"), "status": "migrating", **NEWER}
    fake.routes["GET /sessions/s1/status"] = lambda request: httpx.Response(200, json=status)
    entry = {
        **SessionEntry(session_id="s1", created_at=NOW, last_activity=NOW, status="connected", state="live", cwd="/w/app").model_dump(mode="json"),
        "status": "migrating", "state": "moving", "origin": "mcp", **NEWER,
    }
    fake.routes["GET /sessions"] = lambda request: httpx.Response(200, json={"sessions": [entry], "counts": {"live": 1, "hibernated": 0, "warm": 0, "moving": 1}})
    fake.routes["GET /sessions/available"] = lambda request: httpx.Response(200, json={"sessions": [], **NEWER})
    fake.routes["POST /sessions/s1/messages"] = lambda request: httpx.Response(200, json={
        "session_id": "s1", "messages": [{"type": "image", "data": "x"}, {"type": "text", "content": "hi"}], "result": "hi", **NEWER,
    })
    client = client_for(fake, opened)

    [listed] = await client.list_sessions()
    assert (listed.status, listed.state, listed.origin) == ("migrating", "moving", "mcp")
    [row] = await recent_sessions(client, None, limit=5)
    assert row.session_id == "s1"
    reply = await client.send_message("s1", "hello")
    assert [item.type for item in reply.messages] == ["text"] and reply.result == "hi"

    chat = Chat(client, Console(file=io.StringIO(), width=120, no_color=True), ScriptedInput(), parse_args([], {}))
    await chat.open("s1")
    assert chat.session is not None and chat.session.status == "migrating"
    assert "migrating" in chat.toolbar_text()  # shown as it is


async def test_a_reply_that_breaks_the_contract_is_one_clear_error(opened: list[AgentClient]) -> None:
    fake = FakeServer()
    fake.routes["GET /sessions"] = lambda request: httpx.Response(200, json={"sessions": [{"session_id": "s1"}]})
    fake.turn = [frame(1, "result", num_turns="many")]
    client = client_for(fake, opened)
    with pytest.raises(APIError) as broken:
        await client.list_sessions()
    assert broken.value.status_code == 200
    assert broken.value.message.startswith("GET /sessions: a reply this client cannot read (sessions.0.created_at: Field required")

    out = Console(file=io.StringIO(), width=120, no_color=True)
    outcome = await TurnRunner(client, "s1", ScriptedInput(), out).run("hello")
    assert outcome.status == "failed" and outcome.detail is not None
    assert "an event this client cannot read (result.num_turns: Input should be a valid integer" in outcome.detail


async def test_the_snapshot_of_a_newer_server_still_opens_the_stream() -> None:
    snapshot = {"type": "status", "session_id": "s1", "status": "migrating", "last_event_id": BIG_ID, **NEWER}

    async def body() -> AsyncIterator[bytes]:
        yield sse(snapshot)
        yield sse(frame(1, "status", status="connected"))

    transport = httpx.MockTransport(lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body()))
    async with AgentClient("http://test", transport=transport) as client:
        got = [event async for event in client.events("s1")]
    assert isinstance(got[0], StatusSnapshot) and (got[0].status, got[0].busy, got[0].last_event_id) == ("migrating", False, BIG_ID)
    assert [(e.type, e.status) for e in got[1:]] == [("status", "connected")]
