"""Controlling a conversation through the real CLI and the demo model: fork, queue and steer, rewind."""

from __future__ import annotations

import base64
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from e2e_support import in_background, read_events, reply_text, send_in_background, status, wait_until
from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e


def _say(http: httpx.Client, session: str, message: str) -> str:
    reply = http.post(f"/sessions/{session}/messages", json={"message": message})
    assert reply.status_code == 200, reply.text
    return reply_text(reply.json())


def test_fork_at_a_middle_message_recalls_only_what_came_before(http: httpx.Client, session: str) -> None:
    _say(http, session, "remember that alpha is 1")
    _say(http, session, "remember that beta is 2")
    history = http.get(f"/sessions/{session}/history").json()["messages"]
    first_answer = next(m for m in history if m["type"] == "assistant")
    forked = http.post(f"/sessions/{session}/fork", json={"at_message_id": first_answer["uuid"], "title": "branch"})
    assert forked.status_code == 201, forked.text
    body = forked.json()
    child = body["session_id"]
    assert child != session
    assert body["forked_from"] == {"session_id": session, "message_id": first_answer["uuid"]}
    try:
        recalled = _say(http, child, "what did I ask you to remember?")
        assert "alpha is 1" in recalled and "beta" not in recalled
        original = _say(http, session, "what did I ask you to remember?")
        assert "alpha is 1" in original and "beta is 2" in original
        listed = {s["session_id"]: s for s in http.get("/sessions").json()["sessions"]}
        assert listed[child]["title"] == "branch" and listed[child]["cwd"] == listed[session]["cwd"]
        whole = http.post(f"/sessions/{session}/fork", json={})
        assert whole.status_code == 201, whole.text
        assert "beta is 2" in _say(http, whole.json()["session_id"], "what did I ask you to remember?")
        http.delete(f"/sessions/{whole.json()['session_id']}")
    finally:
        http.delete(f"/sessions/{child}")


def test_a_turns_events_name_the_transcript_uuids_of_its_prompt_and_reply(http: httpx.Client, session: str) -> None:
    """What fork and rewind take (``message_id``) comes with the events: no need to read the history."""
    frames = read_events(http, "POST", f"/sessions/{session}/messages", json={"message": "remember that delta is 4", "stream": True})
    events = {frame["event"]: frame["data"] for frame in frames}
    prompt_uuid = events["turn_started"]["user_message_uuid"]
    reply_uuid = events["assistant_message"]["uuid"]
    assert events["result"]["user_message_uuid"] == prompt_uuid
    history = http.get(f"/sessions/{session}/history").json()["messages"]
    prompt = next(m for m in history if m["uuid"] == prompt_uuid)
    assert prompt["type"] == "user" and prompt["message"]["content"] == "remember that delta is 4"
    assert next(m for m in history if m["uuid"] == reply_uuid)["type"] == "assistant"
    forked = http.post(f"/sessions/{session}/fork", json={"at_message_id": reply_uuid})
    assert forked.status_code == 201, forked.text
    try:
        assert "delta is 4" in _say(http, forked.json()["session_id"], "what did I ask you to remember?")
    finally:
        http.delete(f"/sessions/{forked.json()['session_id']}")


def test_fork_of_an_unknown_message_is_404(http: httpx.Client, session: str) -> None:
    _say(http, session, "remember that gamma is 3")
    missing = http.post(f"/sessions/{session}/fork", json={"at_message_id": "00000000-0000-4000-8000-000000000000"})
    assert missing.status_code == 404, missing.text
    assert http.post(f"/sessions/{session}/fork", json={"at_message_id": "nope"}).status_code == 422


def test_fork_during_a_turn_takes_the_last_completed_state(server: ServerProcess, http: httpx.Client, session: str) -> None:
    _say(http, session, "remember that delta is 4")
    pending = send_in_background(server, session, "count slowly")
    wait_until(lambda: status(http, session)["status"] == "running", what="the turn to run")
    forked = http.post(f"/sessions/{session}/fork", json={})
    assert forked.status_code == 201, forked.text
    child = forked.json()["session_id"]
    try:
        # The fork's history ends with the completed turn: its next turn is not the slow one's continuation.
        history = http.get(f"/sessions/{child}/history").json()["messages"]
        assert [m["type"] for m in history] == ["user", "assistant"]
        assert "delta is 4" in _say(http, child, "what did I ask you to remember?")
    finally:
        http.post(f"/sessions/{session}/interrupt")
        pending.result(timeout=30)
        http.delete(f"/sessions/{child}")


def _oc_say(http: httpx.Client, ses: str, text: str) -> str:
    reply = http.post(f"/session/{ses}/message", json={"parts": [{"type": "text", "text": text}]})
    assert reply.status_code == 200, reply.text
    return "".join(p.get("text", "") for p in reply.json()["parts"] if p["type"] == "text")


def test_opencode_fork_before_a_message_and_children(http: httpx.Client, workdir: Path) -> None:
    ses = http.post("/session", json={}, params={"directory": str(workdir)}).json()["id"]
    _oc_say(http, ses, "remember that alpha is 1")
    _oc_say(http, ses, "remember that beta is 2")
    users = [m["info"]["id"] for m in http.get(f"/session/{ses}/message").json() if m["info"]["role"] == "user"]
    forked = http.post(f"/session/{ses}/fork", json={"messageID": users[1]})
    assert forked.status_code == 200, forked.text
    child = forked.json()
    assert child["parentID"] == ses and child["id"] != ses
    assert [c["id"] for c in http.get(f"/session/{ses}/children").json()] == [child["id"]]
    recalled = _oc_say(http, child["id"], "what did I ask you to remember?")
    assert "alpha is 1" in recalled and "beta" not in recalled
    assert http.post(f"/session/{ses}/fork", json={"messageID": "msg_nope"}).status_code == 404


def test_queued_messages_run_in_order_and_a_cancelled_one_does_not(server: ServerProcess, http: httpx.Client, session: str) -> None:
    slow = send_in_background(server, session, "count slowly")
    wait_until(lambda: status(http, session)["status"] == "running", what="the turn to run")
    waiting = []
    for n in (1, 2, 3):
        waiting.append(send_in_background(server, session, f"remember that q{n} is queued", mode="queue"))
        wait_until(lambda n=n: len(status(http, session)["queued"]) == n, what=f"{n} queued")
    queued = status(http, session)["queued"]
    assert [q["message"] for q in queued] == [f"remember that q{n} is queued" for n in (1, 2, 3)]
    cancelled = http.delete(f"/sessions/{session}/queue/{queued[1]['queue_id']}")
    assert cancelled.json() == {"status": "cancelled", "queue_id": queued[1]["queue_id"]}
    assert http.delete(f"/sessions/{session}/queue/{queued[1]['queue_id']}").status_code == 404
    assert slow.result(timeout=60).status_code == 200
    first, second, third = (w.result(timeout=60) for w in waiting)
    assert first.status_code == 200 and "q1 is queued" in reply_text(first.json())
    assert second.status_code == 409 and "cancelled" in second.json()["detail"]
    assert third.status_code == 200 and "q3 is queued" in reply_text(third.json())
    assert status(http, session)["queued"] == []
    recalled = _say(http, session, "what did I ask you to remember?")
    assert "q1 is queued; q3 is queued" in recalled and "q2" not in recalled


def test_reject_is_the_default_and_steer_reaches_the_running_turn(server: ServerProcess, http: httpx.Client, session: str) -> None:
    slow = send_in_background(server, session, "count slowly")
    wait_until(lambda: status(http, session)["status"] == "running", what="the turn to run")
    assert http.post(f"/sessions/{session}/messages", json={"message": "hello", "mode": "reject"}).status_code == 409
    steered = http.post(f"/sessions/{session}/messages", json={"message": "remember that steering works", "mode": "steer"})
    assert steered.status_code == 200, steered.text
    # Streamed text cannot take it mid-way: the CLI answers it right after, within the same turn for us.
    texts = reply_text(steered.json())
    assert "Counting slowly" in texts and "I'll remember: steering works" in texts
    assert reply_text(slow.result(timeout=60).json()) == texts
    assert "steering works" in _say(http, session, "what did I ask you to remember?")


def test_steer_into_a_tool_call_is_taken_mid_turn(server: ServerProcess, http: httpx.Client, workdir: Path) -> None:
    created = http.post("/sessions", json={"cwd": str(workdir), "allowed_tools": ["Bash"]})
    session = created.json()["session_id"]
    try:
        running = send_in_background(server, session, "run `timeout 4 tail -f /dev/null`")
        wait_until(lambda: status(http, session)["status"] == "running", what="the turn to run")
        time.sleep(1.5)  # the demo model answers at once: the 4-second tool call runs now
        steered = http.post(f"/sessions/{session}/messages", json={"message": "remember that tools can be steered", "mode": "steer"})
        assert steered.status_code == 200, steered.text
        assert "I'll remember: tools can be steered" in reply_text(steered.json())
        assert running.result(timeout=60).json()["num_turns"] >= 1
        assert status(http, session)["status"] == "connected"
    finally:
        http.delete(f"/sessions/{session}")



def test_a_queued_message_survives_a_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, "--demo", "--warm-sessions", "0", "--shutdown-grace", "1")
    server.start()
    with server.client() as http:
        session = http.post("/sessions", json={}).json()["session_id"]
        slow = send_in_background(server, session, "count slowly")
        wait_until(lambda: status(http, session)["status"] == "running", what="the turn to run")
        queued = send_in_background(server, session, "remember that the queue survived", mode="queue")
        wait_until(lambda: len(status(http, session)["queued"]) == 1, what="the message to queue")
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=60)
    assert slow.result(timeout=10).status_code == 200
    refused = queued.result(timeout=10)
    assert refused.status_code == 503 and "shutting down" in refused.json()["detail"]

    with running_server(tmp_path, "--demo", "--warm-sessions", "0") as restarted, restarted.client() as http:
        def ran() -> bool:
            prompts = [m["message"]["content"] for m in http.get(f"/sessions/{session}/history").json()["messages"] if m["type"] == "user"]
            return "remember that the queue survived" in prompts and status(http, session)["status"] != "running"

        wait_until(ran, 60, what="the queued message to run after the restart")
        assert status(http, session)["queued"] == []
        assert "the queue survived" in _say(http, session, "what did I ask you to remember?")


@pytest.fixture(scope="module")
def checkpointing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A demo server with file checkpointing (off by default: the SDK refuses it with the transcript store)."""
    with running_server(tmp_path_factory.mktemp("checkpointing"), "--demo", "--file-checkpointing") as live:
        yield live


def test_rewind_restores_changed_and_created_files(checkpointing: ServerProcess) -> None:
    workdir = checkpointing.workspace / "rewind"
    workdir.mkdir()
    (workdir / "a.txt").write_text("original\n")
    with checkpointing.client() as http:
        session = http.post("/sessions", json={"cwd": str(workdir), "permission_mode": "acceptEdits"}).json()["session_id"]
        try:
            _say(http, session, "read `a.txt`")  # Claude Code writes over a file only after reading it
            _say(http, session, "create a file a.txt with content changed")
            _say(http, session, "create a file b.txt with content new")
            assert (workdir / "a.txt").read_text() == "changed\n" and (workdir / "b.txt").exists()
            prompts = [m for m in http.get(f"/sessions/{session}/history").json()["messages"] if m["type"] == "user" and isinstance(m["message"]["content"], str)]
            target = prompts[1]["uuid"]
            assert http.post(f"/sessions/{session}/rewind", json={"message_id": "00000000-0000-4000-8000-000000000000"}).status_code in (404, 409)
            rewound = http.post(f"/sessions/{session}/rewind", json={"message_id": target})
            assert rewound.status_code == 200, rewound.text
            assert sorted(Path(f).name for f in rewound.json()["files"]) == ["a.txt", "b.txt"]
            assert (workdir / "a.txt").read_text() == "original\n" and not (workdir / "b.txt").exists()
            # The conversation too: the next turn no longer sees the rewound prompts.
            _say(http, session, "remember that the rewind kept this")
            cut = http.post(f"/sessions/{session}/rewind", json={"message_id": target, "conversation": True})
            assert cut.status_code == 200, cut.text
            assert status(http, session)["status"] == "hibernated"
            recalled = _say(http, session, "what did I ask you to remember?")
            assert "rewind kept this" not in recalled
            texts = [m["message"]["content"] for m in http.get(f"/sessions/{session}/history").json()["messages"] if m["type"] == "user" and isinstance(m["message"]["content"], str)]
            assert texts == ["read `a.txt`", "what did I ask you to remember?"]
        finally:
            http.delete(f"/sessions/{session}")


def test_rewind_while_a_turn_runs_is_409(checkpointing: ServerProcess) -> None:
    server = checkpointing
    with checkpointing.client() as http:
        session = http.post("/sessions", json={}).json()["session_id"]
        _say(http, session, "hello")
        first = http.get(f"/sessions/{session}/history").json()["messages"][0]["uuid"]
        slow = send_in_background(server, session, "count slowly")
        wait_until(lambda: status(http, session)["status"] == "running", what="the turn to run")
        assert http.post(f"/sessions/{session}/rewind", json={"message_id": first}).status_code == 409
        http.post(f"/sessions/{session}/interrupt")
        slow.result(timeout=30)


SHOUT_SERVER = Path(__file__).parent / "mcp" / "shout_server.py"


def test_an_allowed_stdio_mcp_server_is_used_and_others_are_refused(tmp_path: Path) -> None:
    allow = json.dumps([sys.executable])
    # Unsandboxed: a stdio MCP server runs inside the session's sandbox, where this test's Python
    # (maybe a checkout under /tmp) need not be visible; a real one's command is on the system.
    args = ("--demo", "--warm-sessions", "0", "--isolation", "none", "--mcp-allow", allow)
    with running_server(tmp_path, *args) as server, server.client() as http:
        refused = http.post("/sessions", json={"mcp_servers": {"evil": {"command": "/bin/sh", "args": ["-c", "id"]}}})
        assert refused.status_code == 400 and "mcp_servers.evil" in refused.json()["detail"]
        with_env = http.post("/sessions", json={"mcp_servers": {"x": {"command": sys.executable, "env": {"LD_PRELOAD": "x"}}}})
        assert with_env.status_code == 422
        remote = http.post("/sessions", json={"mcp_servers": {"x": {"config": "nope"}}})
        assert remote.status_code == 400
        created = http.post("/sessions", json={
            "mcp_servers": {"shout": {"command": sys.executable, "args": [str(SHOUT_SERVER)]}},
            "allowed_tools": ["mcp__shout__shout"],
        })
        assert created.status_code == 201, created.text
        session = created.json()["session_id"]
        reply = http.post(f"/sessions/{session}/messages", json={"message": "call tool `mcp__shout__shout` with text hello"}).json()
        assert any(r.get("type") == "tool_result" and "HELLO!" in json.dumps(r["content"]) for r in reply["messages"]), reply
        servers = http.get(f"/sessions/{session}/mcp").json()["servers"]  # the CLI connects its servers with the first turn
        assert servers[0]["name"] == "shout" and servers[0]["status"] == "connected", servers
        assert any(t["name"] == "shout" for t in servers[0]["tools"]), servers
        assert http.post(f"/sessions/{session}/mcp/shout/toggle", json={"enabled": False}).json() == {"status": "ok", "name": "shout", "enabled": False}
        assert http.get(f"/sessions/{session}/mcp").json()["servers"][0]["status"] == "disabled"
        assert http.post(f"/sessions/{session}/mcp/shout/toggle", json={"enabled": True}).status_code == 200
        assert http.post(f"/sessions/{session}/mcp/nope/reconnect").status_code == 409
        # Stored with the spec: a woken session has it again.
        assert http.post(f"/sessions/{session}/hibernate").status_code == 200
        again = http.post(f"/sessions/{session}/messages", json={"message": "call tool `mcp__shout__shout` with text again"}).json()
        assert any("AGAIN!" in json.dumps(r.get("content")) for r in again["messages"] if r.get("type") == "tool_result"), again


def test_capabilities_are_validated_and_a_budget_stops_a_turn(http: httpx.Client, workdir: Path) -> None:
    for body, field in (({"effort": "extreme"}, "effort"), ({"thinking": {"type": "enabled"}}, "thinking"),
                        ({"max_budget_usd": -1}, "max_budget_usd"), ({"agents": {"a": {"prompt": "p"}}}, "agents")):
        refused = http.post("/sessions", json={"cwd": str(workdir), **body})
        assert refused.status_code == 422 and field in refused.text, (body, refused.text)
    outside = http.post("/sessions", json={"cwd": str(workdir), "add_dirs": ["/etc"]})
    assert outside.status_code == 400 and "add_dirs" in outside.json()["detail"]
    (workdir / "extra").mkdir()
    created = http.post("/sessions", json={
        "cwd": str(workdir), "max_budget_usd": 0.000001, "effort": "low", "thinking": {"type": "disabled"},
        "add_dirs": [str(workdir / "extra")], "agents": {"helper": {"description": "helps", "prompt": "You help."}},
    })
    assert created.status_code == 201, created.text
    session = created.json()["session_id"]
    try:
        reply = http.post(f"/sessions/{session}/messages", json={"message": "hello"}).json()
        assert reply["is_error"] is True and reply["subtype"] == "error_max_budget_usd", reply
        assert "budget" in " ".join(reply.get("errors") or []), reply
        info = http.get(f"/sessions/{session}/server_info").json()
        assert any(a.get("name") == "helper" for a in info.get("agents", [])), info.get("agents")
    finally:
        http.delete(f"/sessions/{session}")


class _Receiver(BaseHTTPRequestHandler):
    """The test's webhook receiver: records every POST, answers 500 to the first one."""

    seen: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(500 if len(type(self).seen) == 1 else 204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_webhooks_are_signed_and_retried_after_a_500(tmp_path: Path) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    secret = "whsec_" + base64.b64encode(b"a test secret of 24 bytes").decode()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    try:
        with running_server(tmp_path, "--demo", "--warm-sessions", "0", "--webhook-url", json.dumps([url]), "--webhook-secret", secret) as server, server.client() as client:
            session = client.post("/sessions", json={}).json()["session_id"]
            assert client.post(f"/sessions/{session}/messages", json={"message": "hello"}).status_code == 200
            wait_until(lambda: len(_Receiver.seen) >= 2, 30, what="the retried delivery")
            (first_headers, first_body), (headers, body) = _Receiver.seen[:2]
            assert first_headers["webhook-id"] == headers["webhook-id"] and first_body == body  # the same delivery, again
            delivered = json.loads(Webhook(secret).verify(body, headers) and body)
            assert delivered["type"] == "turn_completed" and delivered["data"]["session_id"] == session
            with pytest.raises(WebhookVerificationError):
                Webhook("whsec_" + base64.b64encode(b"another secret, 24 bytes").decode()).verify(body, headers)
            metrics = client.get("/metrics").text
            assert 'claude_agent_server_webhook_deliveries_total{outcome="delivered"} 1.0' in metrics
            assert "claude_agent_server_webhook_attempts_total 2.0" in metrics
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_an_opencode_prompt_during_a_turn_is_queued(server: ServerProcess, http: httpx.Client, workdir: Path) -> None:
    ses = http.post("/session", json={}, params={"directory": str(workdir)}).json()["id"]
    slow = in_background(lambda: _oc_post(server, ses, "count slowly"))
    wait_until(lambda: ses in http.get("/session/status").json(), what="the turn to run")
    queued = in_background(lambda: _oc_post(server, ses, "remember that OpenCode prompts queue"))
    assert "Counting slowly" in slow.result(timeout=60)
    assert "OpenCode prompts queue" in queued.result(timeout=60)


def _oc_post(server: ServerProcess, ses: str, text: str) -> str:
    with server.client(timeout=120) as client:
        return _oc_say(client, ses, text)
