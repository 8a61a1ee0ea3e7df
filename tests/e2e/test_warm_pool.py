"""The warm pool with the real CLI: a default session takes a warm client, model and mode
switch on it, the pool refills, and a warm client never used leaves no transcript."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e_support import reply_text, wait_until
from servers import running_server

pytestmark = pytest.mark.e2e


def test_warm_clients_serve_default_sessions_and_leave_no_trace(tmp_path: Path) -> None:
    with running_server(tmp_path, "--demo", "--warm-sessions", "1") as server, server.client() as http:
        wait_until(lambda: http.get("/health").json()["warm_sessions"] == 1, 30, what="a warm client")
        assert len(server.cli_processes()) == 1
        assert http.get("/sessions").json()["sessions"] == []  # not a session until it is taken

        first = http.post("/sessions", json={})
        assert first.status_code == 201
        session_id = first.json()["session_id"]
        assert "remember" in reply_text(http.post(f"/sessions/{session_id}/messages", json={"message": "remember that warm starts are fast"}).json())
        wait_until(lambda: http.get("/health").json()["warm_sessions"] == 1, 30, what="the refill")

        switched = http.post("/sessions", json={"model": "claude-demo-warm", "permission_mode": "acceptEdits"}).json()
        assert (switched["model"], switched["permission_mode"]) == ("claude-demo-warm", "acceptEdits")
        answer = http.post(f"/sessions/{switched['session_id']}/messages", json={"message": "which model are you?"}).json()
        assert "claude-demo-warm" in reply_text(answer)
        wait_until(lambda: http.get("/health").json()["warm_sessions"] == 1, 30, what="the second refill")
        assert len(server.cli_processes()) == 3

        listed = {s["session_id"] for s in http.get("/sessions").json()["sessions"]}
        available = {s["session_id"] for s in http.get("/sessions/available").json()["sessions"]}
        assert listed == available == {session_id, switched["session_id"]}
    transcripts = {p.stem for p in (server.home / ".claude" / "projects").rglob("*.jsonl")}
    assert transcripts == listed  # the warm client that was never used wrote nothing
