"""A real server's data dir: private modes (fresh, and tightened at the next start), one server per
SQLite data dir, and the start-up summary of real use."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from claude_agent_server.startup import NO_CREDENTIAL_HINT
from servers import clean_env, running_server

pytestmark = pytest.mark.e2e
QUIET = ("--warm-sessions", "0")


def modes(data: Path) -> dict[str, int]:
    names = ["", "registry.db", "registry.db-wal", "registry.db-shm", "server.lock", "bin", "bin/claude-launcher"]
    return {name or ".": stat.S_IMODE((data / name).stat().st_mode) for name in names}


PRIVATE = {".": 0o700, "registry.db": 0o600, "registry.db-wal": 0o600, "registry.db-shm": 0o600, "server.lock": 0o600,
           "bin": 0o700, "bin/claude-launcher": 0o700}


def test_the_data_dir_is_private_fresh_and_after_a_restart_with_loose_modes(tmp_path: Path) -> None:
    with running_server(tmp_path, *QUIET) as server:
        data = server.home / ".local/share/claude-agent-server"
        assert modes(data) == PRIVATE
        assert stat.S_IMODE(data.parent.stat().st_mode) == 0o755  # ~/.local/share keeps its usual mode
        log = server.log.read_text()
    assert f"dashboard: {server.url}/ui" in log and f"data dir:  {data}" in log
    assert f"workspace: {server.workspace}" in log and NO_CREDENTIAL_HINT in log

    for name in PRIVATE:  # as an older version left them (SQLite removed the -wal and -shm at the clean stop)
        (data / name).touch()
        (data / name).chmod(0o755 if name in (".", "bin", "bin/claude-launcher") else 0o644)
    with running_server(tmp_path, *QUIET) as server:
        assert modes(data) == PRIVATE


def test_a_second_server_on_one_data_dir_exits_2_naming_the_first(tmp_path: Path) -> None:
    with running_server(tmp_path, *QUIET) as first:
        assert first.process is not None
        second = subprocess.run(
            [sys.executable, "-m", "claude_agent_server", "--port", "0", "--workspace", str(first.workspace)],
            env=clean_env(first.home), capture_output=True, text=True, timeout=120,
        )
        assert second.returncode == 2
        [line] = second.stderr.strip().splitlines()
        data = first.home / ".local/share/claude-agent-server"
        assert line == (f"claude-agent-server: another server (pid {first.process.pid}) is using the data dir {data}; "
                        "stop it, or give this one another --data-dir")
        assert httpx.get(f"{first.url}/health").status_code == 200  # the first one carries on
    # the lock goes with its process: a server on the same data dir starts again
    with running_server(tmp_path, *QUIET):
        pass


def test_the_summary_names_the_credential_and_the_demo_prints_none(tmp_path: Path) -> None:
    with running_server(tmp_path / "real", *QUIET, env={"ANTHROPIC_API_KEY": "sk-ant-never-printed"}) as server:
        log = server.log.read_text()
    assert "model:     ANTHROPIC_API_KEY" in log and "sk-ant-never-printed" not in log and NO_CREDENTIAL_HINT not in log
    with running_server(tmp_path / "demo", *QUIET, "--demo") as server:
        log = server.log.read_text()
    assert "OFFLINE DEMO MODEL" in log and "dashboard:" not in log
