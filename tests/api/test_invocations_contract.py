"""``POST /invocations`` answers what ``/openapi.json`` says it does (issue 17: a signed-in
schemathesis run found envelope replies documented as a ``TurnReply`` that were not one).

Signed in with the server key, every reply is validated against the schema the document
gives for its status and media type: an AgentCore prompt's against ``TurnReply`` itself (and
with the same fields as the REST turn's reply), an envelope's against the named route's reply.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from claude_agent_sdk import AssistantMessage, TextBlock, ToolResultBlock, ToolUseBlock, UserMessage
from fastapi.testclient import TestClient

from claude_agent_server.app import create_app
from claude_agent_server.settings import Settings
from fakes import FakeClients, result, text

KEY = "k" * 32
SIGNED_IN = {"Authorization": f"Bearer {KEY}"}
AGENTCORE = {"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": "a" * 40}


@pytest.fixture
def clients() -> FakeClients:
    return FakeClients()


@pytest.fixture
def http(tmp_path: Path, clients: FakeClients) -> Iterator[TestClient]:
    settings = Settings(workspace=tmp_path, data_dir=tmp_path / "data", warm_sessions=0, api_key=KEY)
    with TestClient(create_app(settings, client_factory=clients), raise_server_exceptions=False, headers=SIGNED_IN) as client:
        yield client


@pytest.fixture
def document(http: TestClient) -> dict[str, Any]:
    return http.get("/openapi.json").json()


def check(document: dict[str, Any], reply: Any, schema: dict[str, Any] | None = None) -> None:
    """``reply`` (an httpx response) against the schema ``/invocations`` documents for its status (or ``schema``)."""
    if schema is None:
        responses = document["paths"]["/invocations"]["post"]["responses"]
        assert str(reply.status_code) in responses, f"status {reply.status_code} is not documented"
        content = responses[str(reply.status_code)]["content"]
        assert "application/json" in content and reply.headers["content-type"].startswith("application/json")
        schema = content["application/json"]["schema"]
    jsonschema.validate(reply.json(), {**schema, "components": document["components"]})


def tool_turn(answer: str) -> list[Any]:
    return [
        AssistantMessage(content=[ToolUseBlock(id="toolu_1", name="Bash", input={"command": "ls"})], model="fake-model"),
        UserMessage(content=[ToolResultBlock(tool_use_id="toolu_1", content="a.txt", is_error=False)]),
        *text(answer),
        result(answer),
    ]


def test_an_agentcore_reply_is_a_turn_reply_as_rest_gives_it(http: TestClient, clients: FakeClients, document: dict[str, Any]) -> None:
    clients.enqueue(*tool_turn("listed"))
    reply = http.post("/invocations", json={"prompt": "list the files"}, headers=AGENTCORE)
    assert reply.status_code == 200, reply.text
    assert [m["type"] for m in reply.json()["messages"]] == ["tool_use", "tool_result", "text"]
    check(document, reply)
    check(document, reply, {"$ref": "#/components/schemas/TurnReply"})  # the TurnReply branch itself, not "any reply"

    session_id = http.post("/sessions", json={}).json()["session_id"]
    clients.enqueue(*tool_turn("listed"))
    rest = http.post(f"/sessions/{session_id}/messages", json={"message": "list the files"}).json()
    assert set(reply.json()) == set(rest)  # the same fields as the REST reply (its response_model)


def test_an_envelope_gets_the_named_route_s_reply_and_the_document_says_so(http: TestClient, document: dict[str, Any]) -> None:
    created = http.post("/invocations", json={"path": "/sessions", "method": "POST", "payload": {}})
    assert created.status_code == 201
    check(document, created)
    session_id = created.json()["session_id"]
    forked = http.post("/invocations", json={"path": "/sessions/{id}/fork", "path_params": {"id": session_id}, "payload": {}})
    for path in ("/health", "/sessions", "/stats", f"/sessions/{session_id}/status"):
        reply = http.post("/invocations", json={"path": path, "method": "GET"})
        assert reply.status_code == 200, (path, reply.text)
        check(document, reply)  # a Health, a SessionList, ...: not a TurnReply
    for reply in (forked, http.post("/invocations", json={"path": "/nowhere", "method": "GET"})):
        check(document, reply)  # whatever status the named route answered is documented, with its body
    metrics = http.post("/invocations", json={"path": "/metrics", "method": "GET"})
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert "*/*" in document["paths"]["/invocations"]["post"]["responses"]["200"]["content"]  # another media type is documented
