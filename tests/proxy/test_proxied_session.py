"""A proxied session end to end: the real Claude Code CLI → this server's /v1/messages → LiteLLM → the scripted upstream."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from proxy.upstream import ScriptedUpstream
from servers import ServerProcess

pytestmark = pytest.mark.e2e


def wait_for(predicate: Callable[[], Any], timeout: float = 90, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def http(proxy_server: ServerProcess) -> Iterator[httpx.Client]:
    with proxy_server.client(timeout=120) as client:
        yield client


def test_proxied_session_runs_a_permitted_bash_call(proxy_server: ServerProcess, http: httpx.Client, upstream: ScriptedUpstream) -> None:
    workdir = proxy_server.workspace / "proxied"
    workdir.mkdir()
    created = http.post("/sessions", json={"cwd": str(workdir), "model": "scripted", "enable_proxy": True})
    assert created.status_code == 201, created.text
    session = created.json()["session_id"]
    assert created.json()["model"] == "scripted"
    call = {"command": "echo proxied-ok > proof.txt", "description": "Write the proof file"}

    def send(message: str) -> httpx.Response:
        with proxy_server.client(timeout=120) as client:
            return client.post(f"/sessions/{session}/messages", json={"message": message})

    with ThreadPoolExecutor(max_workers=1) as pool:
        turn = pool.submit(send, f"please TOOL Bash {json.dumps(call)}")
        status = wait_for(
            lambda: (s := http.get(f"/sessions/{session}/status").json())["pending_permission"] and s,
            what="the Bash call to wait for permission",
        )
        request = status["pending_permission"]
        assert status["status"] == "waiting_permission"
        assert request["tool_name"] == "Bash" and request["tool_input"]["command"] == call["command"]
        assert not (workdir / "proof.txt").exists()  # nothing runs before a human says yes
        answered = http.post(
            f"/sessions/{session}/permissions/respond", json={"request_id": request["request_id"], "allowed": True}
        )
        assert answered.status_code == 200, answered.text
        reply = turn.result(timeout=120)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["is_error"] is False and body["stop_reason"] == "end_turn", body
    assert [m["type"] for m in body["messages"]] == ["tool_use", "tool_result", "text"]
    assert body["messages"][0]["tool_input"] == call
    assert body["result"].startswith("tool said:")
    assert (workdir / "proof.txt").read_text() == "proxied-ok\n"

    # Every model call of the session went through the proxy to the configured deployment.
    calls = upstream.chat_requests()
    assert len(calls) >= 2
    assert {c.body["model"] for c in calls} == {"scripted-model"}
    assert all("anthropic-beta" not in c.headers for c in calls)
    assert all(c.body["max_tokens"] <= 8192 for c in calls)  # Claude Code asked for far more
    last = calls[-1].body["messages"]
    assert any(m["role"] == "tool" for m in last)

    # The conversation goes on in the same session, with its history.
    upstream.requests.clear()
    second = http.post(f"/sessions/{session}/messages", json={"message": "thanks, that is all"})
    assert second.status_code == 200 and second.json()["result"] == "scripted reply from scripted-model"
    history = upstream.chat_requests()[-1].body["messages"]
    assert any(m.get("tool_calls") for m in history) and any(m["role"] == "tool" for m in history)
    assert http.delete(f"/sessions/{session}").status_code == 200
