"""Sessions no human watches: the ``deny`` permission policy, scratch working directories, tool sets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from claude_agent_sdk import PermissionResultDeny

from claude_agent_server.sessions import InvalidSessionRequest, SessionManager, SessionRequest, TranscriptNotFound
from claude_agent_server.sessions.options import NO_HUMAN_MESSAGE
from claude_agent_server.sessions.turns import turn_events
from fakes import Ask, FakeClients, result

MakeManager = Callable[..., Awaitable[SessionManager]]


async def test_the_deny_policy_answers_every_permission_request_at_once(make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await make_manager(permission_timeout=300)
    session = await manager.create(SessionRequest(permission_policy="deny"))
    clients.enqueue(Ask("Bash", {"command": "touch x"}), result("denied"))
    started = await session.send("touch x")
    events = [event async for event in turn_events(session, started)]
    [answer] = clients.last.answers
    assert isinstance(answer, PermissionResultDeny) and answer.message == NO_HUMAN_MESSAGE and not answer.interrupt
    resolved = [e.data for e in events if e.type == "permission_resolved"]
    assert resolved and resolved[0]["reason"] == "policy" and resolved[0]["allowed"] is False
    with pytest.raises(InvalidSessionRequest):
        await manager.create(SessionRequest(permission_policy="ask-the-intern"))


async def test_scratch_sessions_get_their_own_empty_directory_and_tool_set(make_manager: MakeManager, clients: FakeClients, tmp_path: Path) -> None:
    manager = await make_manager(scratch_root=tmp_path / "scratch")
    session = await manager.create(SessionRequest(scratch_cwd=True, tools=[], setting_sources=[]))
    assert Path(session.cwd) == (tmp_path / "scratch" / session.id).resolve() and not any(Path(session.cwd).iterdir())
    options = clients.last.options
    assert options.tools == [] and options.setting_sources == [] and options.cwd == session.cwd
    with pytest.raises(TranscriptNotFound):  # resuming a scratch session needs its transcript in its own directory
        await manager.create(SessionRequest(scratch_cwd=True, resume_session_id="0b6f0a36-2f6e-4d44-8a3f-9fb5f3b4b0a1"))


async def test_without_a_scratch_root_there_are_no_scratch_sessions(manager: SessionManager) -> None:
    with pytest.raises(InvalidSessionRequest):
        await manager.create(SessionRequest(scratch_cwd=True))
