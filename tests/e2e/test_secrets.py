"""The server's secrets stay out of /proc/<pid>/environ and cmdline (read by any process of the user: every tool)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from databases import postgres_database_sync
from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e
KEY = "proc-key-Hq5-0123456789"
QUIET = ("--warm-sessions", "0")  # no CLI needed to look at the server process


def proc(server: ServerProcess, name: str) -> bytes:
    """``/proc/<server pid>/<name>``: the pid Popen started, which execve keeps."""
    assert server.process is not None
    return (Path("/proc") / str(server.process.pid) / name).read_bytes()


def assert_key_works(server: ServerProcess) -> None:
    assert httpx.get(f"{server.url}/sessions").status_code == 401
    assert httpx.get(f"{server.url}/sessions", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def test_a_key_from_the_environment_is_not_in_proc_environ(tmp_path: Path) -> None:
    with running_server(tmp_path, *QUIET, api_key=KEY) as server:
        environ = proc(server, "environ")
        assert KEY.encode() not in environ and b"AGENT_SERVER_API_KEY=" not in environ
        assert KEY.encode() not in proc(server, "cmdline")
        assert_key_works(server)


def test_a_key_flag_is_not_left_in_proc_cmdline(tmp_path: Path) -> None:
    with running_server(tmp_path, *QUIET, "--api-key", KEY) as server:
        cmdline = proc(server, "cmdline").split(b"\0")
        assert KEY.encode() not in proc(server, "cmdline") and b"--api-key" not in cmdline
        assert b"--warm-sessions" in cmdline  # the other flags are kept
        assert_key_works(server)


def test_api_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    with running_server(tmp_path, *QUIET, "--api-key-file", str(key_file)) as server:
        assert_key_works(server)
        assert KEY.encode() not in proc(server, "environ") and KEY.encode() not in proc(server, "cmdline")
        assert "readable by other users" not in server.log.read_text()


def test_a_loose_key_file_is_warned_about(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    key_file.chmod(0o644)
    with running_server(tmp_path, *QUIET, env={"AGENT_SERVER_API_KEY_FILE": str(key_file)}) as server:
        assert_key_works(server)
        assert f"the API key file {key_file} is readable by other users; chmod 600 it" in server.log.read_text()


def test_a_database_password_from_the_environment_is_not_in_proc_environ(tmp_path: Path) -> None:
    with postgres_database_sync() as url:
        with_password = url.replace("@", ":pw-Ux3-secret@", 1)  # trust auth: the password is accepted and ignored
        with running_server(tmp_path, *QUIET, env={"AGENT_SERVER_DATABASE_URL": with_password}) as server:
            assert b"pw-Ux3-secret" not in proc(server, "environ")
            assert httpx.get(f"{server.url}/sessions").status_code == 200
            assert "pw-Ux3-secret" not in server.log.read_text()  # the summary shows the URL redacted
