"""The client's pure parts: command parsing, answers, warnings, rendering, flags."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from claude_agent_protocol import CreatedSession, ResultEvent, TurnReply
from rich.console import Console

from claude_agent_client import commands, render
from claude_agent_client.app import _resume_hint
from claude_agent_client.api import AgentClient
from claude_agent_client.chat import Chat
from claude_agent_client.inputs import PlainInput
from claude_agent_client.config import history_file, parse_args
from claude_agent_client.errors import APIError, Conflict, InvalidRequest, ServerError, error_for_status
from claude_agent_client.live import TurnView
from claude_agent_client.permissions import Answer, parse_answer
from claude_agent_client.risk import warnings_for
from client.fake_server import NOW, events, reply


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("exit", ("exit", "")),
        ("/quit", ("exit", "")),
        ("clear", ("clear", "")),
        ("clear the cache in app.py", None),  # prose goes to the model
        ("model", ("model", "")),
        ("model claude-x", ("model", "claude-x")),
        ("model is great", None),
        ("/model default", ("model", "default")),
        ("mode plan", ("mode", "plan")),
        ("mode of transport", None),
        ("/mode bogus", ("mode", "bogus")),  # with a slash it is a command (which reports the bad mode)
        ("help me write a poem", None),
        ("hello", None),
        ("  /history  ", ("history", "")),
    ],
)
def test_parse_commands(line: str, expected: tuple[str, str] | None) -> None:
    parsed = commands.parse(line)
    assert (None if parsed is None else (parsed[0].name, parsed[1])) == expected


def test_unknown_slash_command() -> None:
    with pytest.raises(commands.UnknownCommand) as unknown:
        commands.parse("/frobnicate now")
    assert unknown.value.name == "frobnicate"
    assert commands.parse("/usr/bin is a directory") is None  # a path, not a command: a message
    assert commands.parse("/frobnicate\nsecond line") is None  # multi-line text is always a message
    assert {c.name for c in commands.COMMANDS} >= {"exit", "clear", "sessions", "model", "mode", "interrupt", "info", "history", "help"}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("y", Answer(True)),
        ("YES", Answer(True)),
        ("a", Answer(True, always=True)),
        ("", Answer(False)),
        ("n", Answer(False)),
        ("n use git mv instead", Answer(False, message="use git mv instead")),
        ("d", "details"),
        ("maybe", None),
    ],
)
def test_parse_answer(reply: str, expected: object) -> None:
    assert parse_answer(reply) == expected


def test_risk_warnings() -> None:
    assert warnings_for("Bash", {"command": "ls -la"}, "/w") == []
    assert any("rm -rf" in w for w in warnings_for("Bash", {"command": "rm -rf build"}, "/w"))
    assert any("sudo" in w for w in warnings_for("Bash", {"command": "sudo apt install x"}, "/w"))
    assert any("/etc/passwd" in w for w in warnings_for("Bash", {"command": "echo x >> /etc/passwd"}, "/w"))
    assert warnings_for("Bash", {"command": "echo x > out.txt 2>&1"}, "/w") == []
    assert any("outside the working directory" in w for w in warnings_for("Write", {"file_path": "/etc/hosts"}, "/w"))
    assert warnings_for("Write", {"file_path": "/w/sub/a.txt"}, "/w") == []
    assert warnings_for("Write", {"file_path": "/w/a.txt"}, "/w", blocked_path="/w/a.txt") == []


def test_render_helpers() -> None:
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    assert render.age("2026-01-02T11:55:00+00:00", now) == "5 min ago"
    assert render.age("2026-01-01T11:00:00Z", now) == "1 d ago"
    assert render.age("garbage", now) == "?"
    rule = {"type": "addRules", "behavior": "allow", "rules": [{"toolName": "Bash", "ruleContent": "echo hi *"}]}
    assert render.describe_suggestion(rule) == "allow Bash(echo hi *)"
    assert render.describe_suggestion({"type": "setMode", "mode": "acceptEdits"}) == "switch to acceptEdits mode"


def _events(*items: tuple[str, dict[str, object]]) -> list[object]:
    return events("s1", *((i, kind, data) for i, (kind, data) in enumerate(items, 1)))


TURN = _events(
    ("text_delta", {"text": "Hello **wor", "parent_tool_use_id": None}),
    ("text_delta", {"text": "ld**, streamed.", "parent_tool_use_id": None}),
    ("assistant_message", {"content": [{"type": "text", "content": "Hello **world**, streamed."}], "parent_tool_use_id": None}),
    ("assistant_message", {"content": [{"type": "tool_use", "tool_use_id": "t1", "tool_name": "Bash", "tool_input": {"command": "ls /w"}}]}),
    ("tool_result", {"tool_use_id": "t1", "content": "\n".join(f"line{i}" for i in range(10)), "is_error": False}),
    ("assistant_message", {"content": [{"type": "thinking", "content": "pondering"}, {"type": "text", "content": "No deltas for this one."}]}),
    ("result", {"cost_usd": 0.5, "num_turns": 2, "duration_ms": 1500, "is_error": False}),
)


@pytest.mark.parametrize("terminal", [False, True])
def test_turn_view_prints_each_text_once(terminal: bool) -> None:
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=terminal, no_color=True)
    view = TurnView(console, cwd="/w")
    view.start()
    for event in TURN:
        view.show(event)
    view.stop()
    text = out.getvalue()
    assert text.count("streamed.") == 1 and text.count("No deltas for this one.") == 1
    assert "$ ls /w" in text and "⏺ Bash" in text
    assert "line3" in text and "line4" not in text and "+6 lines" in text  # results collapse to 4 lines
    assert "pondering" in text
    assert "$0.5000 · 2 turns · 1.5 s" in text


def test_the_footer_labels_the_turn_s_cost_and_the_session_s_total() -> None:
    result = ResultEvent(id=1, created_at=NOW, turn_cost_usd=0.0012, session_cost_usd=0.0345, cost_usd=0.0345, num_turns=1, duration_ms=2100)
    assert render.footer(result).plain == "── turn $0.0012 · session $0.0345 · 1 turn · 2.1 s"
    # An older server sends only the CLI's running total: it is the session's, and said so.
    older = TurnReply(session_id="s1", cost_usd=0.5, num_turns=2, duration_ms=1500)
    assert render.footer(older).plain == "── session $0.5000 · 2 turns · 1.5 s"
    failed = TurnReply(session_id="s1", is_error=True, error="the CLI exited", duration_ms=100)
    assert render.footer(failed).plain == "── error: the CLI exited · 0 turns · 0.1 s"


def test_the_resume_hint_names_how_the_client_was_run() -> None:
    assert _resume_hint(parse_args([], {}), "abc") == "claude-agent-client --session abc"
    options = parse_args([], {"AGENT_CLIENT_COMMAND": "./start.sh client"})
    assert options.command == "./start.sh client"
    assert _resume_hint(options, "abc") == "./start.sh client --session abc"


def test_flags_and_environment(tmp_path: Path) -> None:
    env = {"AGENT_SERVER_URL": "http://h:1", "AGENT_SERVER_API_KEY": "k", "XDG_DATA_HOME": str(tmp_path)}
    options = parse_args(["--new", "--model", "m", "--mode", "plan", "--proxy", "--cwd", "/w"], env)
    assert (options.server, options.api_key, options.new, options.model, options.mode, options.proxy, options.cwd) == (
        "http://h:1", "k", True, "m", "plan", True, "/w"
    )
    assert parse_args([], {}).server == "http://127.0.0.1:8000"
    assert parse_args(["--session", "abc", "--server", "http://x:2"], env).session == "abc"
    with pytest.raises(SystemExit):
        parse_args(["--new", "--session", "abc"], env)
    assert history_file(env) == tmp_path / "claude-agent-client" / "history"


def test_error_mapping() -> None:
    assert isinstance(error_for_status(409, "busy"), Conflict)
    bad = error_for_status(422, [{"loc": ["body", "mode"], "msg": "Input should be 'default'"}])
    assert isinstance(bad, InvalidRequest) and bad.message == "mode: Input should be 'default'"
    failed = error_for_status(502, "CLI failed")
    assert isinstance(failed, ServerError) and (failed.status_code, failed.detail) == (502, "CLI failed")


async def test_flags_reach_the_create_request() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return reply(CreatedSession(session_id="s1", created_at=NOW, cwd="/w", model="m", permission_mode="plan"), 201)

    options = parse_args(["--proxy", "--model", "m", "--mode", "plan", "--cwd", "/w"], {})
    async with AgentClient("http://test", transport=httpx.MockTransport(handler)) as client:
        chat = Chat(client, Console(file=io.StringIO()), PlainInput(io.StringIO()), options)
        await chat.start_new()
    assert seen == [{"model": "m", "cwd": "/w", "permission_mode": "plan", "enable_proxy": True}]
    assert chat.session is not None and (chat.session.session_id, chat.session.owned) == ("s1", True)


async def test_a_server_that_is_not_an_agent_server() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>hello</html>"))
    async with AgentClient("http://test", transport=transport) as client:
        with pytest.raises(APIError) as wrong:
            await client.health()
    assert wrong.value.status_code == 200 and "did not answer JSON" in wrong.value.message
