"""Typing while a turn runs, in a real pseudo-terminal against a live demo server: a message
typed then is queued (``mode: "queue"``) and runs after the turn; ``/steer TEXT`` joins it.
And keys typed just before the turn's key watch began are not thrown away."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import re
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

import pytest
from rich.console import Console

from claude_agent_client.inputs import TerminalInput
from claude_agent_client.live import TurnView
from claude_agent_client.typeahead import TypeAhead
from client.client_pty import FOOTER, PROMPT, Terminal
from e2e_support import wait_until
from servers import ServerProcess

NEW_SESSION = re.compile(r"New session ([0-9a-f-]{36})")


def start(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path) -> tuple[Terminal, str]:
    term = terminal("--server", server.url, "--cwd", str(workdir), "--new")
    term.expect(NEW_SESSION)
    return term, term.child.match.group(1)


def prompts(server: ServerProcess, session_id: str) -> list[str]:
    history = httpx.get(f"{server.url}/sessions/{session_id}/history").json()["messages"]
    return [m["message"]["content"] for m in history if m["type"] == "user" and isinstance(m["message"]["content"], str)]


def test_a_message_typed_during_a_turn_is_queued_and_runs_after_it(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path) -> None:
    term, session_id = start(terminal, server, workdir)
    term.say("count slowly")
    term.expect("Counting slowly: 1 2")  # the reply streams as usual; typing opens the prompt below it
    term.child.send("remember that")
    term.expect(PROMPT)
    term.type(" q1 is queued")
    term.expect("⧗ queued: remember that q1 is queued")
    status = wait_until(lambda: (found := httpx.get(f"{server.url}/sessions/{session_id}/status").json())["queued"] and found, 10, what="the queued message")
    assert status["status"] == "running" and [q["message"] for q in status["queued"]] == ["remember that q1 is queued"], status
    term.expect("39 40. Done.")  # the rest of the reply, after the line typed
    term.expect(FOOTER)
    term.expect("▶ running the queued message: remember that q1 is queued")
    term.expect("I'll remember: q1 is queued")
    term.expect(FOOTER)
    term.say("what did I ask you to remember?")
    term.expect("q1 is queued")
    term.expect(FOOTER)
    term.say("exit")
    assert term.finish() == 0
    assert prompts(server, session_id) == ["count slowly", "remember that q1 is queued", "what did I ask you to remember?"]
    assert "Traceback" not in term.output()


def test_steer_joins_the_running_turn(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path) -> None:
    term, session_id = start(terminal, server, workdir)
    term.say("count slowly")
    term.expect("Counting slowly: 1 2")
    term.type("/help")  # other commands run once the turn has ended
    term.expect("⧗ /help runs when the turn has ended")
    term.type("/steer remember that steering works")
    term.expect("↪ steering the running turn: remember that steering works")
    before_end = term.expect(FOOTER)
    assert "Counting slowly" in before_end and "I'll remember: steering works" in before_end
    assert "queued" not in before_end
    term.expect("another command runs once the turn has ended")  # /help's text, after the turn
    term.say("what did I ask you to remember?")
    term.expect("steering works")
    term.expect(FOOTER)
    term.say("exit")
    assert term.finish() == 0
    assert "Traceback" not in term.output()


def test_a_permission_question_puts_a_half_typed_line_aside(terminal: Callable[..., Terminal], server: ServerProcess, workdir: Path) -> None:
    term, session_id = start(terminal, server, workdir)
    term.say("count slowly")
    term.expect("Counting slowly: 1 2")
    term.type("run `date > now.txt`")  # queued: it asks for permission once the count has ended
    term.expect("⧗ queued: run `date > now.txt`")
    term.child.send("remember that")  # a line still being typed when the question comes
    term.expect("Permission needed: Bash")
    term.expect("Allow? [y]es / [n]o / [a]lways / [d]etails")
    term.type("y")
    term.expect("allowed")
    term.expect(FOOTER)
    term.expect("remember that")  # the prompt is back with what had been typed
    term.type(" gamma is 3")
    term.expect("I'll remember: gamma is 3")
    term.expect(FOOTER)
    term.say("exit")
    assert term.finish() == 0
    assert (workdir / "now.txt").exists()
    assert prompts(server, session_id) == ["count slowly", "run `date > now.txt`", "remember that gamma is 3"]
    assert "Traceback" not in term.output()


async def test_a_line_typed_as_the_turn_begins_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The line sits in the terminal's input (typed after Enter, before the key watch began):
    entering cbreak mode must not flush it (``tty.setcbreak``'s default ``TCSAFLUSH`` did)."""
    master, slave = pty.openpty()
    with os.fdopen(slave, "r") as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        os.write(master, b"exit\r")
        lines: list[str] = []
        view = TurnView(Console(file=io.StringIO()))
        typeahead = TypeAhead(TerminalInput(tmp_path / "history"), PROMPT, view, lines.append, lambda: None)
        async with typeahead.running():
            for _ in range(100):
                if lines:
                    break
                await asyncio.sleep(0.01)
    os.close(master)
    assert lines == ["exit"]
