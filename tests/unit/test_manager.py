"""The session manager: ids, cwd confinement, limits, conflicts, options."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_agent_server.sessions import (
    InvalidSessionRequest,
    ManagerConfig,
    ModelRoute,
    SessionConflict,
    SessionManager,
    SessionNotFound,
    TooManySessions,
    TranscriptNotFound,
    parse_session_id,
)
from fakes import FakeClients


@pytest.fixture
def clients() -> FakeClients:
    return FakeClients()


def make(tmp_path: Path, clients: FakeClients, **config: object) -> SessionManager:
    return SessionManager(ManagerConfig(workspace=tmp_path, **config), client_factory=clients)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "", "x" * 36, "12345678-1234-1234-1234-1234567890123"])
def test_session_ids_must_be_uuids(bad: str) -> None:
    with pytest.raises(InvalidSessionRequest):
        parse_session_id(bad)


def test_session_ids_are_canonicalised() -> None:
    assert parse_session_id("6F1C3C8E6A534F0E9F3E0C5B8F2D7A11") == "6f1c3c8e-6a53-4f0e-9f3e-0c5b8f2d7a11"


def test_cwd_is_confined_to_the_workspace(tmp_path: Path, clients: FakeClients) -> None:
    manager = make(tmp_path, clients)
    (tmp_path / "project").mkdir()
    (tmp_path / "link-out").symlink_to("/")
    assert manager.resolve_cwd(None) == tmp_path
    assert manager.resolve_cwd("project") == tmp_path / "project"
    assert manager.resolve_cwd(str(tmp_path / "project" / "..")) == tmp_path
    for bad in ("..", "/", "link-out", "project/../../", "missing"):
        with pytest.raises(InvalidSessionRequest):
            manager.resolve_cwd(bad)


async def test_limit_conflict_and_unknown(tmp_path: Path, clients: FakeClients) -> None:
    manager = make(tmp_path, clients, max_sessions=1)
    session = await manager.create()
    with pytest.raises(TooManySessions):
        await manager.create()
    with pytest.raises(SessionConflict):
        await manager.create(session_id=session.id)
    with pytest.raises(SessionNotFound):
        await manager.close("00000000-0000-4000-8000-000000000000")
    await manager.close(session.id)
    assert len(manager) == 0
    await manager.create()  # the slot is free again


async def test_resume_needs_a_transcript(tmp_path: Path, clients: FakeClients) -> None:
    manager = make(tmp_path, clients)
    with pytest.raises(TranscriptNotFound):
        await manager.create(resume_session_id="00000000-0000-4000-8000-000000000000")
    assert clients.clients == []


async def test_options_carry_the_request(tmp_path: Path, clients: FakeClients) -> None:
    manager = make(tmp_path, clients, default_model="default-model")
    await manager.create(
        system_prompt="be brief", allowed_tools=["Read"], disallowed_tools=["WebFetch"], max_turns=3,
        permission_mode="acceptEdits",
    )
    options = clients.last.options
    assert options.model == "default-model" and options.system_prompt == "be brief"
    assert options.allowed_tools == ["Read"] and options.disallowed_tools == ["WebFetch"] and options.max_turns == 3
    assert options.permission_mode == "acceptEdits" and options.include_partial_messages is True
    assert options.cwd == str(tmp_path) and options.env == {}  # inherits the server's environment
    await manager.create(append_system_prompt="also this", model="m")
    assert clients.last.options.system_prompt == {"type": "preset", "preset": "claude_code", "append": "also this"}


async def test_proxied_session_environment(tmp_path: Path, clients: FakeClients) -> None:
    manager = make(tmp_path, clients)
    await manager.create(model="gpt-x", route=ModelRoute("http://127.0.0.1:9999", "key"))
    env = clients.last.options.env
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9999" and env["ANTHROPIC_API_KEY"] == "key"
    assert env["CLAUDE_CODE_USE_BEDROCK"] == "0"
    assert env["ANTHROPIC_SMALL_FAST_MODEL"] == "gpt-x" and env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "gpt-x"
    await manager.create(model="gpt-x", route=ModelRoute("http://127.0.0.1:9999", "key", background_model="small"))
    assert clients.last.options.env["ANTHROPIC_SMALL_FAST_MODEL"] == "small"


async def test_unknown_permission_mode(tmp_path: Path, clients: FakeClients) -> None:
    with pytest.raises(InvalidSessionRequest):
        await make(tmp_path, clients).create(permission_mode="yolo")


async def test_idle_sessions_are_closed_busy_ones_are_not(tmp_path: Path, clients: FakeClients) -> None:
    from fakes import Hold

    manager = make(tmp_path, clients, idle_timeout=60)
    idle, busy = await manager.create(), await manager.create()
    clients.enqueue(Hold())
    await busy.send("working")
    later = idle.last_activity + 61
    busy.last_activity = idle.last_activity  # as old, but running a turn
    assert await manager.close_idle(now=later) == [idle.id]
    assert idle.closed and not busy.closed and [s.id for s in manager.sessions()] == [busy.id]
    assert await make(tmp_path, clients).close_idle(now=later + 10**6) == []  # 0: never
