"""TurnRunner against the real server: the SSE path and the polling fallback for servers without SSE."""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from claude_agent_client.api import AgentClient
from claude_agent_client.turn import TurnRunner
from client.fake_server import ScriptedInput
from client.relay import Relay
from servers import ServerProcess


class WithoutEvents(httpx.AsyncBaseTransport):
    """The real server, except that ``/events`` does not exist (an older or stripped-down server)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.hidden = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            self.hidden += 1
            return httpx.Response(404, json={"detail": "Not Found"})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(params=["sse", "polling"])
async def client(request: pytest.FixtureRequest, server: ServerProcess) -> AsyncIterator[AgentClient]:
    transport = WithoutEvents() if request.param == "polling" else None
    async with AgentClient(server.url, transport=transport) as live:
        yield live
    if transport is not None:
        assert transport.hidden > 0


async def run_turn(client: AgentClient, workdir: Path, message: str, *answers: str) -> tuple[str, ScriptedInput, str]:
    session = await client.create_session(cwd=str(workdir))
    out = io.StringIO()
    ui = ScriptedInput(*answers)
    runner = TurnRunner(client, session.session_id, ui, Console(file=out, width=120, no_color=True), str(workdir))
    outcome = await runner.run(message)
    await client.close_session(session.session_id)
    return outcome.status, ui, out.getvalue()


async def test_permission_approved(client: AgentClient, workdir: Path) -> None:
    status, ui, out = await run_turn(client, workdir, "create a file ok.txt with content hello", "maybe", "y")
    assert status == "done"
    assert len(ui.questions) == 2 and "Please answer y" in out  # "maybe" is asked again
    assert "Permission needed: Write" in out and "The tool ran" in out
    assert (workdir / "ok.txt").read_text().strip() == "hello"


async def test_permission_denied_by_enter(client: AgentClient, workdir: Path) -> None:
    status, ui, out = await run_turn(client, workdir, "create a file no.txt with content hello", "")
    assert status == "done" and "did not run" in out
    assert not (workdir / "no.txt").exists()


async def test_parallel_requests_are_asked_one_after_another(client: AgentClient, workdir: Path) -> None:
    status, ui, out = await run_turn(client, workdir, "run `echo a > a.txt` and `echo b > b.txt`", "y", "n")
    assert status == "done"
    assert len(ui.questions) == 2 and out.count("Permission needed: Bash") == 2
    assert sorted(p.name for p in workdir.iterdir()) in (["a.txt"], ["b.txt"])


async def test_always_applies_the_suggested_rule(client: AgentClient, workdir: Path) -> None:
    session = await client.create_session(cwd=str(workdir))
    ui = ScriptedInput("a")  # Write suggests switching the session to acceptEdits
    console = Console(file=io.StringIO(), width=120, no_color=True)
    first = await TurnRunner(client, session.session_id, ui, console, str(workdir)).run("create a file one.txt with content 1")
    second = await TurnRunner(client, session.session_id, ui, console, str(workdir)).run("create a file two.txt with content 2")
    await client.close_session(session.session_id)
    assert (first.status, second.status) == ("done", "done")
    assert len(ui.questions) == 1, "the second write was asked about again"
    assert "a = always: switch to acceptEdits mode" in console.file.getvalue()  # type: ignore[attr-defined]
    assert (workdir / "one.txt").exists() and (workdir / "two.txt").exists()


async def test_dropped_connections_lose_and_repeat_nothing(server: ServerProcess, workdir: Path) -> None:
    async with Relay(server.port) as relay, AgentClient(relay.url) as client:
        session = await client.create_session(cwd=str(workdir))
        out = io.StringIO()
        runner = TurnRunner(client, session.session_id, ScriptedInput(), Console(file=out, width=1000, no_color=True))

        async def cut_twice() -> None:
            for _ in range(2):
                while out.getvalue().count(" ") < 12 * (relay.connections // 2 + 1):  # some words have streamed
                    await asyncio.sleep(0.05)
                relay.cut()
                await asyncio.sleep(1)

        cutter = asyncio.create_task(cut_twice())
        outcome = await runner.run("count slowly")
        await cutter
        await client.close_session(session.session_id)
    notice = "\n(reconnected to the event stream)\n"
    text = out.getvalue()
    assert outcome.status == "done"
    assert text.count(notice) == 2
    text = text.replace(notice, "")
    counted = "Counting slowly: " + " ".join(str(n) for n in range(1, 41))
    assert text.count("Counting slowly") == 1 and counted in text, text  # streamed raw: any lost or repeated delta shows


class UnansweredInput(ScriptedInput):
    """A user who never answers: each question waits until it is withdrawn (cancelled)."""

    async def ask(self, question: str) -> str:
        self.questions.append(question)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory outside the session's cwd that its agent can still read: not under /tmp (a
    sandboxed session has a private one) nor the workspace (other directories there are hidden)."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as path:
        yield Path(path)


async def test_requests_answered_elsewhere_are_withdrawn(server: ServerProcess, workdir: Path, outside: Path) -> None:
    tmp_path = outside
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(f"secret-{name}\n")
    async with AgentClient(server.url) as client:
        session = await client.create_session(cwd=str(workdir))
        out = io.StringIO()
        ui = UnansweredInput()
        runner = TurnRunner(client, session.session_id, ui, Console(file=out, width=200, no_color=True), str(workdir))
        # Reads outside the cwd ask, and run in parallel: two requests pending at once, one on screen, one waiting.
        turn = asyncio.create_task(runner.run(f"read `{tmp_path / 'a.txt'}` and `{tmp_path / 'b.txt'}`"))
        for _ in range(600):
            pending = (await client.status(session.session_id)).pending_permissions
            if len(pending) == 2 and ui.questions:
                break
            await asyncio.sleep(0.1)
        asked = "a.txt" if "a.txt" in out.getvalue() else "b.txt"
        [on_screen] = [p for p in pending if p.tool_input["file_path"].endswith(asked)]
        [waiting] = [p for p in pending if p is not on_screen]
        await client.respond_permission(session.session_id, waiting.request_id, False)
        await client.respond_permission(session.session_id, on_screen.request_id, True)
        outcome = await asyncio.wait_for(turn, 60)
        await client.close_session(session.session_id)
    text = out.getvalue()
    assert outcome.status == "done"
    assert text.index("answered elsewhere: allowed") < text.index("Read request answered elsewhere: denied")
    assert len(ui.questions) == 1 and text.count("Permission needed: Read") == 1  # the waiting one was never asked
    assert "timed out or was cancelled" not in text
    assert f"secret-{asked}" in text
