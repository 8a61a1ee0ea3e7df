"""Each session's agent in its own bubblewrap sandbox (real CLI, demo model, Bash run in the session).

From inside a session nothing of the server, the rest of the workspace, other sessions or
any credential of the server can be read; its own cwd works. And with a real upstream
(a fake "Anthropic" this test runs, as the server's ``ANTHROPIC_BASE_URL`` with a key), the
upstream receives the server's key while the session's environment holds no trace of it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from claude_agent_sdk import project_key_for_directory

from e2e_support import bypass_session as new_session, reply_text, run_bash as run
from fake_upstreams import anthropic_app
from servers import ServerProcess, free_port, running_server, serving

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")]
SERVER_KEY = "srv-key-Zq8-0123456789abcdef"
UPSTREAM_KEY = "sk-upstream-Wd4-0123456789abcdef"


def hide(key: str) -> str:
    """A regex matching ``key`` that does not contain it (the command lands in the session's own transcript)."""
    return f"'{key[:-1]}[{key[-1]}]'"


def server_pid(server: ServerProcess) -> int:
    assert server.process is not None
    return server.process.pid


def test_a_session_sees_nothing_of_the_server_or_other_sessions(tmp_path: Path) -> None:
    with running_server(
        tmp_path, "--demo", "--warm-sessions", "0", api_key=SERVER_KEY, env={"ANTHROPIC_API_KEY": UPSTREAM_KEY}
    ) as server, server.client() as http:
        (server.workspace / "a").mkdir()
        (server.workspace / "b").mkdir()
        (server.workspace / "b" / "notes.txt").write_text("b's notes")
        a, b = new_session(http, "a"), new_session(http, "b")
        assert "rc=0" in run(http, b, "echo from-b > mine.txt")  # b's transcript exists
        data = server.home / ".local/share/claude-agent-server"
        registry = next(data.glob("*.db"))
        b_transcript = server.home / ".claude/projects" / project_key_for_directory(str(server.workspace / "b")) / f"{b}.jsonl"
        assert b_transcript.exists()  # (seen from outside)

        own = run(http, a, "echo written > own.txt && cat own.txt")
        assert "written" in own and "rc=0" in own
        assert (server.workspace / "a" / "own.txt").read_text() == "written\n"

        attempts = {
            "sibling cwd, read": f"cat {server.workspace}/b/notes.txt",
            "sibling cwd, list": f"ls {server.workspace}/b",
            "workspace, list": f"ls {server.workspace}",
            "registry": f"cat {registry}",
            "data dir": f"ls {data}",
            "b's private dir": f"ls {data}/sandboxes/{b}",
            "b's transcript": f"cat {b_transcript}",
            "b's transcript in its private dir": f"cat {data}/sandboxes/{b}/home/.claude/projects/*/{b}.jsonl",
            "server's ~/.claude": f"ls {server.home}/.claude",
            "server's environ": f"cat /proc/{server_pid(server)}/environ",
        }
        for what, command in attempts.items():
            out = run(http, a, command)
            assert "rc=0" not in out, f"{what}: {command} worked: {out}"
            assert "b's notes" not in out and "from-b" not in out and SERVER_KEY not in out

        processes = run(http, a, "ps -eo pid,comm")
        commands = [line.split()[1] for line in processes.splitlines()[1:] if line.strip() and not line.startswith("rc=")]
        assert "python" not in " ".join(commands) and set(commands) <= {"bwrap", "claude", "bash", "sh", "ps"}, processes
        assert str(server_pid(server)) not in processes.split()

        # No credential of the server anywhere the session can read: its environment, any
        # process's, or a file in the places it can write or that the server uses.
        env = run(http, a, "printenv")
        assert SERVER_KEY not in env and UPSTREAM_KEY not in env and "AGENT_SERVER" not in env
        found = run(
            http, a,
            f"grep -rsl -e {hide(SERVER_KEY)} -e {hide(UPSTREAM_KEY)} /proc/[0-9]*/environ /proc/[0-9]*/cmdline /home /tmp /root /etc "
            f"/var /opt {server.home} {tmp_path}",
        )
        assert SERVER_KEY not in found and "/" not in found.replace("rc=1", ""), found


def test_model_traffic_goes_through_the_server_with_its_key(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    port = free_port()
    with serving(anthropic_app(seen), port, "fake-anthropic"), running_server(
        tmp_path, "--warm-sessions", "0",
        env={"ANTHROPIC_API_KEY": UPSTREAM_KEY, "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}"},
    ) as server, server.client() as http:
        (server.workspace / "a").mkdir()
        a = new_session(http, "a")
        env = run(http, a, "printenv")
        assert UPSTREAM_KEY not in env and f"127.0.0.1:{port}" not in env
        assert f"ANTHROPIC_BASE_URL={server.url}/upstream" in env
        assert seen and all(h.get("x-api-key") == UPSTREAM_KEY for h in seen)  # the server's credential, added outside
        assert all("authorization" not in h for h in seen)
        recall = http.post(f"/sessions/{a}/messages", json={"message": "remember that my colour is teal"})
        assert recall.status_code == 200
        again = http.post(f"/sessions/{a}/messages", json={"message": "what did I ask you to remember?"})
        assert "teal" in reply_text(again.json())


def test_claude_codes_own_sandbox_works_inside(tmp_path: Path) -> None:
    """A session's ``sandbox`` (Claude Code's own Bash sandbox, a nested bwrap) runs inside the
    server's sandbox: the server adds ``enableWeakerNestedSandbox``; writes outside the cwd and
    connections to hosts not allowed fail, the cwd works."""
    with running_server(tmp_path, "--demo", "--warm-sessions", "0") as server, server.client() as http:
        (server.workspace / "a").mkdir()
        body = {"cwd": "a", "permission_mode": "bypassPermissions",
                "sandbox": {"enabled": True, "allowUnsandboxedCommands": False, "network": {"allowedDomains": []}}}
        created = http.post("/sessions", json=body)
        assert created.status_code == 201, created.text
        a = created.json()["session_id"]
        out = run(http, a, "echo inside > own.txt && cat own.txt")
        assert "inside" in out and "rc=0" in out
        assert "Read-only file system" in run(http, a, "touch /home/agent/outside")  # writable for the CLI, not its tools
        net = run(http, a, f"curl -sS -m 5 {server.url}/health")
        assert "rc=0" not in net and "healthy" not in net
        assert http.post("/sessions", json={**body, "sandbox": {"enabled": "yes"}}).status_code == 422
