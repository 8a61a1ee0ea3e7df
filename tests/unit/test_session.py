"""A session's owner task, driven by the scripted fake client."""

from __future__ import annotations

import asyncio

import pytest
from claude_agent_server.sessions import (
    PermissionDecision,
    SessionManager,
    SessionNotFound,
    SessionRequest,
    SessionStartError,
    TurnInProgress,
)
from claude_agent_server.sessions.turns import build_reply, turn_events
from fakes import Ask, FakeClients, Hold, result, text


async def run(session, message: str) -> dict:
    started = await session.send(message)
    return build_reply(session.id, [e async for e in turn_events(session, started)])


async def test_turn_events_and_reply(manager: SessionManager, clients: FakeClients) -> None:
    session = await manager.create(SessionRequest(model="m1"))
    assert clients.last.options.session_id == session.id and clients.last.options.resume is None
    clients.enqueue(*text("hello"), result("hello"))
    reply = await run(session, "hi")
    assert clients.last.queries == ["hi"]
    assert reply["messages"] == [{"type": "text", "content": "hello"}]
    assert reply["result"] == "hello" and reply["cost_usd"] == 0.0012 and reply["is_error"] is False
    kinds = [e.type for e in session.events.since(0)]
    assert kinds == ["status", "status", "turn_started", "status", "text_delta", "assistant_message", "result", "status"]
    [started] = [e for e in session.events.since(0) if e.type == "turn_started"]
    assert clients.last.prompt_uuids == [started.data["user_message_uuid"]]  # the prompt's transcript uuid, chosen here
    assert session.status == "connected"
    entry = session.snapshot()
    assert entry["title"] == "hi" and entry["turns"] == 1 and entry["cost_usd"] == 0.0012
    assert entry["input_tokens"] == 3 and entry["output_tokens"] == 4 and entry["state"] == "live"
    await manager.shutdown(0)
    assert clients.last.disconnected and session.status == "hibernated"


async def test_second_turn_while_running_is_refused(manager: SessionManager, clients: FakeClients) -> None:
    session = await manager.create()
    hold = Hold()
    clients.enqueue(hold, result())
    started = await session.send("slow")
    assert session.status == "running" and manager.busy
    with pytest.raises(TurnInProgress):
        await session.send("again")
    hold.release.set()
    [e async for e in turn_events(session, started)]
    assert not manager.busy


async def test_permission_round_trip_and_interrupt(manager: SessionManager, clients: FakeClients) -> None:
    session = await manager.create()
    clients.enqueue(Ask("Bash", {"command": "ls"}), result())
    started = await session.send("list")
    await asyncio.sleep(0.05)
    [pending] = session.permissions.pending()
    assert session.status == "waiting_permission"
    session.permissions.respond(pending.request_id, PermissionDecision(allowed=True))
    reply = build_reply(session.id, [e async for e in turn_events(session, started)])
    assert [m["type"] for m in reply["messages"]] == ["tool_use", "tool_result"]
    assert reply["messages"][1] == {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ran", "is_error": False}

    clients.enqueue(Ask("Bash", {"command": "rm -rf /"}), Hold(), result())
    started = await session.send("dangerous")
    await asyncio.sleep(0.05)
    assert session.permissions.pending()
    assert await session.interrupt() is True
    events = [e async for e in turn_events(session, started)]
    assert events[-1].type == "result" and events[-1].data["terminal_reason"].startswith("aborted")
    [resolved] = [e.data for e in events if e.type == "permission_resolved"]
    assert resolved["allowed"] is False and resolved["reason"] == "interrupted"
    assert clients.last.interrupts == 1
    assert await session.interrupt() is False  # nothing running


async def test_close_denies_pending_and_disconnects(manager: SessionManager, clients: FakeClients) -> None:
    session = await manager.create()
    clients.enqueue(Ask("Write", {"file_path": "x"}), result())
    started = await session.send("write")
    await asyncio.sleep(0.05)
    await manager.close(session.id)
    events = [e async for e in turn_events(session, started)]
    assert events[-1].type == "error"
    [resolved] = [e.data for e in events if e.type == "permission_resolved"]
    assert resolved["allowed"] is False and resolved["reason"] == "session_closed"
    assert clients.last.disconnected and session.status == "closed"
    with pytest.raises(SessionNotFound):
        await manager.get(session.id)
    with pytest.raises(SessionNotFound):
        await session.send("more")


async def test_cli_death_mid_turn_ends_the_turn_with_an_error(manager: SessionManager, clients: FakeClients) -> None:
    session = await manager.create()
    clients.enqueue(Hold())
    started = await session.send("hang")
    clients.last.crash()
    events = [e async for e in turn_events(session, started)]
    assert events[-1].type == "error" and "agent process died (Claude Code exited" in events[-1].data["message"]
    assert events[-1].data["reason"] == "process_exited"
    assert session.status == "hibernated" and len(manager) == 0  # the next message wakes it
    reply = await run(session, "again")
    assert reply["result"] == "echo: again" and len(clients.clients) == 2 and len(manager) == 1


async def test_connect_failure_is_a_start_error_with_stderr(manager: SessionManager, clients: FakeClients) -> None:
    clients.fail_connect = "--dangerously-skip-permissions cannot be used with root/sudo privileges"
    with pytest.raises(SessionStartError) as caught:
        await manager.create(SessionRequest(permission_mode="bypassPermissions"))
    assert "root/sudo" in caught.value.detail and caught.value.exit_code == 1
    assert len(manager) == 0


async def test_model_mode_and_server_info_go_through_the_owner(manager: SessionManager, clients: FakeClients) -> None:
    session = await manager.create()
    await session.set_model("other")
    await session.set_permission_mode("plan")
    assert clients.last.models == ["other"] and clients.last.modes == ["plan"]
    assert session.model == "other" and session.permission_mode == "plan"
    assert (await session.server_info())["commands"] == [{"name": "help"}]


async def test_a_refused_control_request_is_command_rejected(manager: SessionManager, clients: FakeClients) -> None:
    from claude_agent_server.sessions import CommandRejected

    session = await manager.create()

    async def refuse(mode: object) -> None:
        raise Exception("Cannot set permission mode to bypassPermissions")

    clients.last.set_permission_mode = refuse  # type: ignore[method-assign]
    with pytest.raises(CommandRejected) as caught:
        await session.set_permission_mode("bypassPermissions")
    assert "refused set_permission_mode: Cannot set" in caught.value.detail
    assert session.permission_mode == "default" and session.status == "connected"


async def test_a_control_call_cut_short_by_close_is_not_found(manager: SessionManager, clients: FakeClients) -> None:
    session = await manager.create()
    entered = asyncio.Event()

    async def slow_model(model: object) -> None:
        entered.set()
        await asyncio.sleep(60)

    clients.last.set_model = slow_model  # type: ignore[method-assign]
    switching = asyncio.create_task(session.set_model("x"))
    await entered.wait()
    await manager.close(session.id)
    with pytest.raises(SessionNotFound):
        await switching
