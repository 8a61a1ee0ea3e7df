"""kill -9 of a real server (real CLI, demo model): a stream cursor from before the crash
resumes, recovery's events reach both streams, and an acknowledged turn survives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from e2e_support import read_events, reply_text, wait_until
from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e
COLD = ("--demo", "--warm-sessions", "0")


def create(http: httpx.Client) -> str:
    reply = http.post("/sessions", json={})
    assert reply.status_code == 201, reply.text
    return reply.json()["session_id"]


def recovered(session_id: str, event: str) -> Any:
    """``until`` for a replay: the frame recovery stores last for the session (``status`` on
    its own stream, ``session_status`` on the global one), hibernated."""
    return lambda f: f["id"] and f["event"] == event and f["data"]["session_id"] == session_id and f["data"]["status"] == "hibernated"


def test_a_cursor_from_before_a_kill_9_resumes_and_recovery_reaches_both_streams(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, *COLD)
    server.start()
    with server.client() as http:
        session_id = create(http)
        deltas: list[int] = []
        body = {"message": "count slowly", "stream": True}
        with connect_sse(http, "POST", f"/sessions/{session_id}/messages", json=body) as source:
            for sse in source.iter_sse():
                if sse.event == "text_delta":
                    deltas.append(int(sse.id))
                    if len(deltas) == 3:
                        server.kill()  # the client's last frame is a delta, which is never stored
                        break
    wait_until(lambda: not server.cli_processes(), 15, what="the orphaned CLI to exit")

    with running_server(tmp_path, *COLD) as restarted, restarted.client() as http:
        for url, last in ((f"/sessions/{session_id}/events", "status"), ("/events", "session_status")):
            frames = read_events(http, "GET", url, until=recovered(session_id, last), headers={"Last-Event-ID": str(deltas[-1])}, timeout=30)
            stored = [f for f in frames if f["id"]]
            assert all(int(f["id"]) > deltas[-1] for f in stored), url
            assert [(f["event"], f["data"].get("reason")) for f in stored][-2:] == [("error", "server_restart"), (last, None)], url
        reply = http.post(f"/sessions/{session_id}/messages", json={"message": "hello again"})
        assert reply.status_code == 200 and not reply.json()["is_error"]


def test_an_acknowledged_reply_survives_a_kill_9(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, *COLD)
    server.start()
    with server.client() as http:
        session_id = create(http)
        reply = http.post(f"/sessions/{session_id}/messages", json={"message": "remember that replies are durable"})
        server.kill()  # at once: the writer's batch interval has not passed
    assert reply.status_code == 200, reply.text
    wait_until(lambda: not server.cli_processes(), 15, what="the orphaned CLI to exit")

    with running_server(tmp_path, *COLD) as restarted, restarted.client() as http:
        frames = read_events(http, "GET", f"/sessions/{session_id}/events", until=recovered(session_id, "status"),
                             headers={"Last-Event-ID": "0"}, timeout=30)
        kinds = [f["event"] for f in frames if f["id"]]
        assert "assistant_message" in kinds and "result" in kinds, kinds
        [result] = [f["data"] for f in frames if f["event"] == "result"]
        assert result["result"] == reply.json()["result"]
        [entry] = http.get("/sessions").json()["sessions"]
        assert entry["turns"] == 1 and entry["cost_usd"] > 0
        assert "replies are durable" in reply_text(http.post(f"/sessions/{session_id}/messages", json={"message": "what did I ask you to remember?"}).json())
