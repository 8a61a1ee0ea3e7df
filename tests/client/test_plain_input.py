"""The client with piped (non-terminal) input and output, as in scripts and CI."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pexpect
from pexpect.popen_spawn import PopenSpawn

from client.client_pty import EXPECT_TIMEOUT, client_env
from servers import ServerProcess


def run_client(server: ServerProcess, home: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_agent_client.app", "--server", server.url, *args],
        input=stdin, capture_output=True, text=True, timeout=240, env=client_env(home),
    )


@contextmanager
def piped_client(server: ServerProcess, home: Path, *args: str) -> Iterator[PopenSpawn]:
    """The client on pipes (no terminal) driven line by line; killed and its pipes closed afterwards."""
    child = PopenSpawn(
        [sys.executable, "-m", "claude_agent_client.app", "--server", server.url, *args],
        env=client_env(home), encoding="utf-8", timeout=EXPECT_TIMEOUT,
    )
    try:
        yield child
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
        child.proc.wait(30)
        child.proc.stdin.close()  # type: ignore[union-attr]
        child.proc.stdout.close()  # type: ignore[union-attr]


def test_piped_conversation(server: ServerProcess, workdir: Path, hermetic: Path) -> None:
    script = "\n".join([
        "hello",
        "/model piped-model",
        "which model are you?",
        "create a file piped.txt with content hi",
        "y",
        "history",
        "exit",
    ]) + "\n"
    done = run_client(server, hermetic, "--new", "--cwd", str(workdir), stdin=script)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    live, _, history = out.partition("› history")
    assert live.count("Hello! I'm the offline demo model") == 1, "streamed text and the whole message were both printed"
    assert history.count("Hello! I'm the offline demo model") == 1
    assert "answering as piped-model" in out
    assert "Allow? [y]es / [n]o / [a]lways / [d]etails y" in out
    assert (workdir / "piped.txt").read_text().strip() == "hi"
    assert "› which model are you?" in history  # the transcript shows the prompts
    assert "Traceback" not in out + done.stderr


def test_end_of_input_denies_a_pending_permission(server: ServerProcess, workdir: Path, hermetic: Path) -> None:
    done = run_client(server, hermetic, "--new", "--cwd", str(workdir), stdin="create a file never.txt with content x\n")
    assert done.returncode == 0, done.stderr
    assert "denied" in done.stdout
    assert not (workdir / "never.txt").exists()


def test_unknown_session_is_a_clear_error(server: ServerProcess, hermetic: Path) -> None:
    done = run_client(server, hermetic, "--session", "00000000-0000-4000-8000-000000000000", stdin="")
    assert done.returncode == 1
    assert "claude-agent-client:" in done.stderr and "Traceback" not in done.stderr


def test_attach_to_a_live_session(server: ServerProcess, workdir: Path, hermetic: Path) -> None:
    created = httpx.post(f"{server.url}/sessions", json={"cwd": str(workdir)}, timeout=120).json()
    session_id = created["session_id"]
    httpx.post(f"{server.url}/sessions/{session_id}/messages", json={"message": "remember that attaching works"}, timeout=120)
    done = run_client(server, hermetic, "--session", session_id, "--model", "attached-model", stdin="which model are you?\nexit\n")
    assert done.returncode == 0, done.stderr
    assert f"Attached to live session {session_id}" in done.stdout
    assert "› remember that attaching works" in done.stdout  # recent history is shown
    assert "answering as attached-model" in done.stdout
    status = httpx.get(f"{server.url}/sessions/{session_id}/status")
    assert status.status_code == 200, "the client closed a session it did not start"
    httpx.delete(f"{server.url}/sessions/{session_id}")


def test_sigint_interrupts_a_turn_without_a_terminal(server: ServerProcess, workdir: Path, hermetic: Path) -> None:
    with piped_client(server, hermetic, "--new", "--cwd", str(workdir)) as child:
        child.expect_exact("New session")
        child.sendline("count slowly")
        child.expect_exact("Counting slowly")
        child.kill(signal.SIGINT)
        child.expect_exact("── interrupted")
        child.sendline("exit")
        child.expect(pexpect.EOF)
        assert "Traceback" not in str(child.before)
    assert child.proc.returncode == 0


def test_a_session_closed_on_the_server_is_resumed_on_the_next_message(server: ServerProcess, workdir: Path, hermetic: Path) -> None:
    with piped_client(server, hermetic, "--new", "--cwd", str(workdir)) as child:
        child.expect(r"New session ([0-9a-f-]{36})")
        session_id = child.match.group(1)
        child.sendline("remember that resuming is automatic")
        child.expect(r"── .*turn")
        assert httpx.delete(f"{server.url}/sessions/{session_id}").status_code == 200
        child.sendline("what did I ask you to remember?")
        child.expect_exact(f"Resumed session {session_id}")
        child.expect_exact("You asked me to remember: resuming is automatic")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    assert child.proc.returncode == 0


def test_attaching_to_a_busy_session_follows_its_turn(server: ServerProcess, workdir: Path, hermetic: Path) -> None:
    session_id = httpx.post(f"{server.url}/sessions", json={"cwd": str(workdir)}, timeout=120).json()["session_id"]
    with httpx.Client(base_url=server.url, timeout=120) as http, http.stream(
        "POST", f"/sessions/{session_id}/messages", json={"message": "count slowly", "stream": True}
    ) as turn:
        next(turn.iter_lines())  # the turn has started
        done = run_client(server, hermetic, "--session", session_id, stdin="exit\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "A turn is running in this session; following it." in out
    followed = out.split("following it.")[1]
    assert "Counting slowly: 1 2 3" in followed and "40. Done." in followed  # shown from the start of the turn
    assert followed.count("Counting slowly") == 1 and re.search(r"\d+ turns? · ", followed)
    httpx.delete(f"{server.url}/sessions/{session_id}")
