"""The API-client layer against the real server (demo model, real Claude Code CLI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from claude_agent_client.api import AgentClient
from claude_agent_client.errors import (
    AuthenticationError,
    Conflict,
    InvalidRequest,
    NotFound,
    ServerUnavailable,
)
from claude_agent_client.stream import EventFollower
from claude_agent_client.wire import TURN_END, StatusSnapshot, history_content, history_text
from client.relay import Relay
from servers import ServerProcess, free_port, running_server

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[AgentClient]:
    async with AgentClient(server.url) as live:
        yield live


@pytest.fixture
async def session_id(client: AgentClient, workdir: Path) -> AsyncIterator[str]:
    created = await client.create_session(cwd=str(workdir))
    yield created.session_id
    try:
        await client.close_session(created.session_id)
    except NotFound:
        pass


async def turn_events(client: AgentClient, session_id: str, message: str, answer=None) -> list[Any]:  # type: ignore[no-untyped-def]
    """Subscribe, post ``message`` in the background, collect events until the turn ends;
    ``answer(event)`` is awaited for each permission request."""
    events: list[Any] = []
    post: asyncio.Task[object] | None = None
    async for event in EventFollower(client, session_id):
        if isinstance(event, StatusSnapshot):
            post = asyncio.create_task(client.send_message(session_id, message))
            continue
        events.append(event)
        if event.type == "permission_request" and answer is not None:
            await answer(event)
        if event.type in TURN_END:
            break
    assert post is not None
    await post
    return events


async def test_health_and_session_lifecycle(client: AgentClient, workdir: Path) -> None:
    health = await client.health()
    assert health.status == "healthy"
    created = await client.create_session(cwd=str(workdir), model="demo-model-a", permission_mode="acceptEdits")
    assert (created.cwd, created.model, created.permission_mode, created.resumed) == (str(workdir), "demo-model-a", "acceptEdits", False)
    assert created.session_id in [s.session_id for s in await client.list_sessions()]
    status = await client.status(created.session_id)
    assert (status.status, status.permission_mode, status.pending_permissions) == ("connected", "acceptEdits", [])

    reply = await client.send_message(created.session_id, "remember that the code word is teal")
    assert not reply.is_error and reply.num_turns >= 1 and reply.result
    history = await client.history(created.session_id)
    assert any("code word is teal" in history_text(m) for m in history if history_content(m)[0] == "user")

    await client.close_session(created.session_id)
    with pytest.raises(NotFound) as missing:
        await client.status(created.session_id)
    assert missing.value.status_code == 404 and created.session_id in missing.value.message
    available = await client.available_sessions(cwd=str(workdir))
    assert [s.session_id for s in available] == [created.session_id] and not available[0].live

    resumed = await client.create_session(resume_session_id=created.session_id)
    assert resumed.resumed and resumed.session_id == created.session_id
    recall = await client.send_message(created.session_id, "what did I ask you to remember?")
    assert "code word is teal" in (recall.result or "")
    await client.close_session(created.session_id)


async def test_streamed_turn_has_deltas_and_a_result(client: AgentClient, session_id: str) -> None:
    events = [e async for e in client.stream_message(session_id, "hello")]
    types = [e.type for e in events]
    assert types[0] == "turn_started" and types[-1] == "result"
    assert all(e.id is not None for e in events) and [e.id for e in events] == sorted({e.id for e in events})  # type: ignore[type-var]
    deltas = "".join(e.text for e in events if e.type == "text_delta")
    whole = [i.content for e in events if e.type == "assistant_message" for i in e.content if i.type == "text"]
    assert deltas and whole == [deltas]
    result = events[-1]
    assert result.turn_cost_usd is not None and result.session_cost_usd is not None  # the fields the server adds to a result


async def test_permission_allow_and_deny(client: AgentClient, session_id: str, workdir: Path) -> None:
    async def allow(event: Any) -> None:
        await client.respond_permission(session_id, event.request_id, True)

    events = await turn_events(client, session_id, "create a file yes.txt with content hello", allow)
    request = next(e for e in events if e.type == "permission_request")
    assert request.tool_name == "Write" and request.tool_input["file_path"] == str(workdir / "yes.txt")
    resolved = next(e for e in events if e.type == "permission_resolved")
    assert (resolved.allowed, resolved.reason, resolved.applied_suggestions) == (True, "user", False)
    assert any(e.type == "tool_result" and not e.is_error for e in events)
    assert (workdir / "yes.txt").read_text().strip() == "hello"

    async def deny(event: Any) -> None:
        await client.respond_permission(session_id, event.request_id, False, message="not today")
        with pytest.raises(NotFound):  # answered already: the id is stale
            await client.respond_permission(session_id, event.request_id, True)

    events = await turn_events(client, session_id, "create a file no.txt with content hello", deny)
    result = next(e for e in events if e.type == "tool_result")
    assert result.is_error and "not today" in result.content
    assert not (workdir / "no.txt").exists()


async def test_pending_permission_shows_in_status_and_interrupt_denies_it(client: AgentClient, session_id: str) -> None:
    post = asyncio.create_task(client.send_message(session_id, "create a file later.txt with content x"))
    for _ in range(300):
        status = await client.status(session_id)
        if status.pending_permissions:
            break
        await asyncio.sleep(0.1)
    assert status.status == "waiting_permission" and status.busy
    assert status.pending_permissions[0].tool_name == "Write"
    with pytest.raises(Conflict) as busy:
        await client.send_message(session_id, "hello")
    assert busy.value.status_code == 409
    assert await client.interrupt(session_id) is True
    reply = await post
    assert reply.terminal_reason and reply.terminal_reason.startswith("aborted")
    assert await client.interrupt(session_id) is False


async def test_model_switch_and_errors(client: AgentClient, session_id: str) -> None:
    await client.set_model(session_id, "x-api-model")
    reply = await client.send_message(session_id, "which model are you?")
    assert "x-api-model" in (reply.result or "")
    await client.set_model(session_id, None)
    await client.set_permission_mode(session_id, "plan")
    assert (await client.status(session_id)).permission_mode == "plan"
    with pytest.raises(InvalidRequest) as bad_mode:
        await client.set_permission_mode(session_id, "bogus")
    assert bad_mode.value.status_code == 422 and "mode" in bad_mode.value.message
    with pytest.raises(InvalidRequest) as bad_id:
        await client.status("not-a-uuid")
    assert bad_id.value.status_code == 400
    with pytest.raises(NotFound):
        await client.respond_permission(session_id, "no-such-request", True)
    with pytest.raises(NotFound):
        await client.create_session(resume_session_id=UNKNOWN)
    info = await client.server_info(session_id)
    assert isinstance(info.get("commands"), list)


async def test_hibernate_then_a_message_wakes_the_session(client: AgentClient, session_id: str) -> None:
    await client.send_message(session_id, "remember that the word is ochre")
    await client.hibernate(session_id)
    status = await client.status(session_id)
    assert (status.status, status.hibernated, status.busy, status.pending_permissions) == ("hibernated", True, False, [])
    listed = next(s for s in await client.list_sessions() if s.session_id == session_id)
    assert (listed.state, listed.title, listed.turns) == ("hibernated", "remember that the word is ochre", 1)

    events = await turn_events(client, session_id, "what did I ask you to remember?")
    statuses = [e.status for e in events if e.type == "status"]
    assert statuses[:2] == ["waking", "connected"], statuses
    assert "the word is ochre" in next(e for e in events if e.type == "result").result
    assert (await client.status(session_id)).status == "connected"


async def test_unreachable_server_raises_server_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with AgentClient(url) as nowhere:
        with pytest.raises(ServerUnavailable) as down:
            await nowhere.health()
    assert down.value.url == url


async def test_api_key_is_sent_and_required(tmp_path: Path) -> None:
    with running_server(tmp_path, "--demo", api_key="s3cret") as secured:
        async with AgentClient(secured.url) as anonymous:
            assert (await anonymous.health()).status == "healthy"  # health needs no key
            with pytest.raises(AuthenticationError) as denied:
                await anonymous.list_sessions()
            assert denied.value.status_code == 401
        async with AgentClient(secured.url, api_key="s3cret") as keyed:
            assert await keyed.list_sessions() == []


async def test_follower_reconnects_without_duplicates_or_gaps(client: AgentClient, session_id: str, server: ServerProcess) -> None:
    async with Relay(server.port) as relay, AgentClient(relay.url) as through_relay:
        follower = EventFollower(through_relay, session_id, retry_delays=(0.1, 0.2, 0.5))
        events: list[Any] = []
        cuts = 0
        post: asyncio.Task[object] | None = None
        async for event in follower:
            if isinstance(event, StatusSnapshot):
                if post is None:
                    post = asyncio.create_task(client.send_message(session_id, "count slowly"))
                continue
            events.append(event)
            if event.type == "text_delta" and cuts < 2 and len([e for e in events if e.type == "text_delta"]) in (3, 8):
                relay.cut()
                cuts += 1
            if event.type in TURN_END:
                break
        assert post is not None
        await post
    assert follower.reconnects == 2 and relay.connections >= 3
    ids = [e.id for e in events]
    replayed = []  # the session's own record of the turn: ids increase but need not be contiguous
    async for event in client.events(session_id, last_event_id=0):
        if not isinstance(event, StatusSnapshot) and event.id >= ids[0]:
            replayed.append(event.id)
        if getattr(event, "id", None) == ids[-1]:
            break
    assert ids == replayed, f"lost or repeated events: {ids} != {replayed}"
    deltas = "".join(e.text for e in events if e.type == "text_delta")
    whole = "".join(i.content for e in events if e.type == "assistant_message" for i in e.content if i.type == "text")
    assert deltas == whole and whole.startswith("Counting slowly")


async def test_follower_gives_up_when_the_server_is_gone(tmp_path: Path) -> None:
    with running_server(tmp_path, "--demo") as doomed:
        async with Relay(doomed.port) as relay, AgentClient(relay.url) as client:
            created = await client.create_session()
            follower = EventFollower(client, created.session_id, retry_delays=(0.1, 0.1))
            iterator = aiter(follower)
            assert isinstance(await anext(iterator), StatusSnapshot)
            relay.target_port = free_port()  # nothing listens there: every reconnection fails
            relay.cut()
            with pytest.raises(ServerUnavailable):
                await anext(iterator)
        async with AgentClient(doomed.url) as direct:
            await direct.close_session(created.session_id)
