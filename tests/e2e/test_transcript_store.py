"""Transcripts live in the registry (real CLI, demo model): a session wakes on a machine whose
disk never saw its transcript, a transcript only on disk is imported on first use, and a
server restarted with another workspace neither lists nor wakes the old one's sessions."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from claude_agent_sdk import project_key_for_directory

from claude_agent_server.api.invocations import SESSION_HEADER, agentcore_session_id
from e2e_support import reply_text
from servers import running_server

pytestmark = pytest.mark.e2e
COLD = ("--demo", "--warm-sessions", "0")


def say(http: httpx.Client, session_id: str, message: str) -> dict[str, Any]:
    reply = http.post(f"/sessions/{session_id}/messages", json={"message": message})
    assert reply.status_code == 200, reply.text
    return reply.json()


def shared(tmp_path: Path, workspace: Path) -> tuple[str, ...]:
    """A data dir (so a registry) and a workspace that outlive one server."""
    workspace.mkdir(parents=True, exist_ok=True)
    return (*COLD, "--data-dir", str(tmp_path / "data"), "--workspace", str(workspace))


def local_copies(home: Path) -> list[Path]:
    return list((home / ".claude" / "projects").glob("*/*.jsonl"))


def test_a_session_wakes_with_its_history_on_a_machine_whose_disk_never_saw_it(tmp_path: Path) -> None:
    flags = shared(tmp_path, tmp_path / "workspace")
    with running_server(tmp_path / "machine-a", *flags) as server, server.client() as http:
        session_id = http.post("/sessions", json={}).json()["session_id"]
        say(http, session_id, "remember that the store keeps transcripts")
        assert any(p.stem == session_id for p in local_copies(server.home))  # Claude Code's own copy, on machine A only
    with running_server(tmp_path / "machine-b", *flags) as server, server.client() as http:
        assert local_copies(server.home) == []
        reply = http.get(f"/sessions/{session_id}/history")
        assert reply.status_code == 200, reply.text
        history = reply.json()["messages"]
        assert [m["type"] for m in history] == ["user", "assistant"]  # read from the store
        assert "the store keeps transcripts" in reply_text(say(http, session_id, "what did I ask you to remember?"))
        # woken from the store, not from this disk (a sandboxed session's link into its private dir is no copy)
        assert not any(p.stem == session_id and not p.is_symlink() for p in local_copies(server.home))
        assert len(http.get(f"/sessions/{session_id}/history").json()["messages"]) == 4


def test_a_transcript_only_on_disk_is_imported_once_then_served_from_the_store(tmp_path: Path) -> None:
    with running_server(tmp_path, *COLD) as server, server.client() as http:
        # A transcript the `claude` CLI made by itself in the workspace, unknown to the store.
        session_id, entry_id = str(uuid.uuid4()), str(uuid.uuid4())
        cwd = server.workspace.resolve()
        project = server.home / ".claude" / "projects" / project_key_for_directory(cwd)
        project.mkdir(parents=True)
        line = {"type": "user", "uuid": entry_id, "parentUuid": None, "sessionId": session_id, "cwd": str(cwd),
                "timestamp": "2026-01-01T00:00:00.000Z", "version": "2.1.330", "isSidechain": False, "userType": "external",
                "message": {"role": "user", "content": "remember that imports happen once"}}
        (project / f"{session_id}.jsonl").write_text(json.dumps(line) + "\n")

        listed = {s["session_id"]: s for s in http.get("/sessions/available").json()["sessions"]}
        assert listed[session_id]["preview"] == "remember that imports happen once" and listed[session_id]["state"] is None
        shutil.rmtree(project)  # from now on only the store has it
        assert session_id in {s["session_id"] for s in http.get("/sessions/available").json()["sessions"]}
        assert [m["uuid"] for m in http.get(f"/sessions/{session_id}/history").json()["messages"]] == [entry_id]
        resumed = http.post("/sessions", json={"resume_session_id": session_id})
        assert resumed.status_code == 201, resumed.text
        assert "imports happen once" in reply_text(say(http, session_id, "what did I ask you to remember?"))


def test_a_restart_with_another_workspace_hides_the_old_ones_sessions(tmp_path: Path) -> None:
    header = "agentcore-runtime-session-" + uuid.uuid4().hex
    with running_server(tmp_path, *shared(tmp_path, tmp_path / "one")) as server, server.client() as http:
        session_id = http.post("/sessions", json={}).json()["session_id"]
        say(http, session_id, "remember that workspaces are checked")
        assert http.post("/invocations", json={"prompt": "hello"}, headers={SESSION_HEADER: header}).status_code == 200
    with running_server(tmp_path, *shared(tmp_path, tmp_path / "two")) as server, server.client() as http:
        assert http.get("/sessions").json()["sessions"] == []
        assert http.get(f"/sessions/{session_id}/status").status_code == 404
        assert http.post(f"/sessions/{session_id}/messages", json={"message": "hello"}).status_code == 404
        assert http.get(f"/sessions/{session_id}/history").status_code == 404
        assert http.get("/sessions/available").json()["sessions"] == []
        assert http.post("/sessions", json={"resume_session_id": session_id}).status_code == 404
        # Its AgentCore session is not served here either, nor taken over (it used to loop forever).
        assert http.post("/invocations", json={"prompt": "hello"}, headers={SESSION_HEADER: header}, timeout=30).status_code == 409
        assert not server.cli_processes()
    with running_server(tmp_path, *shared(tmp_path, tmp_path / "one")) as server, server.client() as http:
        assert {s["session_id"] for s in http.get("/sessions").json()["sessions"]} == {session_id, agentcore_session_id(header)}
        assert "workspaces are checked" in reply_text(say(http, session_id, "what did I ask you to remember?"))
