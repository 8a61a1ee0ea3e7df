"""Approvals that wait for a person across restarts (real CLI, demo model): a permission
request pending when the server stops is parked, still pending after the restart, and its
answer resumes the tool call and the turn."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from claude_agent_server.sessions import PermissionDecision
from claude_agent_server.sessions.deferral import decision_json
from claude_agent_server.sessions.parking import CONTINUATION
from e2e_support import answer, read_events, send_in_background, status, wait_for_permissions, wait_until
from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e
COLD = ("--demo", "--warm-sessions", "0")


def park_a_request(tmp_path: Path, command: str) -> tuple[str, dict[str, Any], Path]:
    """Start a server, ask for ``command`` in a new session, stop the server (SIGTERM) while the
    permission request waits; returns the session id, the request and the session's cwd."""
    server = ServerProcess(tmp_path, *COLD, "--shutdown-grace", "2")
    server.start()
    with server.client() as http:
        work = server.workspace / "project"
        work.mkdir()
        reply = http.post("/sessions", json={"cwd": str(work)})
        assert reply.status_code == 201, reply.text
        session_id = reply.json()["session_id"]
        waiting = send_in_background(server, session_id, f"run `{command}`")
        [request] = wait_for_permissions(http, session_id)
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == -signal.SIGTERM
    ended = waiting.result(timeout=30)
    assert ended.status_code == 200 and ended.json()["is_error"], ended.text  # the turn ended for now: its request is parked
    wait_until(lambda: not server.cli_processes(), 15, what="every CLI to exit")
    return session_id, request, work


def turn_after(http: httpx.Client, session_id: str, after: int) -> list[dict[str, Any]]:
    """The session's frames after event ``after`` up to the next ``result`` or ``error``."""
    frames = read_events(http, "GET", f"/sessions/{session_id}/events", until=lambda f: f["id"] and f["event"] in ("result", "error"),
                         headers={"Last-Event-ID": str(after)}, timeout=120)
    return [f for f in frames if f["id"]]


def test_a_request_pending_at_shutdown_is_pending_after_the_restart_and_allow_runs_the_tool(tmp_path: Path) -> None:
    session_id, request, work = park_a_request(tmp_path, "echo parked > parked.txt")
    assert not (work / "parked.txt").exists()
    with running_server(tmp_path, *COLD) as restarted, restarted.client() as http:
        now = status(http, session_id)
        assert now["status"] == "waiting_permission"
        assert [p["request_id"] for p in now["pending_permissions"]] == [request["request_id"]]
        assert now["pending_permission"]["tool_input"]["command"] == "echo parked > parked.txt"
        assert [p["tool"]["callID"] if p.get("tool") else p["id"] for p in http.get("/permission").json()]  # OpenCode lists it too
        assert http.post(f"/sessions/{session_id}/messages", json={"message": "hello?"}).status_code == 409  # its turn waits
        mark = now["last_event_id"]
        assert answer(http, session_id, request["request_id"], True).status_code == 200
        frames = turn_after(http, session_id, mark)
        kinds = [f["event"] for f in frames]
        assert kinds[-1] == "result", kinds
        assert "turn_started" in kinds and "tool_result" in kinds
        [result] = [f["data"] for f in frames if f["event"] == "tool_result"]
        assert result["tool_use_id"] == request["tool_use_id"] and not result["is_error"]
        assert (work / "parked.txt").read_text() == "parked\n"
        assert status(http, session_id)["pending_permissions"] == []
        assert answer(http, session_id, request["request_id"], True).status_code == 404  # answered once


def test_an_answer_stored_before_the_server_stopped_is_continued_at_the_next_start(tmp_path: Path) -> None:
    """The server stopped after storing a parked request's answer but before the turn's process
    started: the next server continues the turn at start-up, with no request for the session."""
    session_id, request, work = park_a_request(tmp_path, "echo resumed > resumed.txt")
    database = tmp_path / "home" / ".local" / "share" / "claude-agent-server" / "registry.db"
    with contextlib.closing(sqlite3.connect(database)) as db, db:  # the answer, as the stopped server stored it
        stored = db.execute("UPDATE parked_permissions SET decision = ? WHERE request_id = ? AND decision IS NULL",
                            (json.dumps(decision_json(PermissionDecision(True))), request["request_id"])).rowcount
        [(mark,)] = db.execute("SELECT max(id) FROM events WHERE session_id = ?", (session_id,)).fetchall()
    assert stored == 1 and not (work / "resumed.txt").exists()
    with running_server(tmp_path, *COLD) as restarted, restarted.client() as http:
        wait_until(lambda: (work / "resumed.txt").exists(), 120, what="the tool to run before anything reads the session")
        frames = turn_after(http, session_id, mark)
        kinds = [f["event"] for f in frames]
        assert kinds[0] == "turn_started" and kinds[-1] == "result" and "tool_result" in kinds, kinds
        assert frames[0]["data"]["message"] == CONTINUATION
        assert (work / "resumed.txt").read_text() == "resumed\n"
        assert status(http, session_id)["pending_permissions"] == []


def test_a_parked_request_denied_after_the_restart_tells_the_agent(tmp_path: Path) -> None:
    session_id, request, work = park_a_request(tmp_path, "echo nope > denied.txt")
    with running_server(tmp_path, *COLD) as restarted, restarted.client() as http:
        mark = status(http, session_id)["last_event_id"]
        assert answer(http, session_id, request["request_id"], False, message="not tonight").status_code == 200
        frames = turn_after(http, session_id, mark)
        assert frames[-1]["event"] == "result", [f["event"] for f in frames]
        [result] = [f["data"] for f in frames if f["event"] == "tool_result"]
        assert result["is_error"] and "not tonight" in str(result["content"])
        assert "did not run" in str(frames[-1]["data"].get("result")), frames[-1]  # the demo model read the denial
        assert not (work / "denied.txt").exists()


def test_a_session_waiting_for_a_person_is_hibernated_when_idle_and_the_answer_wakes_it(tmp_path: Path) -> None:
    with running_server(tmp_path, *COLD, "--idle-timeout", "2", "--permission-timeout", "0") as server, server.client() as http:
        work = server.workspace / "project"
        work.mkdir()
        session_id = http.post("/sessions", json={"cwd": str(work)}).json()["session_id"]
        waiting = send_in_background(server, session_id, "run `echo later > later.txt`")
        [request] = wait_for_permissions(http, session_id)
        ended = waiting.result(timeout=60).json()  # idle for 2 s: parked, the process stopped
        assert ended["is_error"] and not (work / "later.txt").exists()
        wait_until(lambda: not server.cli_processes(), 15, what="the CLI to exit")
        now = status(http, session_id)
        assert now["status"] == "waiting_permission" and now["node"] is None
        assert [p["request_id"] for p in now["pending_permissions"]] == [request["request_id"]]
        assert answer(http, session_id, request["request_id"], True).status_code == 200
        frames = turn_after(http, session_id, now["last_event_id"])
        assert frames[-1]["event"] == "result", [f["event"] for f in frames]
        assert (work / "later.txt").read_text() == "later\n"
