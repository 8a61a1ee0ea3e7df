"""Parking permission requests (fakes): the transcript deferral, the hook's answers, the broker's
parked requests, and a session parked at shutdown, listed after a restart and resumed by its answer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from claude_agent_sdk import ToolPermissionContext

from claude_agent_server.sessions import PermissionDecision, PermissionNotFound
from claude_agent_server.sessions.deferral import DEFERRED, decision_json, deferred_marker, hook_answer
from claude_agent_server.sessions.parking import CONTINUATION
from claude_agent_server.sessions.permissions import ParkedRequest, PermissionBroker
from fakes import Ask, FakeClients, result

USE = {
    "type": "assistant", "uuid": "a-1", "parentUuid": "u-1", "cwd": "/w", "sessionId": "s", "version": "2.1.330",
    "message": {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}]},
}
ASKED = {"type": "user", "uuid": "u-1", "parentUuid": None, "message": {"role": "user", "content": "run `ls`"}}


def test_the_deferral_follows_the_parked_call_once() -> None:
    marker = deferred_marker([ASKED, USE], "toolu_1", "default")
    assert marker is not None and marker["parentUuid"] == "a-1" and marker["type"] == "attachment"
    assert marker["attachment"] == {
        "type": DEFERRED, "toolUseID": "toolu_1", "toolName": "Bash", "toolInput": {"command": "ls"},
        "hookName": "parked", "hookEvent": "PreToolUse", "permissionMode": "default",
    }
    assert (marker["sessionId"], marker["cwd"], marker["version"]) == ("s", "/w", "2.1.330") and marker["uuid"] != "a-1"
    assert deferred_marker([ASKED, USE, marker], "toolu_1", "default") is None  # written already


def test_a_call_with_a_result_or_no_call_cannot_be_resumed() -> None:
    answered = {"type": "user", "uuid": "r-1", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Tool permission request failed: AbortError", "is_error": True}]}}
    with pytest.raises(LookupError, match="already holds"):
        deferred_marker([ASKED, USE, answered], "toolu_1", "default")
    with pytest.raises(LookupError, match="no tool call"):
        deferred_marker([ASKED], "toolu_1", "default")


def test_the_hook_defers_allows_or_denies() -> None:
    assert hook_answer(None)["hookSpecificOutput"]["permissionDecision"] == "defer"
    allowed = hook_answer(PermissionDecision(True, updated_input={"command": "ls -a"}))["hookSpecificOutput"]
    assert allowed["permissionDecision"] == "allow" and allowed["updatedInput"] == {"command": "ls -a"}
    denied = hook_answer(PermissionDecision(False, message="not that"))["hookSpecificOutput"]
    assert denied == {"hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": "not that"}


async def test_a_parked_request_stays_pending_and_its_answer_goes_to_the_callback() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    answered: list[ParkedRequest] = []
    broker = PermissionBroker(lambda type, **data: events.append((type, data)), timeout=0, parked_answer=answered.append)
    ask = asyncio.create_task(broker.can_use_tool("Bash", {"command": "ls"}, ToolPermissionContext(suggestions=[], tool_use_id="toolu_1")))
    await asyncio.sleep(0.01)
    [request] = broker.pending()
    [parked] = broker.park()
    assert parked is request and (await ask).behavior == "deny"  # the CLI is killed before it reads this
    assert [r.request_id for r in broker.pending()] == [request.request_id]
    assert broker.pending()[0].to_dict() == request.to_dict()
    assert [t for t, _ in events] == ["permission_request"]  # parked: not resolved
    broker.respond(request.request_id, PermissionDecision(True))
    assert [p.request_id for p in answered] == [request.request_id] and answered[0].decision == PermissionDecision(True)
    assert events[-1][0] == "permission_resolved" and events[-1][1]["allowed"] is True
    assert broker.pending() == []
    with pytest.raises(PermissionNotFound):
        broker.respond(request.request_id, PermissionDecision(False))


async def test_a_subagents_request_is_in_the_registry_while_it_waits_so_every_node_lists_it(
    make_manager: Any, clients: FakeClients
) -> None:
    manager = await make_manager(permission_timeout=5)
    session = await manager.create()
    clients.enqueue(Ask("Bash", {"command": "ls"}, agent_id="agent-1"), result())
    await session.send("run `ls` in a subagent")
    async with asyncio.timeout(5):
        while not session.permissions.pending():
            await asyncio.sleep(0.01)
    [request] = session.permissions.pending()
    [listed] = await manager.requests_elsewhere(session.id)  # what another node lists for it
    assert listed.request_id == request.request_id and listed.to_dict()["agent_id"] == "agent-1"
    await manager.shutdown(1)  # a subagent's request is not parked: it is denied, and its row goes
    async with asyncio.timeout(5):
        while await manager.registry.parked.of_session(session.id):
            await asyncio.sleep(0.01)
    assert request.resolved


async def parked_at_shutdown(make_manager: Any, clients: FakeClients) -> tuple[Any, Any]:
    """A manager whose session asked to run Bash and was shut down while the request waited."""
    manager = await make_manager()
    session = await manager.create()
    clients.enqueue(Ask("Bash", {"command": "ls"}), result())
    await session.send("run `ls`")
    while not session.permissions.pending():
        await asyncio.sleep(0.01)
    await manager.transcripts.seed(session.id, session.spec.cwd, [ASKED, {**USE, "sessionId": session.id}])  # what the CLI wrote
    await manager.shutdown(1)
    return manager, session


async def test_a_request_parked_at_shutdown_is_pending_after_a_restart_and_its_answer_continues_the_turn(
    make_manager: Any, clients: FakeClients
) -> None:
    manager, session = await parked_at_shutdown(make_manager, clients)
    [row] = await manager.registry.parked.of_session(session.id)
    assert row.tool_use_id == "toolu_1" and row.decision is None

    restarted = await make_manager()
    again = await restarted.get(session.id)
    assert again.status == "waiting_permission" and again.record.state == "hibernated"
    [pending] = again.permissions.pending()
    assert pending.request_id == row.request_id
    again.permissions.respond(row.request_id, PermissionDecision(True))
    while clients.last.options.hooks is None:  # the answer wakes it, with the hook that applies it
        await asyncio.sleep(0.01)
    [matcher] = clients.last.options.hooks["PreToolUse"]
    [hook] = matcher.hooks
    assert (await hook({}, "toolu_other", None)) == {}  # another call: the usual permission check
    assert (await hook({}, "toolu_1", None))["hookSpecificOutput"]["permissionDecision"] == "allow"
    entries = await restarted.transcripts.store.load({"project_key": _key(session.spec.cwd), "session_id": session.id})
    assert entries[-1]["attachment"]["toolUseID"] == "toolu_1"  # the CLI resumes the deferred call from here
    clients.last._messages.put_nowait(result("ran"))
    while again.busy or again.status != "connected":  # the continued turn ended with its result
        await asyncio.sleep(0.01)
    for _ in range(100):
        if not await restarted.registry.parked.of_session(session.id):
            break
        await asyncio.sleep(0.01)
    assert await restarted.registry.parked.of_session(session.id) == []  # applied: forgotten


async def test_a_continuation_the_server_stopped_before_its_wake_was_recorded_is_ended_and_continued_at_restart(
    make_manager: Any, clients: FakeClients
) -> None:
    manager, session = await parked_at_shutdown(make_manager, clients)
    [row] = await manager.registry.parked.of_session(session.id)
    # What a server left that stopped between storing the answer and recording the wake: the
    # answer and the continuation's turn_started are stored, the record is still hibernated.
    assert await manager.registry.parked.answer(row.request_id, decision_json(PermissionDecision(True)))
    lost = manager.journal.record(session.id, "turn_started", message=CONTINUATION)
    await manager.registry.flush()
    assert (await manager.registry.get(session.id)).state == "hibernated"  # type: ignore[union-attr]
    assert await manager.registry.parked.sessions(answered=True) == [session.id]

    restarted = await make_manager()  # nothing asks for the session: the start-up scan continues it
    async with asyncio.timeout(10):
        while clients.last.options.hooks is None:
            await asyncio.sleep(0.01)
    again = await restarted.get(session.id)
    clients.last._messages.put_nowait(result("ran"))
    async with asyncio.timeout(10):
        while again.busy or again.status != "connected":
            await asyncio.sleep(0.01)
    await restarted.registry.flush()
    after = [(e.type, e.data.get("reason") or e.data.get("message")) for e in await restarted.registry.events(session_id=session.id, after=lost.id)]
    assert [a for a in after if a[0] != "status"][:3] == [
        ("error", "server_restart"), ("turn_started", CONTINUATION), ("result", None)
    ]  # the lost turn is ended before the continuation starts; the continuation ends with its result


def _key(cwd: Any) -> str:
    from claude_agent_sdk import project_key_for_directory

    return project_key_for_directory(cwd)


async def test_a_parked_request_older_than_the_parked_timeout_is_denied(make_manager: Any, clients: FakeClients) -> None:
    manager = await make_manager(permission_timeout=0)  # 0: a live request waits until answered
    session = await manager.create()
    clients.enqueue(Ask("Bash", {"command": "ls"}), result())
    await session.send("run `ls`")
    await asyncio.sleep(0.05)
    assert session.permissions.pending()  # no timeout
    await manager.transcripts.seed(session.id, session.spec.cwd, [ASKED, {**USE, "sessionId": session.id}])
    await manager.shutdown(1)

    made = len(clients.clients)
    restarted = await make_manager(parked_permission_timeout=0.05)
    await asyncio.sleep(0.1)
    again = await restarted.get(session.id)
    assert again.permissions.pending() == []
    [row] = await restarted.registry.parked.of_session(session.id)
    assert row.decision is not None and row.decision["reason"] == "timeout" and row.decision["allowed"] is False
    assert [e.data["reason"] for e in again.events.since(0) if e.type == "permission_resolved"][-1:] == ["timeout"]
    async with asyncio.timeout(10):  # the refusal continues the turn (the agent is told) in a woken CLI
        while len(clients.clients) == made or clients.last.options.hooks is None:
            await asyncio.sleep(0.01)
    clients.last._messages.put_nowait(result("told"))
    async with asyncio.timeout(10):
        while again.busy:
            await asyncio.sleep(0.01)


async def test_closing_a_parked_session_forgets_its_requests(make_manager: Any, clients: FakeClients) -> None:
    manager, session = await parked_at_shutdown(make_manager, clients)
    restarted = await make_manager()
    again = await restarted.get(session.id)
    assert again.permissions.pending()
    await again.close()
    assert await restarted.registry.parked.of_session(session.id) == []
