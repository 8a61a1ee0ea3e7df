"""``POST /invocations``: the REST envelope and the AgentCore prompt shape."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from httpx_sse import connect_sse

from e2e_support import reply_text

pytestmark = pytest.mark.e2e

AGENTCORE = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


def invoke(http: httpx.Client, body: object, **kwargs: object) -> httpx.Response:
    return http.post("/invocations", json=body, **kwargs)  # type: ignore[arg-type]


def test_envelope_matches_the_rest_routes(http: httpx.Client, workdir: Path) -> None:
    created = invoke(http, {"path": "/sessions", "method": "POST", "payload": {"cwd": str(workdir)}})
    assert created.status_code == 201
    session_id = created.json()["session_id"]
    reply = invoke(
        http,
        {"path": "/sessions/{session_id}/messages", "method": "POST", "path_params": {"session_id": session_id},
         "payload": {"message": "remember that envelopes work"}},
    )
    assert reply.status_code == 200 and "envelopes work" in reply_text(reply.json())
    rest = http.get(f"/sessions/{session_id}/status").json()
    via = invoke(http, {"path": f"/sessions/{session_id}/status", "method": "GET"}).json()
    assert via == rest
    listed = invoke(http, {"path": "/sessions/available", "method": "GET", "payload": {"cwd": str(workdir), "limit": 5}})
    assert listed.status_code == 200
    assert invoke(http, {"path": f"/sessions/{session_id}", "method": "DELETE"}).json()["status"] == "closed"
    gone = invoke(http, {"path": "/sessions/{id}/status", "method": "GET", "path_params": {"id": session_id}})
    assert gone.status_code == 404


def test_envelope_errors_are_4xx(http: httpx.Client, session: str) -> None:
    assert invoke(http, {"method": "GET"}).status_code == 400
    assert invoke(http, {"path": "/no/such/route", "method": "GET"}).status_code == 404
    assert invoke(http, {"path": "/sessions", "method": "POST", "payload": {"max_turns": "many"}}).status_code == 422
    bad_message = {"path": f"/sessions/{session}/messages", "method": "POST", "payload": {"message": 5}}
    assert invoke(http, bad_message).status_code == 422
    assert invoke(http, {"path": "/sessions/{session_id}/status", "method": "GET"}).status_code == 400
    assert invoke(http, {"path": "/invocations", "method": "POST"}).status_code == 400
    assert invoke(http, {"path": "/sessions", "method": "TRACE"}).status_code == 400
    traversal = {"path": "/sessions/{id}/status", "method": "GET", "path_params": {"id": "../../health"}}
    assert invoke(http, traversal).status_code in (400, 404)
    assert http.post("/invocations", content=b"[1, 2]", headers={"content-type": "application/json"}).status_code == 422
    assert http.post("/invocations", content=b"{nope", headers={"content-type": "application/json"}).status_code == 400  # as the AgentCore reference app


def test_envelope_streams(http: httpx.Client, session: str) -> None:
    body = {"path": f"/sessions/{session}/messages", "method": "POST", "payload": {"message": "hello", "stream": True}}
    with connect_sse(http, "POST", "/invocations", json=body) as source:
        kinds = []
        for sse in source.iter_sse():
            kinds.append(sse.event)
            if sse.event == "result":
                break
    assert kinds[0] == "turn_started" and kinds[-1] == "result"


def test_agentcore_prompt_keeps_state_per_runtime_session(http: httpx.Client) -> None:
    runtime_session = "agentcore-runtime-session-0123456789abcdef"
    headers = {AGENTCORE: runtime_session}
    first = invoke(http, {"prompt": "remember that the answer is 42"}, headers=headers)
    assert first.status_code == 200, first.text
    assert first.headers[AGENTCORE] == runtime_session
    session_id = first.json()["session_id"]
    second = invoke(http, {"prompt": "what did I ask you to remember?"}, headers=headers)
    assert second.json()["session_id"] == session_id
    assert "the answer is 42" in reply_text(second.json())
    other = invoke(http, {"prompt": "what did I ask you to remember?"}, headers={AGENTCORE: "x" * 40})
    assert other.json()["session_id"] != session_id
    assert "haven't asked me" in reply_text(other.json())
    # Closed, the runtime session comes back from its transcript.
    http.delete(f"/sessions/{session_id}")
    third = invoke(http, {"prompt": "what did I ask you to remember?"}, headers=headers)
    assert third.json()["session_id"] == session_id and "the answer is 42" in reply_text(third.json())


def test_agentcore_streaming_and_bad_input(http: httpx.Client) -> None:
    headers = {AGENTCORE: "s" * 33, "Accept": "text/event-stream"}
    with connect_sse(http, "POST", "/invocations", json={"prompt": "hello"}, headers=headers) as source:
        frames = []
        for sse in source.iter_sse():
            frames.append((sse.event, json.loads(sse.data)))
            if sse.event == "result":
                break
    assert frames[0][0] == "turn_started" and frames[-1][0] == "result"
    assert invoke(http, {"prompt": "hi"}, headers={AGENTCORE: "too-short"}).status_code == 400
    assert invoke(http, {"prompt": ""}, headers={AGENTCORE: "s" * 33}).status_code == 422
