"""Three real servers on one PostgreSQL registry: any node serves any request, a node's death is survived.

Each node has its own data dir and its own HOME (no node can read another's ``~/.claude``:
a session wakes elsewhere from the transcript store); they share the workspace, as a
cluster shares a mounted filesystem.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from databases import postgres_database_sync
from e2e_support import answer, in_background, read_events, reply_text, send_in_background, wait_for_permissions, wait_until
from servers import ServerProcess

pytestmark = pytest.mark.e2e

LEASE = 3.0


def cli_count(session_id: str) -> int:
    """Claude Code processes on this machine whose command line names ``session_id`` (the CLI
    itself: a sandboxed one's bwrap wrappers name it too, and are not counted)."""
    count = 0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.split(b"\0")[0].endswith(b"_bundled/claude") and session_id.encode() in cmdline:
                count += 1
    return count


@contextlib.contextmanager
def cluster_of(root: Path, names: str) -> Iterator[dict[str, ServerProcess]]:
    """Nodes named ``names`` (not started) on a fresh PostgreSQL registry, each with its own
    data dir and HOME under ``root``, sharing ``root/workspace``."""
    workspace = root / "workspace"
    workspace.mkdir()
    with postgres_database_sync() as url:
        servers = {}
        for name in names:
            node_root = root / name
            node_root.mkdir()
            servers[name] = ServerProcess(
                node_root, "--demo", "--database-url", url, "--data-dir", str(node_root / "data"), "--node-id", name,
                "--node-heartbeat", "0.5", "--node-lease", str(LEASE), "--warm-sessions", "0",
                home=node_root / "home", workspace=workspace,
            )
        yield servers


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with cluster_of(tmp_path_factory.mktemp("cluster"), "abc") as servers:
        servers["a"].start()
        servers["b"].start()
        try:
            yield servers
        finally:
            for server in servers.values():
                server.stop()


def client(server: ServerProcess) -> httpx.Client:
    return server.client(timeout=60)


def test_any_node_serves_any_session_and_a_dead_node_is_survived(nodes: dict[str, ServerProcess]) -> None:
    a, b, c = nodes["a"], nodes["b"], nodes["c"]
    with client(a) as on_a, client(b) as on_b:
        sid = on_a.post("/sessions", json={}).json()["session_id"]
        c.start()  # a node starting later leaves the sessions other live nodes run alone
        with client(c) as on_c:
            status = on_c.get(f"/sessions/{sid}/status").json()
            assert (status["status"], status["node"]) == ("connected", "a")
            [entry] = [e for e in on_c.get("/sessions").json()["sessions"] if e["session_id"] == sid]
            assert entry["node"] == "a"
            # A forwarded request is never forwarded again.
            again = on_b.get(f"/sessions/{sid}/status", headers={"X-Agent-Server-Forwarded": "z"})
            assert again.status_code == 503 and again.headers["retry-after"] == "1"

            # A message through B runs on A, the owner; C's streams carry its events.
            [snapshot] = read_events(on_c, "GET", "/events", until=lambda f: True)
            cursor = snapshot["data"]["last_event_id"]
            reply = on_b.post(f"/sessions/{sid}/messages", json={"message": "remember that the code word is kiwi"})
            assert reply.status_code == 200, reply.text
            assert "kiwi" in reply_text(reply.json())
            frames = read_events(on_c, "GET", f"/sessions/{sid}/events", headers={"Last-Event-ID": "0"})
            assert [f["event"] for f in frames][-1] == "result"
            assert cli_count(sid) == 1
            seen = {}
            for name, http in (("c", on_c), ("b", on_b), ("a", on_a)):  # the same replay, whichever node is asked
                turn = read_events(http, "GET", "/events", headers={"Last-Event-ID": str(cursor)},
                                   until=lambda f: f["event"] == "result" and f["data"].get("session_id") == sid)
                seen[name] = [  # text deltas are live only (never stored): a replay from memory has them, one from the registry not
                    (int(f["id"]), f["event"]) for f in turn
                    if f["id"] and f["data"].get("session_id") == sid and f["event"] != "text_delta"
                ]
                ids = [i for i, _ in seen[name]]
                assert ids == sorted(set(ids)), name
            assert seen["c"] == seen["b"] == seen["a"]
            assert [e for _, e in seen["c"]][:1] == ["turn_started"] and seen["c"][-1][1] == "result"

            # Text deltas reach a subscriber of every node, live: the owner sends them with NOTIFY, and C
            # puts them between the persisted events it reads, in id order.
            [snapshot] = read_events(on_c, "GET", "/events", until=lambda f: True)

            def follow_on_c() -> list[dict[str, Any]]:
                with client(c) as http:
                    return read_events(http, "GET", "/events", headers={"Last-Event-ID": str(snapshot["data"]["last_event_id"])},
                                       until=lambda f: f["event"] == "result" and f["data"].get("session_id") == sid)

            live = in_background(follow_on_c)
            reply = on_b.post(f"/sessions/{sid}/messages", json={"message": "remember that deltas travel between nodes"})
            assert reply.status_code == 200, reply.text
            frames = [f for f in live.result(timeout=60) if f["id"]]
            ids = [int(f["id"]) for f in frames]
            assert ids == sorted(set(ids))  # one increasing sequence, deltas included
            turn = [f["event"] for f in frames if f["data"].get("session_id") == sid]
            texts = [f["data"]["text"] for f in frames if f["event"] == "text_delta" and f["data"]["session_id"] == sid]
            assert texts and all(text in reply_text(reply.json()) for text in texts), (turn, texts)
            assert turn[0] == "turn_started" and "assistant_message" in turn and turn[-1] == "result"  # no stored event skipped
            assert turn.index("text_delta") < turn.index("assistant_message")

            # A permission asked in a turn started through B is answered through C.
            pending = send_in_background(b, sid, "create a file through-c.txt with content answered on c")
            [request] = wait_for_permissions(on_c, sid)
            assert answer(on_c, sid, request["request_id"], True).status_code == 200
            assert pending.result(timeout=60).status_code == 200
            assert (a.workspace / "through-c.txt").read_text() == "answered on c\n"

            # OpenCode's global permission routes on C see and answer a request waiting on A.
            pending = send_in_background(b, sid, "create a file opencode-c.txt with content answered by opencode")
            wait_for_permissions(on_c, sid)
            [asked] = [p for p in on_c.get("/permission").json() if "opencode-c.txt" in str(p["metadata"])]
            assert asked["permission"] == "edit" and asked["sessionID"].startswith("ses")
            assert on_c.post(f"/permission/{asked['id']}/reply", json={"reply": "once"}).json() is True
            assert pending.result(timeout=60).status_code == 200
            assert (a.workspace / "opencode-c.txt").read_text() == "answered by opencode\n"
            assert on_c.post(f"/permission/{asked['id']}/reply", json={"reply": "once"}).status_code == 404

            # kill -9 A while its turn waits for a permission.
            doomed = send_in_background(b, sid, "create a file never.txt with content never")
            [lost_request] = wait_for_permissions(on_c, sid)
            killed_at = time.monotonic()
            a.kill()

            def hibernated() -> bool:  # and taken over: a node other than the dead one reaped its lease
                answer_ = on_b.get(f"/sessions/{sid}/status")
                reaped = {n["node_id"]: n["leases"] for n in on_b.get("/nodes").json()["nodes"]}.get("a") == 0
                return answer_.status_code == 200 and answer_.json()["status"] == "hibernated" and reaped

            wait_until(hibernated, timeout=LEASE + 10, interval=0.2, what="the session hibernated after its node died")
            assert time.monotonic() - killed_at < LEASE + 5
            doomed.exception(timeout=30) or doomed.result()  # the forwarded turn ended one way or another
            events = read_events(on_c, "GET", f"/sessions/{sid}/events", until=lambda f: f["event"] == "error",
                                 headers={"Last-Event-ID": str(request_event_id(on_c, sid, lost_request["request_id"]))})
            resolved = [f["data"] for f in events if f["event"] == "permission_resolved"]
            assert resolved and resolved[-1]["reason"] == "node_lost" and resolved[-1]["allowed"] is False
            assert events[-1]["data"]["reason"] == "node_lost"

            # The next message through B wakes it on B (or on C, when B still remembers C as the
            # holder of the lease it claimed for the takeover: C is then asked and wakes it), with its history.
            recall = on_b.post(f"/sessions/{sid}/messages", json={"message": "what did I ask you to remember?"})
            assert recall.status_code == 200, recall.text
            assert "kiwi" in reply_text(recall.json())
            assert cli_count(sid) == 1
            listed = {n["node_id"]: n for n in on_c.get("/nodes").json()["nodes"]}
            assert (listed["a"]["alive"], listed["b"]["alive"], listed["c"]["alive"]) == (False, True, True)
            assert listed["b"]["leases"] + listed["c"]["leases"] == 1
            cluster = on_c.get("/stats").json()["cluster"]
            assert (cluster["nodes_alive"], cluster["live_sessions"]) == (2, 1)

        # B stops (SIGTERM): its sessions are hibernated, and C wakes them on the next message.
        assert b.stop(signal.SIGTERM) == -signal.SIGTERM  # uvicorn re-raises the signal once it has shut down
        with client(c) as on_c:
            recall = on_c.post(f"/sessions/{sid}/messages", json={"message": "what did I ask you to remember?"})
            assert recall.status_code == 200, recall.text
            assert "kiwi" in reply_text(recall.json())
            assert on_c.get(f"/sessions/{sid}/status").json()["node"] == "c"
            assert cli_count(sid) == 1


def request_event_id(http: httpx.Client, session_id: str, request_id: str) -> int:
    """The id of the ``permission_request`` event of ``request_id``, minus one (a cursor that replays it)."""
    frames = read_events(http, "GET", f"/sessions/{session_id}/events", headers={"Last-Event-ID": "0"},
                         until=lambda f: f["event"] == "permission_request" and f["data"]["request_id"] == request_id)
    return int(frames[-1]["id"]) - 1


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[dict[str, ServerProcess]]:
    """Nodes ``a`` and ``b`` on a fresh registry, as the module's ``nodes`` are made."""
    with cluster_of(tmp_path, "ab") as servers:
        try:
            for server in servers.values():
                server.start()
            yield servers
        finally:
            for server in servers.values():
                if server.process is not None and server.process.poll() is None:
                    os.kill(server.process.pid, signal.SIGCONT)  # a stopped node cannot stop
                server.stop()


def test_a_stalled_node_stops_the_cli_of_a_session_another_node_took_over(two_nodes: dict[str, ServerProcess]) -> None:
    """Node A stops (SIGSTOP) longer than its lease: B takes its session over and wakes it; once A
    resumes it must not run a CLI for that session any more (it fences it), and it forwards to B."""
    a, b = two_nodes["a"], two_nodes["b"]
    assert a.process is not None
    with client(a) as on_a, client(b) as on_b:
        sid = on_a.post("/sessions", json={}).json()["session_id"]
        reply = on_a.post(f"/sessions/{sid}/messages", json={"message": "remember that the code word is plum"})
        assert reply.status_code == 200, reply.text
        assert cli_count(sid) == 1
        # The CLI's transcript reaches the registry in batches: stalled before, B would wake it without its history.
        wait_until(lambda: "plum" in on_a.get(f"/sessions/{sid}/history").text, timeout=30, what="the transcript in the registry")
        os.kill(a.process.pid, signal.SIGSTOP)
        try:
            time.sleep(LEASE + 1)  # meanwhile a request for it through B would wait on A (forwarded, unanswered)

            def taken_over() -> bool:  # B (the only other node) reaped A's lease
                return {n["node_id"]: n["leases"] for n in on_b.get("/nodes").json()["nodes"]}.get("a") == 0

            wait_until(taken_over, timeout=10, interval=0.2, what="A's lease taken over")
            assert on_b.get(f"/sessions/{sid}/status").json()["status"] == "hibernated"
            recall = on_b.post(f"/sessions/{sid}/messages", json={"message": "what did I ask you to remember?"})
            assert recall.status_code == 200, recall.text
            assert "plum" in reply_text(recall.json())
            assert on_b.get(f"/sessions/{sid}/status").json()["node"] == "b"
            assert cli_count(sid) == 2  # A's CLI is still there, its server stopped
        finally:
            os.kill(a.process.pid, signal.SIGCONT)
        wait_until(lambda: cli_count(sid) == 1, timeout=LEASE + 5, interval=0.1, what="A stopping its CLI of the session")
        status = on_a.get(f"/sessions/{sid}/status")
        assert status.status_code == 200, status.text
        assert (status.json()["status"], status.json()["node"]) == ("connected", "b")  # forwarded to B
        again = on_a.post(f"/sessions/{sid}/messages", json={"message": "and now?"})
        assert again.status_code == 200, again.text
        assert on_b.get(f"/sessions/{sid}/status").json()["node"] == "b"
        assert cli_count(sid) == 1
        assert "fenced" in a.log.read_text()
