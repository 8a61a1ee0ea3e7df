"""``start.sh`` as a new user runs it: no arguments, the demo (its own data dir), the client's hints.

The venv is already there (the test run itself uses it), so each call's ``uv sync`` is quick.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pexpect
import pytest

from client.client_pty import EXPECT_TIMEOUT, FOOTER, PROMPT, client_env
from servers import ServerProcess, clean_env, free_port, running_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SESSION = re.compile(r"(?:New|Resumed|Attached to \w+) session ([0-9a-f-]{36})")


Spawn = Callable[..., pexpect.spawn]


@pytest.fixture
def start_sh(tmp_path: Path) -> Iterator[Spawn]:
    """``start_sh(home, *args)``: ``./start.sh ARGS`` in a pseudo-terminal, from the project's folder
    (as the README says), logged to ``tmp_path/pty.log``; every one is closed afterwards."""
    log = (tmp_path / "pty.log").open("a", encoding="utf-8")
    children: list[pexpect.spawn] = []

    def spawn(home: Path, *args: str) -> pexpect.spawn:
        child = pexpect.spawn("./start.sh", list(args), cwd=str(ROOT), env=client_env(home), encoding="utf-8",
                              codec_errors="replace", dimensions=(50, 160), timeout=EXPECT_TIMEOUT)
        child.logfile_read = log
        children.append(child)
        return child

    yield spawn
    for child in children:
        if child.isalive():
            child.terminate(force=True)
        child.close()
    log.close()


def test_no_arguments_serves_the_current_directory(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir(exist_ok=True)  # the hermetic fixture made it
    project.mkdir()
    port = free_port()
    env = clean_env(home, AGENT_SERVER_PORT=str(port), AGENT_SERVER_WARM_SESSIONS="0")
    log = tmp_path / "start.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(ROOT / "start.sh")], cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, f"start.sh exited with {process.returncode}:\n{log.read_text()}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"no /health within 120 s:\n{log.read_text()}")
        assert f"workspace: {project}" in log.read_text()
        # start.sh execs the server itself (no `uv run` parent holding the environment)
        assert "claude-agent-server" in Path(f"/proc/{process.pid}/cmdline").read_text()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def test_the_demo_has_its_own_data_dir_and_its_hint_reopens_it(start_sh: Spawn, hermetic: Path, tmp_path: Path) -> None:
    home = hermetic
    demo = start_sh(home, "demo")
    demo.expect(SESSION)
    session_id = demo.match.group(1)
    demo.expect_exact(PROMPT)
    demo.send("remember that the demo is separate\r")
    demo.expect(FOOTER)
    demo.expect_exact(PROMPT)
    demo.send("exit\r")
    demo.expect_exact(f"Resume with: ./start.sh demo --session {session_id}")
    demo.expect(pexpect.EOF)

    data = home / ".local/share/claude-agent-server"
    assert (data / "demo" / "registry.db").is_file() and (data / "demo" / "server.log").is_file()
    assert (data / "demo" / "workspace").is_dir()
    assert not (data / "registry.db").exists()
    with running_server(tmp_path, "--warm-sessions", "0") as real:  # real use, same HOME: no demo session in sight
        assert real.home == home
        assert httpx.get(f"{real.url}/sessions").json()["sessions"] == []

    again = start_sh(home, "demo", "--session", session_id)
    again.expect(SESSION)
    assert again.match.group(1) == session_id
    again.expect_exact("› remember that the demo is separate")  # the transcript so far, shown on resume
    again.expect_exact(PROMPT)
    again.send("what did I ask you to remember?\r")
    again.expect(FOOTER)
    assert "the demo is separate" in again.before  # the answer, not the transcript above it
    again.expect_exact(PROMPT)
    again.send("exit\r")
    again.expect(pexpect.EOF)


def test_the_client_through_start_sh_says_how_to_come_back(start_sh: Spawn, hermetic: Path, server: ServerProcess, workdir: Path) -> None:
    client = start_sh(hermetic, "client", "--server", server.url, "--new", "--cwd", str(workdir))
    client.expect(SESSION)
    session_id = client.match.group(1)
    client.expect_exact(PROMPT)
    client.send("exit\r")
    client.expect_exact(f"Resume with: ./start.sh client --session {session_id}")
    client.expect(pexpect.EOF)
