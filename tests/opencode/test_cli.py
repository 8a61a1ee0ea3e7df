"""The real ``opencode`` binary (1.18.x) against the real server, CLI and demo model:
``opencode run --attach URL "..."``."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e


def run(opencode_bin: str, url: str, cwd: Path, env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [opencode_bin, "run", "--attach", url, *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def test_run_prints_the_reply(opencode_bin: str, server: ServerProcess, workdir: Path, oc_env: dict[str, str]) -> None:
    done = run(opencode_bin, server.url, workdir, oc_env, "remember that my favourite colour is green")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "green" in done.stdout
    # run --attach sends no directory when it creates the session: it runs in the workspace root
    with server.client() as http:
        sessions = http.get("/sessions").json()["sessions"]
    [entry] = [s for s in sessions if "favourite colour" in (s["title"] or "")]
    assert entry["origin"] == "opencode"
    assert entry["cwd"] == str(server.workspace)


def test_runs_in_one_session_one_after_another_print_their_own_reply(opencode_bin: str, server: ServerProcess, workdir: Path, oc_env: dict[str, str]) -> None:
    """Each run starts a second or two after the previous one's turn ended: it prints its own
    reply, not the previous turn (a replayed session.idle ended it early), nor its prompt."""
    with server.client() as http:
        ses_id = http.post("/session", json={}).json()["id"]
    for n in range(4):
        done = run(opencode_bin, server.url, workdir, oc_env, "--session", ses_id, "say", f"reply-{n}")
        assert done.returncode == 0, done.stderr + done.stdout
        assert done.stdout.split() == [f"reply-{n}"], (n, done.stdout, server.log.read_text()[-3000:])


def test_run_format_json_has_the_reply_and_not_the_prompt(opencode_bin: str, server: ServerProcess, workdir: Path, oc_env: dict[str, str]) -> None:
    done = run(opencode_bin, server.url, workdir, oc_env, "--format", "json", "say", "json-reply")
    assert done.returncode == 0, done.stderr + done.stdout
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [e["part"]["text"] for e in events if e["type"] == "text"] == ["json-reply"], done.stdout


def test_run_auto_grants_bash(opencode_bin: str, server: ServerProcess, workdir: Path, oc_env: dict[str, str]) -> None:
    done = run(opencode_bin, server.url, workdir, oc_env, "--auto", "run `echo hi > auto-granted.txt`")
    assert done.returncode == 0, done.stderr + done.stdout
    assert (server.workspace / "auto-granted.txt").read_text() == "hi\n"


def test_run_without_auto_rejects_bash(opencode_bin: str, server: ServerProcess, workdir: Path, oc_env: dict[str, str]) -> None:
    done = run(opencode_bin, server.url, workdir, oc_env, "run `echo no > rejected.txt`")
    assert "did not run" in done.stdout, done.stderr + done.stdout
    assert not (server.workspace / "rejected.txt").exists(), done.stdout


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("keyed"), "--demo", api_key="s3cret-key") as live:
        yield live


def test_run_with_password(opencode_bin: str, keyed_server: ServerProcess, oc_env: dict[str, str]) -> None:
    workdir = keyed_server.workspace / "pw"
    workdir.mkdir()
    denied = run(opencode_bin, keyed_server.url, workdir, oc_env, "hello")
    assert denied.returncode != 0
    done = run(opencode_bin, keyed_server.url, workdir, oc_env, "-p", "s3cret-key", "which model are you?")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "model" in done.stdout.lower()
