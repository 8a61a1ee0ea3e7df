"""Lines typed while a turn runs (followups.py) against a fake server: what they ask for, that
they wait for the runner's own turn, the mode they are sent with, and a cancelled one."""

from __future__ import annotations

import asyncio
import io
import json

import httpx
from claude_agent_protocol import ErrorBody, TurnReply
from rich.console import Console

from claude_agent_client import commands
from claude_agent_client.api import AgentClient
from claude_agent_client.followups import Followups, Posted, parse_line
from claude_agent_client.live import TurnView
from client.fake_server import FakeServer, reply


def test_what_a_line_typed_during_a_turn_asks_for() -> None:
    assert parse_line("remember this") == ("queue", "remember this")
    assert parse_line("/steer  look at b.txt ") == ("steer", "look at b.txt")
    assert parse_line("/interrupt") == parse_line("interrupt") == "interrupt"
    assert parse_line("/steer") is None and parse_line("/help") is None
    assert parse_line("exit") is None and parse_line("quit") is None  # commands: they run once the turn has ended
    assert parse_line("exit the loop early") == ("queue", "exit the loop early")
    steer = commands.parse("/steer go on")
    assert steer is not None and steer[0].name == "steer" and steer[1] == "go on"
    assert commands.parse("steer the ship") is None  # prose without the slash


async def test_followups_wait_for_the_turn_then_go_with_their_mode() -> None:
    fake = FakeServer("s1")
    bodies: list[dict[str, str]] = []

    def messages(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        if body["message"] == "cancel me":
            return reply(ErrorBody(detail="the queued message was cancelled"), 409)
        return reply(TurnReply(session_id="s1", result="ok", num_turns=1))

    fake.routes["POST /sessions/s1/messages"] = messages
    console = Console(file=io.StringIO(), width=160, no_color=True)
    ended: list[Posted] = []
    async with AgentClient("http://test", transport=fake.transport) as client:
        followups = Followups(client, "s1", TurnView(console), ended.append)
        followups.send("queue", "first")
        followups.send("steer", "look here")
        await asyncio.sleep(0.05)
        assert bodies == [] and followups.waiting == ["first"]  # held until the runner's turn has started
        followups.open()
        followups.send("queue", "cancel me")
        while len(ended) < 3:
            await asyncio.sleep(0.01)
        assert sorted(map(json.dumps, bodies)) == sorted(map(json.dumps, [
            {"message": "first", "mode": "queue"}, {"message": "look here", "mode": "steer"}, {"message": "cancel me", "mode": "queue"},
        ]))
        assert followups.started("first") and not followups.started("someone else's")
        for posted in ended:
            followups.ended(posted)
        assert followups.waiting == []
        await followups.close()
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "⧗ queued: first" in out and "↪ steering the running turn: look here" in out
    assert "▶ running the queued message: first" in out and "✗ queued message cancelled: cancel me" in out
