"""Sessions outlive their processes (real CLI, demo model): hibernation and waking, the
live cap, SIGTERM and kill -9 of the server, kill -9 of a CLI, replay across restarts,
the global event stream, and one-off AgentCore calls."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from claude_agent_server.api.invocations import SESSION_HEADER, agentcore_session_id
from databases import postgres_database_sync
from e2e_support import answer, in_background, post_in_background, read_events, reply_text, send_in_background, status, wait_for_permissions, wait_until
from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e
COLD = ("--demo", "--warm-sessions", "0")
"""These tests count CLI processes: no warm pool (tests/e2e/test_warm_pool.py covers it)."""


def stream_in_background(server: ServerProcess, session_id: str, message: str) -> Any:
    """A streamed turn read from another thread; the future holds its frames up to ``result`` or ``error``."""

    def stream() -> list[dict[str, Any]]:
        with server.client(timeout=120) as client:
            return read_events(client, "POST", f"/sessions/{session_id}/messages", until=lambda f: f["event"] in ("result", "error"),
                               json={"message": message, "stream": True})

    return in_background(stream)


def create(http: httpx.Client, **body: Any) -> str:
    reply = http.post("/sessions", json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()["session_id"]


def say(http: httpx.Client, session_id: str, message: str) -> dict[str, Any]:
    reply = http.post(f"/sessions/{session_id}/messages", json={"message": message})
    assert reply.status_code == 200, reply.text
    return reply.json()


def listed(http: httpx.Client) -> dict[str, dict[str, Any]]:
    return {s["session_id"]: s for s in http.get("/sessions").json()["sessions"]}


def replay(http: httpx.Client, url: str, after: int, until: Any = "result") -> list[dict[str, Any]]:
    """Frames with an id after ``after`` (the id-less snapshot dropped), up to ``until``."""
    frames = read_events(http, "GET", url, until=until, headers={"Last-Event-ID": str(after)}, timeout=60)
    return [f for f in frames if f["id"]]


def test_an_idle_session_hibernates_and_wakes_with_its_history(tmp_path: Path) -> None:
    with running_server(tmp_path, *COLD, "--idle-timeout", "1") as server, server.client() as http:
        session_id = create(http, model="claude-demo-idle", permission_mode="acceptEdits")
        say(http, session_id, "remember that idle hibernation works")
        wait_until(lambda: status(http, session_id)["status"] == "hibernated", 30, what="idle hibernation")
        wait_until(lambda: not server.cli_processes(), 15, what="the CLI to exit")
        entry = listed(http)[session_id]
        assert entry["state"] == "hibernated" and entry["turns"] == 1 and entry["title"] == "remember that idle hibernation works"
        mark = status(http, session_id)["last_event_id"]

        recall = say(http, session_id, "what did I ask you to remember?")
        assert "idle hibernation works" in reply_text(recall)
        assert listed(http)[session_id]["cost_usd"] == round(recall["cost_usd"], 6)  # the woken CLI's total: both turns
        frames = replay(http, f"/sessions/{session_id}/events", mark)
        assert [f["data"]["status"] for f in frames if f["event"] == "status"][:2] == ["waking", "connected"]
        assert "claude-demo-idle" in reply_text(say(http, session_id, "which model are you?"))
        assert status(http, session_id)["permission_mode"] == "acceptEdits"


def test_the_live_cap_hibernates_the_least_recently_used_session(tmp_path: Path) -> None:
    with running_server(tmp_path, *COLD, "--max-live-sessions", "2") as server, server.client() as http:
        first, second = create(http), create(http)
        say(http, first, "remember that I am the first session")
        say(http, second, "hello")
        third = create(http)
        entries = listed(http)
        assert [entries[s]["status"] for s in (first, second, third)] == ["hibernated", "connected", "connected"]
        wait_until(lambda: len(server.cli_processes()) == 2, 15, what="two CLIs")
        assert "I am the first session" in reply_text(say(http, first, "what did I ask you to remember?"))
        entries = listed(http)
        assert [entries[s]["status"] for s in (first, second, third)] == ["connected", "hibernated", "connected"]
        assert list(entries)[0] == first  # newest activity first
        assert http.get("/health").json()["active_sessions"] == 2
        wait_until(lambda: len(server.cli_processes()) == 2, 15, what="two CLIs")


def test_when_every_live_session_is_busy_the_answer_is_503_with_retry_after(tmp_path: Path) -> None:
    with running_server(tmp_path, *COLD, "--max-live-sessions", "1") as server, server.client() as http:
        busy = create(http)
        turn = send_in_background(server, busy, "run `echo busy > busy.txt`")
        [request] = wait_for_permissions(http, busy)
        refused = http.post("/sessions", json={})
        assert refused.status_code == 503 and refused.headers["Retry-After"].isdigit()
        assert "busy" in refused.json()["detail"]
        assert answer(http, busy, request["request_id"], False).status_code == 200
        assert turn.result().status_code == 200
        assert http.post("/sessions", json={}).status_code == 201  # idle now: it makes room


def test_sigterm_drains_and_a_restart_continues_every_session(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, *COLD, "--shutdown-grace", "5")
    server.start()
    with server.client() as http:
        work = server.workspace / "project"
        work.mkdir()
        calm = create(http, cwd=str(work), model="claude-demo-calm", permission_mode="acceptEdits")
        say(http, calm, "remember that the cat is called Tom")
        slow, asking = create(http), create(http, cwd=str(work))
        counting = stream_in_background(server, slow, "count slowly")
        waiting = send_in_background(server, asking, "run `echo late > late.txt`")
        [asked] = wait_for_permissions(http, asking)
        wait_until(lambda: status(http, slow)["status"] == "running", 30, what="the slow turn")
        before = listed(http)
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        refused = wait_until(lambda: (r := http.post("/sessions", json={})).status_code == 503 and r, 10, what="503 while draining")
        assert "shutting down" in refused.json()["detail"] and refused.headers["Retry-After"].isdigit()
        assert http.post(f"/sessions/{calm}/messages", json={"message": "one more?"}).status_code == 503
    assert server.process.wait(timeout=60) == -signal.SIGTERM  # uvicorn re-raises the signal once it has shut down
    streamed, parked = counting.result(), waiting.result().json()
    assert streamed[-1]["event"] == "result"  # the stream outlived the signal and carried the turn's end
    assert streamed[-1]["data"]["terminal_reason"].startswith("aborted")  # the 5 s grace ran out (the reply takes 10 s)
    assert parked["is_error"] and not (work / "late.txt").exists(), parked  # its turn waits: the request is parked
    wait_until(lambda: not server.cli_processes(), 15, what="every CLI to exit")

    with running_server(tmp_path, *COLD) as restarted, restarted.client() as http:
        after = listed(http)
        assert set(after) == {calm, slow, asking}
        assert {s: e["status"] for s, e in after.items()} == {calm: "hibernated", slow: "hibernated", asking: "waiting_permission"}
        for session_id in after:
            for field in ("created_at", "title", "cwd", "model", "permission_mode"):
                assert after[session_id][field] == before[session_id][field], (field, after[session_id], before[session_id])
        assert after[calm]["turns"] == 1 and after[calm]["cost_usd"] > 0 and after[calm]["input_tokens"] > 0
        assert "the cat is called Tom" in reply_text(say(http, calm, "what did I ask you to remember?"))
        assert "claude-demo-calm" in reply_text(say(http, calm, "which model are you?"))
        assert [p["request_id"] for p in status(http, asking)["pending_permissions"]] == [asked["request_id"]]  # still pending


def test_kill_9_of_the_server_leaves_no_cli_and_a_restart_recovers(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, *COLD)
    server.start()
    with server.client() as http:
        calm = create(http)
        say(http, calm, "remember that kill -9 is abrupt")
        slow = create(http)
        send_in_background(server, slow, "count slowly")
        # Listing flushes the registry's writer: the running turn is on disk before the kill.
        running = lambda: [e for e in http.get("/sessions", params={"status": "running"}).json()["sessions"]]  # noqa: E731
        wait_until(running, 30, what="the slow turn, written to the registry")
        assert len(server.cli_processes()) == 2
    server.kill()
    wait_until(lambda: not server.cli_processes(), 15, what="the orphaned CLIs to exit")

    with running_server(tmp_path, *COLD) as restarted, restarted.client() as http:
        entries = listed(http)
        assert {entries[calm]["status"], entries[slow]["status"]} == {"hibernated"}
        ended = replay(http, f"/sessions/{slow}/events", 0, until="error")[-1]["data"]
        assert ended["type"] == "error" and ended["reason"] == "server_restart"
        assert "kill -9 is abrupt" in reply_text(say(http, calm, "what did I ask you to remember?"))


def test_kill_9_of_a_cli_mid_turn_hibernates_the_session(tmp_path: Path) -> None:
    with running_server(tmp_path, *COLD) as server, server.client() as http:
        session_id = create(http)
        say(http, session_id, "remember that the CLI will die")
        turn = send_in_background(server, session_id, "run `echo never > never.txt`")
        wait_for_permissions(http, session_id)
        [pid] = server.cli_processes()
        os.kill(pid, signal.SIGKILL)
        reply = turn.result().json()
        assert reply["is_error"] and "agent process died" in reply["error"]
        assert status(http, session_id)["status"] == "hibernated" and status(http, session_id)["pending_permissions"] == []
        resolved = replay(http, f"/sessions/{session_id}/events", 0, until="permission_resolved")[-1]["data"]
        assert resolved["reason"] == "session_closed"
        assert "the CLI will die" in reply_text(say(http, session_id, "what did I ask you to remember?"))
        assert "Traceback" not in server.log.read_text()


def test_last_event_id_replay_across_a_restart_on_both_streams(tmp_path: Path) -> None:
    with running_server(tmp_path, *COLD) as server, server.client() as http:
        session_id = create(http)
        say(http, session_id, "hello")
        mark = status(http, session_id)["last_event_id"]
        live = read_events(http, "POST", f"/sessions/{session_id}/messages", json={"message": "remember that replay works", "stream": True})
        persisted = [int(f["id"]) for f in live if f["event"] != "text_delta"]

    with running_server(tmp_path, *COLD) as restarted, restarted.client() as http:
        session_frames = replay(http, f"/sessions/{session_id}/events", mark)
        assert [int(f["id"]) for f in session_frames] == persisted
        global_frames = replay(http, "/events", mark)
        turn = [int(f["id"]) for f in global_frames if f["event"] not in ("session_status", "status")]
        assert turn == [i for i, f in zip(persisted, [f for f in live if f["event"] != "text_delta"], strict=True) if f["event"] != "status"]
        assert all(f["data"]["session_id"] == session_id for f in global_frames)
        newer = read_events(http, "POST", f"/sessions/{session_id}/messages", json={"message": "hello again", "stream": True})
        assert min(int(f["id"]) for f in newer) > max(persisted)


def test_the_global_stream_sees_a_session_created_by_another_request(tmp_path: Path) -> None:
    with running_server(tmp_path, *COLD) as server, server.client() as http:
        subscribed, seen = threading.Event(), []

        def watch() -> None:
            with server.client() as watcher, connect_sse(watcher, "GET", "/events") as source:
                for sse in source.iter_sse():
                    if not sse.data:
                        continue  # httpx-sse's empty event after a heartbeat
                    seen.append((sse.event, json.loads(sse.data)))
                    subscribed.set()
                    if sse.event == "result":
                        return

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        assert subscribed.wait(30)
        session_id = create(http)
        say(http, session_id, "hello")
        thread.join(60)
        kinds = [kind for kind, _ in seen]
        assert kinds[0] == "snapshot" and seen[0][1]["sessions"] == {"live": 0, "hibernated": 0, "warm": 0}
        assert ("session_created", session_id) in [(k, d.get("session_id")) for k, d in seen]
        [created] = [d for k, d in seen if k == "session_created"]
        assert created["session"]["status"] == "connected" and created["session"]["session_id"] == session_id
        assert [d["status"] for k, d in seen if k == "session_status"][:1] == ["running"]
        assert kinds.index("session_created") < kinds.index("turn_started") < kinds.index("result")
        assert "status" not in kinds


def test_a_one_off_agentcore_prompt_leaves_no_live_process(tmp_path: Path) -> None:
    with running_server(tmp_path, *COLD) as server, server.client() as http:
        reply = http.post("/invocations", json={"prompt": "remember that one-off calls are cheap"})
        assert reply.status_code == 200 and reply.json()["is_error"] is False
        session_id = agentcore_session_id(reply.headers[SESSION_HEADER])
        wait_until(lambda: status(http, session_id)["status"] == "hibernated", 30, what="the one-off session to hibernate")
        wait_until(lambda: not server.cli_processes(), 15, what="its CLI to exit")
        again = http.post("/invocations", json={"prompt": "what did I ask you to remember?"}, headers={SESSION_HEADER: reply.headers[SESSION_HEADER]})
        assert "one-off calls are cheap" in reply_text(again.json())  # the header continues it, woken
        assert status(http, session_id)["status"] == "connected"  # with its header, it stays live


def test_a_postgresql_registry_survives_a_restart(tmp_path: Path) -> None:
    with postgres_database_sync() as url:
        env = {"AGENT_SERVER_DATABASE_URL": url}
        with running_server(tmp_path, *COLD, env=env) as server, server.client() as http:
            session_id = create(http)
            say(http, session_id, "remember that PostgreSQL keeps the registry")
        with running_server(tmp_path, *COLD, env=env) as server, server.client() as http:
            entry = listed(http)[session_id]
            assert entry["status"] == "hibernated" and entry["turns"] == 1
            assert "PostgreSQL keeps the registry" in reply_text(say(http, session_id, "what did I ask you to remember?"))


def test_concurrent_resumes_of_one_closed_session_start_one_cli(tmp_path: Path) -> None:
    with running_server(tmp_path, *COLD, "--max-live-sessions", "3") as server, server.client() as http:
        session_id = create(http)
        say(http, session_id, "remember that only one CLI may resume me")
        assert http.delete(f"/sessions/{session_id}").status_code == 200
        wait_until(lambda: not server.cli_processes(), 15, what="the CLI to exit")
        replies = [f.result() for f in [post_in_background(server, "/sessions", {"resume_session_id": session_id}) for _ in range(8)]]
        assert sorted(r.status_code for r in replies) == [201] + [409] * 7
        assert len(server.cli_processes()) == 1 and http.get("/health").json()["active_sessions"] == 1
        assert http.delete(f"/sessions/{session_id}").status_code == 200
        wait_until(lambda: not server.cli_processes(), 15, what="the resumed CLI to exit")



def test_delete_during_a_streamed_turn_answers_at_once(tmp_path: Path) -> None:
    with running_server(tmp_path, *COLD) as server, server.client() as http:
        session_id = create(http)
        streamed = stream_in_background(server, session_id, "count slowly")
        wait_until(lambda: status(http, session_id)["status"] == "running", 30, what="the slow turn")
        started = time.monotonic()
        assert http.delete(f"/sessions/{session_id}").status_code == 200
        assert time.monotonic() - started < 2.5  # the CLI stops in the background
        assert http.get(f"/sessions/{session_id}/status").status_code == 404
        ended = streamed.result(timeout=60)[-1]
        assert ended["event"] == "error" and ended["data"]["reason"] == "session_closed"
        wait_until(lambda: not server.cli_processes(), 15, what="the CLI to exit")


def test_ctrl_c_to_the_server_group_lets_a_running_turn_finish(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, *COLD, "--shutdown-grace", "30")
    server.start()
    with server.client() as http:
        session_id = create(http)
        streamed = stream_in_background(server, session_id, "count slowly")
        wait_until(lambda: status(http, session_id)["status"] == "running", 30, what="the slow turn")
    assert server.process is not None
    os.killpg(server.process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
    ended = streamed.result(timeout=60)[-1]
    assert ended["event"] == "result" and ended["data"]["terminal_reason"] == "completed"  # the CLI was not hit
    assert server.process.wait(timeout=60) == 130  # interrupted, after the drain
    assert "Traceback" not in server.log.read_text()
    wait_until(lambda: not server.cli_processes(), 15, what="the CLI to exit")
