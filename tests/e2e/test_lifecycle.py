"""Close, list, resume and history; input validation; the CLI's start-up failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from e2e_support import reply_text
from servers import ServerProcess, clean_env, running_server

pytestmark = pytest.mark.e2e


def test_close_then_resume_keeps_id_and_history(http: httpx.Client, workdir: Path) -> None:
    created = http.post("/sessions", json={"cwd": str(workdir)}).json()
    session_id = created["session_id"]
    assert uuid.UUID(session_id).version == 4
    assert created["cwd"] == str(workdir) and created["status"] == "connected"
    http.post(f"/sessions/{session_id}/messages", json={"message": "remember that my name is Ada"})
    assert http.delete(f"/sessions/{session_id}").json()["status"] == "closed"
    assert http.get(f"/sessions/{session_id}/status").status_code == 404
    assert http.post(f"/sessions/{session_id}/messages", json={"message": "hi"}).status_code == 404
    assert session_id not in {s["session_id"] for s in http.get("/sessions").json()["sessions"]}

    available = http.get("/sessions/available", params={"cwd": str(workdir)}).json()["sessions"]
    [entry] = [s for s in available if s["session_id"] == session_id]
    assert entry["live"] is False and entry["cwd"] == str(workdir) and entry["project"] == workdir.name
    assert "my name is Ada" in entry["preview"]

    resumed = http.post("/sessions", json={"resume_session_id": session_id})
    assert resumed.status_code == 201 and resumed.json()["session_id"] == session_id
    assert resumed.json()["resumed"] is True and resumed.json()["cwd"] == str(workdir)
    recall = http.post(f"/sessions/{session_id}/messages", json={"message": "what did I ask you to remember?"})
    assert "my name is Ada" in reply_text(recall.json())
    history = http.get(f"/sessions/{session_id}/history").json()["messages"]
    texts = [str(m["message"]["content"]) for m in history]
    assert any("my name is Ada" in t for t in texts) and len(history) >= 4
    assert http.post("/sessions", json={"resume_session_id": session_id}).status_code == 409
    http.delete(f"/sessions/{session_id}")


def test_available_lists_newest_first_with_paging(http: httpx.Client, workdir: Path) -> None:
    ids = []
    for n in range(2):
        sid = http.post("/sessions", json={"cwd": str(workdir)}).json()["session_id"]
        http.post(f"/sessions/{sid}/messages", json={"message": f"remember that this is session {n}"})
        http.delete(f"/sessions/{sid}")
        ids.append(sid)
    listed = http.get("/sessions/available", params={"cwd": str(workdir)}).json()["sessions"]
    assert [s["session_id"] for s in listed] == ids[::-1]
    page = http.get("/sessions/available", params={"cwd": str(workdir), "limit": 1, "offset": 1}).json()["sessions"]
    assert [s["session_id"] for s in page] == [ids[0]]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc/passwd", "1234", "00000000-0000-0000-0000-00000000000g"])
def test_malicious_resume_id_is_rejected(http: httpx.Client, bad: str) -> None:
    reply = http.post("/sessions", json={"resume_session_id": bad})
    assert reply.status_code == 400
    assert "not a UUID" in reply.json()["detail"]


def test_resume_without_transcript_is_404(http: httpx.Client) -> None:
    reply = http.post("/sessions", json={"resume_session_id": str(uuid.uuid4())})
    assert reply.status_code == 404


def test_cwd_must_stay_inside_the_workspace(server: ServerProcess, http: httpx.Client, tmp_path: Path) -> None:
    escape = server.workspace / "escape-link"
    escape.symlink_to(tmp_path)
    for cwd in ("/etc", "..", str(escape), str(server.workspace / "missing")):
        reply = http.post("/sessions", json={"cwd": cwd})
        assert reply.status_code == 400, (cwd, reply.text)
    assert http.get("/sessions/available", params={"cwd": "/etc"}).status_code == 400


def test_bad_bodies_are_422(http: httpx.Client, session: str) -> None:
    assert http.post("/sessions", json={"permission_mode": "everything"}).status_code == 422
    assert http.post("/sessions", json={"max_turns": 0}).status_code == 422
    assert http.post(f"/sessions/{session}/messages", json={"message": ""}).status_code == 422
    assert http.post(f"/sessions/{session}/messages", content=b"not json", headers={"content-type": "application/json"}).status_code == 422


@pytest.mark.skipif(os.geteuid() != 0, reason="the CLI refuses bypassPermissions only for root")
def test_cli_start_failure_is_502_with_the_reason(tmp_path: Path) -> None:
    # Unsandboxed: inside a sandbox the CLI runs as an ordinary user, which bypassPermissions does not refuse.
    with running_server(tmp_path, "--demo", "--isolation", "none", env={"IS_SANDBOX": ""}) as server, server.client() as http:
        reply = http.post("/sessions", json={"permission_mode": "bypassPermissions"})
        assert reply.status_code == 502
        assert "root" in reply.json()["detail"]
        assert http.get("/sessions").json()["sessions"] == []


def test_transcripts_outside_the_workspace_stay_hidden(server: ServerProcess, http: httpx.Client) -> None:
    # A transcript Claude Code wrote for a project outside the workspace, on the same machine.
    outside_id = str(uuid.uuid4())
    project = server.home / ".claude" / "projects" / "-elsewhere"
    project.mkdir(parents=True)
    line = {"type": "user", "uuid": str(uuid.uuid4()), "parentUuid": None, "sessionId": outside_id, "cwd": "/elsewhere",
            "timestamp": "2026-01-01T00:00:00Z", "message": {"role": "user", "content": "secret plans"}}
    (project / f"{outside_id}.jsonl").write_text(json.dumps(line) + "\n")
    assert http.get(f"/sessions/{outside_id}/history").status_code == 404
    assert outside_id not in {s["session_id"] for s in http.get("/sessions/available").json()["sessions"]}
    assert http.post("/sessions", json={"resume_session_id": outside_id}).status_code == 404  # not even its existence shows
    explicit = http.post("/sessions", json={"resume_session_id": outside_id, "cwd": "."})
    assert explicit.status_code == 404  # an explicit cwd does not lift the rule


@pytest.mark.skipif(os.geteuid() != 0, reason="the CLI refuses bypassPermissions only for root")
def test_a_refused_mode_switch_is_409_with_the_reason(tmp_path: Path) -> None:
    with running_server(tmp_path, "--demo", env={"IS_SANDBOX": ""}) as server, server.client() as http:
        session_id = http.post("/sessions", json={}).json()["session_id"]
        refused = http.post(f"/sessions/{session_id}/permission_mode", json={"mode": "bypassPermissions"})
        assert refused.status_code == 409
        assert "refused set_permission_mode" in refused.json()["detail"]
        assert "dangerously-skip-permissions" in refused.json()["detail"]
        assert http.get(f"/sessions/{session_id}/status").json()["permission_mode"] == "default"
        assert "Traceback" not in server.log.read_text()


@pytest.mark.parametrize("url", ["postgresql+asyncpg://nobody:secret@127.0.0.1:1/registry", "nonsense://"])
def test_an_unusable_registry_stops_the_server_with_one_line(tmp_path: Path, url: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "claude_agent_server.cli", "--port", "0", "--workspace", str(tmp_path), "--database-url", url],
        env=clean_env(tmp_path), capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("claude-agent-server: cannot open the session registry: ") and "secret" not in line
