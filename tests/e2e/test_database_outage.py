"""A PostgreSQL outage under a real server (real CLI, demo model): a TCP forwarder between the
server and PostgreSQL is cut for ~10 s while turns run, then restored. Turns keep working,
reads answer 503 with Retry-After, /health says degraded, and afterwards every event that
live subscribers received is in the registry's replay, and every turn's transcript lines are in
the store (the session's history)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse
from sqlalchemy import make_url

from databases import PG_HOST, PG_PORT, postgres_database_sync
from e2e_support import read_events, wait_until
from forwarder import forwarding
from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e
OUTAGE_SECONDS = 10
P = "claude_agent_server_"


def metric(http: httpx.Client, name: str) -> float:
    reply = http.get("/metrics")
    assert reply.status_code == 200, reply.text
    [line] = [line for line in reply.text.splitlines() if line.startswith(P + name + " ")]
    return float(line.split()[1])


def streamed_turn(http: httpx.Client, session_id: str, message: str) -> list[dict[str, Any]]:
    frames = read_events(http, "POST", f"/sessions/{session_id}/messages", json={"message": message, "stream": True})
    assert frames[-1]["event"] == "result" and not frames[-1]["data"]["is_error"], frames[-1]
    return frames


class GlobalFollower:
    """Reads ``GET /events`` in a thread, keeping every frame with an id (as a dashboard would)."""

    def __init__(self, server: ServerProcess) -> None:
        self.frames: list[dict[str, Any]] = []
        self._server = server
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()
        assert self._ready.wait(30)

    def _follow(self) -> None:
        try:
            with self._server.client(timeout=None) as http, connect_sse(http, "GET", "/events") as source:
                for sse in source.iter_sse():
                    self._ready.set()
                    if self._stop.is_set():
                        return
                    if sse.data and sse.id:
                        self.frames.append({"id": int(sse.id), "event": sse.event, "data": json.loads(sse.data)})
        except httpx.TransportError:
            return  # the server stopped (a failing test); the frames so far stay

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def test_a_database_outage_loses_no_event(tmp_path: Path) -> None:
    with postgres_database_sync() as url, forwarding((PG_HOST, PG_PORT)) as forwarder:
        via = make_url(url).set(port=forwarder.port).render_as_string(hide_password=False)
        # A lease longer than the outage: on a PostgreSQL registry a node that cannot renew its leases for
        # --node-lease minus --node-heartbeat seconds stops its CLIs (fencing: another node may claim them).
        args = ("--demo", "--warm-sessions", "0", "--heartbeat-interval", "1", "--database-url", via, "--node-lease", "60")
        with running_server(tmp_path, *args) as server, server.client() as http:
            follower = GlobalFollower(server)
            session_id = http.post("/sessions", json={}).json()["session_id"]
            received = streamed_turn(http, session_id, "hello")
            turns = 1

            forwarder.cut()
            cut = time.monotonic()
            received += streamed_turn(http, session_id, "remember that the database went away")
            turns += 1
            health = wait_until(lambda: (h := http.get("/health").json())["status"] == "degraded" and h, 15, what="degraded")
            assert health["database"]["status"] == "unavailable" and health["database"]["since"]
            for method, path in (("GET", "/sessions"), ("GET", "/stats"), ("POST", "/sessions")):
                refused = http.request(method, path, json={} if method == "POST" else None)
                assert refused.status_code == 503, (path, refused.text)
                assert refused.headers["Retry-After"].isdigit() and "unavailable" in refused.json()["detail"]
            assert http.get("/ping").json()["status"] in ("Healthy", "HealthyBusy")
            while time.monotonic() - cut < OUTAGE_SECONDS:  # turns keep working
                received += streamed_turn(http, session_id, "count to three")
                turns += 1
            assert metric(http, "registry_database_up") == 0 and metric(http, "registry_pending_events") > 0
            health = http.get("/health").json()["database"]
            assert health["pending_events"] > 0 and health["spilled_bytes"] > 0

            forwarder.restore()
            wait_until(lambda: http.get("/sessions").status_code == 200, 30, what="the registry to answer again")
            assert http.get("/health").json() | {"timestamp": "", "active_sessions": 0} == {
                "status": "healthy", "timestamp": "", "active_sessions": 0, "warm_sessions": 0,
                "database": {"status": "ok", "since": None, "pending_events": 0, "spilled_bytes": 0},
            }
            follower.stop()

            stored = [f for f in received if f["event"] != "text_delta"]
            replayed = read_events(http, "GET", f"/sessions/{session_id}/events", until=lambda f: f["id"] == stored[-1]["id"],
                                   headers={"Last-Event-ID": "0"}, limit=10_000)
            missing = {f["id"] for f in stored} - {f["id"] for f in replayed}
            assert not missing, f"{len(missing)} of {len(stored)} events received live are not in the replay"
            followed = [f for f in follower.frames if f["event"] != "text_delta"]
            assert len(followed) > len(stored) / 2  # it saw the turns (and the lifecycle events)
            global_replay = read_events(http, "GET", "/events", until=lambda f: f["id"] and int(f["id"]) >= followed[-1]["id"],
                                        headers={"Last-Event-ID": "0"}, limit=10_000)
            assert {f["id"] for f in followed} <= {int(f["id"]) for f in global_replay if f["id"]}
            [entry] = http.get("/sessions").json()["sessions"]
            assert entry["turns"] == turns and turns >= 4
            assert metric(http, "events_dropped_total") == 0 and metric(http, "registry_database_up") == 1
            history = http.get(f"/sessions/{session_id}/history").json()["messages"]
            prompts = [m["message"]["content"] for m in history if m["type"] == "user" and isinstance(m["message"]["content"], str)]
            assert len(prompts) == turns and prompts[1] == "remember that the database went away", prompts  # no line lost
        log = server.log.read_text()
        assert "Traceback" not in log, log[max(0, log.find("Traceback") - 800):][:3000]
        assert "the database answers again" in log and "transcripts: gave up" not in log and "dropped" not in log


def test_a_server_stopped_during_an_outage_writes_its_spill_file_at_the_next_start(tmp_path: Path) -> None:
    with postgres_database_sync() as url, forwarding((PG_HOST, PG_PORT)) as forwarder:
        via = make_url(url).set(port=forwarder.port).render_as_string(hide_password=False)
        args = ("--demo", "--warm-sessions", "0", "--database-url", via, "--node-id", "restarted")  # one node, restarted on another port
        server = ServerProcess(tmp_path, *args)
        server.start()
        with server.client() as http:
            session_id = http.post("/sessions", json={}).json()["session_id"]
            streamed_turn(http, session_id, "hello")
            forwarder.cut()
            received = streamed_turn(http, session_id, "remember that the spill file keeps this")
        stopping = time.monotonic()
        server.stop()
        assert time.monotonic() - stopping < 30  # the shutdown did not wait for the database
        log = server.log.read_text()
        assert "wait in" in log and "written when the server next starts" in log, log

        forwarder.restore()
        with running_server(tmp_path, *args) as again, again.client() as http:
            stored = [f for f in received if f["event"] != "text_delta"]
            replayed = read_events(http, "GET", f"/sessions/{session_id}/events", until=lambda f: f["id"] == stored[-1]["id"],
                                   headers={"Last-Event-ID": "0"})
            assert {f["id"] for f in stored} <= {f["id"] for f in replayed}
            [entry] = http.get("/sessions").json()["sessions"]
            assert entry["turns"] == 2 and entry["status"] == "hibernated"
            recall = http.post(f"/sessions/{session_id}/messages", json={"message": "what did I ask you to remember?"}).json()
            assert "the spill file keeps this" in " ".join(m["content"] for m in recall["messages"] if m["type"] == "text")
            assert http.get("/health").json()["database"]["status"] == "ok"
