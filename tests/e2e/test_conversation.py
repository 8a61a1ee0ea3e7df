"""Controlling a conversation through the real CLI and the demo model: fork, queue and steer, rewind."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from e2e_support import reply_text, send_in_background, status, wait_until
from servers import ServerProcess

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
