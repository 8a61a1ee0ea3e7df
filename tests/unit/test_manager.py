"""The session manager: ids, cwd confinement, the live cap, hibernation, races, recovery, options."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from claude_agent_server.sessions import (
    InvalidSessionRequest,
    ModelRoute,
    ServerShuttingDown,
    SessionConflict,
    SessionManager,
    SessionNotFound,
    SessionRequest,
    TooManySessions,
    TranscriptNotFound,
    parse_session_id,
)
from claude_agent_server.sessions.turns import turn_events
from claude_agent_server.observability import ServerMetrics
from fakes import FakeClients, Hold, result

MakeManager = Callable[..., Awaitable[SessionManager]]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "", "x" * 36, "12345678-1234-1234-1234-1234567890123"])
def test_session_ids_must_be_uuids(bad: str) -> None:
    with pytest.raises(InvalidSessionRequest):
        parse_session_id(bad)


def test_session_ids_are_canonicalised() -> None:
    assert parse_session_id("6F1C3C8E6A534F0E9F3E0C5B8F2D7A11") == "6f1c3c8e-6a53-4f0e-9f3e-0c5b8f2d7a11"


async def test_cwd_is_confined_to_the_workspace(tmp_path: Path, manager: SessionManager) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "link-out").symlink_to("/")
    assert manager.resolve_cwd(None) == tmp_path
    assert manager.resolve_cwd("project") == tmp_path / "project"
    assert manager.resolve_cwd(str(tmp_path / "project" / "..")) == tmp_path
    for bad in ("..", "/", "link-out", "project/../../", "missing"):
        with pytest.raises(InvalidSessionRequest):
            manager.resolve_cwd(bad)


async def test_the_least_recently_used_idle_session_makes_room(make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await make_manager(max_live_sessions=2)
    first, second = await manager.create(), await manager.create()
    await second.send("touch")  # first is now the least recently used
    await asyncio.sleep(0.01)
    third = await manager.create()
    assert (first.status, second.status, third.status) == ("hibernated", "connected", "connected")
    assert manager.live_count == 2 and clients.clients[0].disconnected
    started = await first.send("wake up")  # wakes it; second is now the least recently used
    assert [e.data["status"] for e in first.events.since(0) if e.type == "status"][:3] == ["waking", "connected", "running"]
    await consume(first, started)
    assert second.status == "hibernated" and manager.live_count == 2
    with pytest.raises(SessionConflict):
        await manager.create(SessionRequest(session_id=second.id))  # hibernated is still in the registry
    with pytest.raises(SessionNotFound):
        await manager.close("00000000-0000-4000-8000-000000000000")


async def test_when_every_live_session_is_busy_the_answer_is_too_many(make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await make_manager(max_live_sessions=1)
    busy = await manager.create()
    hold = Hold()
    clients.enqueue(hold, result())
    started = await busy.send("working")
    with pytest.raises(TooManySessions) as caught:
        await manager.create()
    assert caught.value.retry_after == 5 and manager.live_count == 1 and len(clients.clients) == 1
    hold.release.set()
    await consume(busy, started)
    await manager.create()  # idle again: it makes room


async def test_concurrent_creates_of_one_id_start_one_process(make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await make_manager(max_live_sessions=3)
    sid = "6f1c3c8e-6a53-4f0e-9f3e-0c5b8f2d7a11"
    outcomes = await asyncio.gather(*(manager.create(SessionRequest(session_id=sid)) for _ in range(8)), return_exceptions=True)
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert all(isinstance(o, SessionConflict) for o in outcomes if isinstance(o, BaseException))
    assert len(clients.clients) == 1 and manager.live_count == 1


async def test_concurrent_agentcore_calls_share_one_session(manager: SessionManager, clients: FakeClients) -> None:
    sid = "6f1c3c8e-6a53-4f0e-9f3e-0c5b8f2d7a11"
    sessions = await asyncio.gather(*(manager.open_agentcore(sid, "h" * 40) for _ in range(5)))
    assert {s.id for s in sessions} == {sid} and len({id(s) for s in sessions}) == 1 and len(clients.clients) == 1
    assert sessions[0].record.agentcore_session_id == "h" * 40
    await sessions[0].hibernate()
    again = await manager.open_agentcore(sid, "h" * 40)
    assert again is sessions[0] and again.status == "hibernated"  # woken by its next turn, not by the lookup


async def test_resume_needs_a_transcript(manager: SessionManager, clients: FakeClients) -> None:
    with pytest.raises(TranscriptNotFound):
        await manager.create(SessionRequest(resume_session_id="00000000-0000-4000-8000-000000000000"))
    assert clients.clients == []


async def test_options_carry_the_request(tmp_path: Path, make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await make_manager(default_model="default-model")
    await manager.create(SessionRequest(
        system_prompt="be brief", allowed_tools=["Read"], disallowed_tools=["WebFetch"], max_turns=3,
        permission_mode="acceptEdits",
    ))
    options = clients.last.options
    assert options.model == "default-model" and options.system_prompt == "be brief"
    assert options.allowed_tools == ["Read"] and options.disallowed_tools == ["WebFetch"] and options.max_turns == 3
    assert options.permission_mode == "acceptEdits" and options.include_partial_messages is True
    assert options.cwd == str(tmp_path) and options.env == {}  # inherits the server's environment
    await manager.create(SessionRequest(append_system_prompt="also this", model="m"))
    assert clients.last.options.system_prompt == {"type": "preset", "preset": "claude_code", "append": "also this"}


async def test_proxied_session_environment(make_manager: MakeManager, clients: FakeClients) -> None:
    def route_for(spec, model_key):  # type: ignore[no-untyped-def]
        return ModelRoute("http://127.0.0.1:9999", model_key, spec.background_model) if spec.enable_proxy else None

    manager = await make_manager(route_for=route_for)
    await manager.create(SessionRequest(model="gpt-x", enable_proxy=True))
    env = clients.last.options.env
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9999" and manager.model_key_valid(env["ANTHROPIC_API_KEY"])
    assert env["CLAUDE_CODE_USE_BEDROCK"] == "0"
    assert env["ANTHROPIC_SMALL_FAST_MODEL"] == "gpt-x" and env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "gpt-x"
    session = await manager.create(SessionRequest(model="gpt-x", enable_proxy=True, background_model="small"))
    assert clients.last.options.env["ANTHROPIC_SMALL_FAST_MODEL"] == "small"
    first_key = clients.last.options.env["ANTHROPIC_API_KEY"]
    await session.hibernate()
    assert not manager.model_key_valid(first_key)  # a model key lives as long as its process
    await session.server_info()  # the woken CLI keeps the route, with a new key
    assert clients.last.options.env["ANTHROPIC_SMALL_FAST_MODEL"] == "small"
    assert manager.model_key_valid(clients.last.options.env["ANTHROPIC_API_KEY"]) and not manager.model_key_valid("")


async def test_the_server_settings_never_reach_a_session(manager: SessionManager, clients: FakeClients, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_SERVER_API_KEY", "master-key")
    await manager.create()
    assert clients.last.options.env == {"AGENT_SERVER_API_KEY": ""}


async def test_unknown_permission_mode(manager: SessionManager) -> None:
    with pytest.raises(InvalidSessionRequest):
        await manager.create(SessionRequest(permission_mode="yolo"))


async def test_idle_sessions_are_hibernated_busy_ones_are_not(make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await make_manager(idle_timeout=60)
    idle, busy = await manager.create(), await manager.create()
    clients.enqueue(Hold())
    await busy.send("working")
    later = idle.last_activity + 61
    busy.record.last_activity = idle.record.last_activity  # as old, but running a turn
    assert await manager.hibernate_idle(now=later) == [idle.id]
    assert idle.status == "hibernated" and busy.status == "running" and manager.live_count == 1
    assert {e["session_id"] for e in await manager.list()} == {idle.id, busy.id}
    assert await (await make_manager()).hibernate_idle(now=later + 10**6) == []  # 0: never


async def test_a_restart_recovers_the_registry(make_manager: MakeManager, clients: FakeClients) -> None:
    before = await make_manager()
    session = await before.create(SessionRequest(model="m1"))
    clients.enqueue(Hold())
    started = await session.send("a turn the server will not finish")
    await before.registry.flush()  # what a killed server had written
    after = await make_manager()  # same database, as after kill -9
    [entry] = await after.list()
    assert entry["session_id"] == session.id and entry["status"] == "hibernated" and entry["model"] == "m1"
    assert after.clock.last > started.id
    recovered = await after.get(session.id)
    events = []
    async for event in recovered.events.subscribe(after=started.id - 1):  # replayed from the registry
        events.append(event)
        if event.type == "status" and event.data["status"] == "hibernated":
            break
    assert [e.type for e in events] == ["turn_started", "status", "error", "status"]
    assert events[1].data["status"] == "running" and events[2].data["reason"] == "server_restart"
    clients.enqueue()  # the next turn, in a new process
    started = await recovered.send("again")
    assert started.id > events[-1].id and recovered.status in ("running", "connected")


async def test_a_restart_ends_the_turn_its_event_log_shows_whatever_the_record_says(make_manager: MakeManager, clients: FakeClients) -> None:
    """The record a killed server left may not say "in a turn" while one ran: e.g. ``waking`` (a parked
    request's answer resumes its turn, ``turn_started`` first, then wakes the CLI). The event log decides."""
    from dataclasses import replace

    before = await make_manager()
    session = await before.create()
    clients.enqueue(Hold())
    started = await session.send("a turn the server will not finish")
    await before.registry.flush()
    left = await before.registry.get(session.id)
    assert left is not None and left.status == "running"
    await before.registry.put(replace(left, status="waking"))  # what a killed server had written
    after = await make_manager()
    stored = await after.registry.events(session_id=session.id, after=started.id)
    assert [(e.type, e.data.get("reason") or e.data.get("status")) for e in stored][-2:] == [
        ("error", "server_restart"), ("status", "hibernated"),
    ]


async def test_shutdown_refuses_new_work_and_parks_a_pending_permission(make_manager: MakeManager, clients: FakeClients) -> None:
    from fakes import Ask

    manager = await make_manager()
    session = await manager.create()
    clients.enqueue(Ask("Bash", {"command": "ls"}), result())
    started = await session.send("ask")
    await asyncio.sleep(0.05)
    drain = manager.begin_shutdown(grace=5)
    with pytest.raises(ServerShuttingDown):
        await manager.create()
    with pytest.raises(ServerShuttingDown):
        await session.send("more")
    events = await consume(session, started)
    assert not [e for e in events if e.type == "permission_resolved"]  # parked, not denied
    assert events[-1].type == "error" and events[-1].data["reason"] == "permission_parked"
    await drain
    await manager.shutdown(5)
    assert session.status == "waiting_permission" and clients.last.disconnected and manager.live_count == 0
    [parked] = await manager.registry.parked.of_session(session.id)
    assert parked.request["tool_input"] == {"command": "ls"} and parked.decision is None


async def consume(session, started):  # type: ignore[no-untyped-def]
    return [e async for e in turn_events(session, started)]


async def test_a_refused_wake_announces_nothing_and_counts_no_wake(make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await make_manager(max_live_sessions=1)
    metrics = ServerMetrics()
    manager.observers.append(metrics.observe)
    sleeper = await manager.create()
    await sleeper.hibernate()
    busy = await manager.create()
    hold = Hold()
    clients.enqueue(hold, result())
    started = await busy.send("working")
    mark, own_mark = manager.events.last_id, sleeper.events.last_id

    for _ in range(3):
        with pytest.raises(TooManySessions):
            await sleeper.send("wake up")

    assert sleeper.status == "hibernated" and sleeper.events.since(own_mark) == []
    assert [e for e in manager.events.since(mark) if e.session_id == sleeper.id] == []
    await manager.registry.flush()
    assert await manager.registry.events(session_id=sleeper.id, after=own_mark) == []
    assert metrics.registry.get_sample_value("claude_agent_server_wakes_total") == 0
    hold.release.set()
    await consume(busy, started)
    await consume(sleeper, await sleeper.send("wake up"))  # room now: one real wake
    assert metrics.registry.get_sample_value("claude_agent_server_wakes_total") == 1


async def test_recovery_events_reach_the_global_stream(make_manager: MakeManager, clients: FakeClients) -> None:
    before = await make_manager()
    session = await before.create()
    clients.enqueue(Hold())
    started = await session.send("a turn the server will not finish")
    await before.registry.flush()  # what a killed server had written
    after = await make_manager()
    seen = []

    async def follow() -> None:
        async for event in after.events.subscribe(after=started.id):
            seen.append(event)
            if event.type == "session_status" and event.data["status"] == "hibernated":
                return

    await asyncio.wait_for(follow(), 5)  # the previous server's session_status running, then recovery's
    assert [(e.type, e.session_id) for e in seen][-2:] == [("error", session.id), ("session_status", session.id)]
    assert seen[-2].data["reason"] == "server_restart"
    assert seen[-1].data == {"status": "hibernated", "state": "hibernated"}


async def test_a_turns_end_is_durable_when_the_caller_gets_it(make_manager: MakeManager) -> None:
    manager = await make_manager()
    session = await manager.create()
    started = await session.send("hello")
    ended = (await consume(session, started))[-1]
    assert ended.type == "result"
    # Read without a flush: the writer had it before the caller did.
    stored = await manager.registry.events(session_id=session.id, after=started.id - 1)
    assert [e.type for e in stored if e.type in ("turn_started", "result")] == ["turn_started", "result"]
    assert (await manager.registry.get(session.id)).turns == 1



async def test_a_session_being_closed_leaves_the_list_at_once(manager: SessionManager, clients: FakeClients) -> None:
    """DELETE answers before the CLI has stopped: the list must not show it meanwhile."""
    session = await manager.create()
    stopping = asyncio.Event()

    async def slow_settle() -> None:  # a start still under way: the close waits for it
        await stopping.wait()

    session._transitions.settle = slow_settle  # type: ignore[method-assign]
    await manager.close(session.id, wait=False)
    try:
        await asyncio.sleep(0.05)
        assert session.closing
        assert session.id not in {entry["session_id"] for entry in await manager.list()}
    finally:
        stopping.set()
    await session.close()
    assert session.closed and session.id not in {entry["session_id"] for entry in await manager.list()}
