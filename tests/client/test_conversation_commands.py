"""The terminal client's conversation commands against a fake server: ``/fork``."""

from __future__ import annotations

import io
import json

import httpx
from claude_agent_protocol import ErrorBody, ForkedSession, ForkPointView, SessionHistory, SessionStatusView
from rich.console import Console

from claude_agent_client import commands
from claude_agent_client.api import AgentClient
from claude_agent_client.chat import Chat
from claude_agent_client.config import parse_args
from client.fake_server import FakeServer, ScriptedInput, reply

MESSAGE = "11111111-1111-4111-8111-111111111111"


async def test_fork_command_switches_to_the_fork() -> None:
    fake = FakeServer("s1")
    fork_status = SessionStatusView(session_id="s2", status="connected", permission_mode="default", cwd="/w")
    fake.routes["GET /sessions/s2/status"] = lambda request: reply(fork_status)
    fake.routes["GET /sessions/s2/history"] = SessionHistory(session_id="s2", messages=[])
    answers = [reply(ErrorBody(detail="session s1 has no message x"), 404),
               reply(ForkedSession(session_id="s2", forked_from=ForkPointView(session_id="s1", message_id=MESSAGE)), 201)]
    fake.routes["POST /sessions/s1/fork"] = lambda request: answers.pop(0)
    out = Console(file=io.StringIO(), width=160, no_color=True)
    async with AgentClient("http://test", transport=fake.transport) as client:
        chat = Chat(client, out, ScriptedInput(), parse_args([], {}))
        await chat.open("s1")
        parsed = commands.parse(f"/fork {MESSAGE}")
        assert parsed is not None and parsed[0].name == "fork" and commands.parse("fork") is not None
        await parsed[0].run(chat, parsed[1])
        assert "Cannot fork" in out.file.getvalue() and chat.session_id == "s1"  # type: ignore[attr-defined]
        await parsed[0].run(chat, parsed[1])
        assert chat.session_id == "s2" and "Forked from s1" in out.file.getvalue()  # type: ignore[attr-defined]
    sent = [json.loads(r.content) for r in fake.seen("POST", "/sessions/s1/fork")]
    assert sent == [{"at_message_id": MESSAGE}] * 2
    assert isinstance(fake.requests[0], httpx.Request)
