"""The Responses API in-process over scripted SDK clients: a failed turn (stream and not),
bad requests, the options a json_schema format gives a session, and the pure mappers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from claude_agent_sdk import ResultMessage
from fastapi.testclient import TestClient

from claude_agent_server.gateway.errors import GatewayError
from claude_agent_server.gateway.mapping import End, Failure, Text
from claude_agent_server.gateway.protocol import PromptTokensDetails, Usage
from claude_agent_server.gateway.responses import items
from claude_agent_server.gateway.responses.events import ResponseBuilder
from fakes import FakeClients, result, text
from gateway.test_gateway_api import make_app, sdk

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


@pytest.fixture
def clients() -> FakeClients:
    return FakeClients()


@pytest.fixture
def http(tmp_path: Path, clients: FakeClients) -> Iterator[TestClient]:
    with make_app(tmp_path, clients) as client:
        yield client


def test_a_failed_turn_is_an_error_or_response_failed(http: TestClient, clients: FakeClients) -> None:
    clients.enqueue(*text("partial"), result("the model endpoint failed", is_error=True))
    with pytest.raises(openai.InternalServerError) as failed:
        sdk(http).responses.create(model="sonnet", input="hi")
    assert "the model endpoint failed" in failed.value.message
    clients.enqueue(*text("partial"), result("the model endpoint failed", is_error=True))
    events = list(sdk(http).responses.create(model="sonnet", input="hi", stream=True))
    assert [e.type for e in events][-1] == "response.failed"
    assert events[-1].response.status == "failed" and events[-1].response.error.message == "the model endpoint failed"


def test_json_schema_runs_in_an_output_format_session_and_checks_the_value(http: TestClient, clients: FakeClients) -> None:
    structured = ResultMessage(
        subtype="success", duration_ms=1, duration_api_ms=1, is_error=False, num_turns=1, session_id="s",
        stop_reason="end_turn", total_cost_usd=0.001, usage={"input_tokens": 1, "output_tokens": 1},
        result='{"n": 3}', structured_output={"n": 3},
    )
    clients.enqueue(*text("some prose first"), structured)
    fmt = {"type": "json_schema", "name": "n", "schema": SCHEMA}
    response = sdk(http).responses.create(model="sonnet", input="count", text={"format": fmt})
    assert response.output_text == '{"n": 3}'
    assert clients.last.options.output_format == {"type": "json_schema", "schema": SCHEMA}
    wrong = ResultMessage(**{**structured.__dict__, "structured_output": {"n": "three"}})
    clients.enqueue(wrong)
    with pytest.raises(openai.APIStatusError) as invalid:
        sdk(http).chat.completions.create(
            model="sonnet", messages=[{"role": "user", "content": "count"}],
            response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": SCHEMA}},
        )
    assert invalid.value.status_code == 502 and invalid.value.code == "invalid_structured_output"


def test_bad_requests_are_400_naming_the_field(http: TestClient) -> None:
    for body, param in (
        ({"model": "sonnet"}, "input"),
        ({"model": "sonnet", "input": [{"type": "input_file", "file_id": "f"}]}, "input"),
        ({"model": "sonnet", "input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]}, "input"),
        ({"model": "sonnet", "input": "hi", "tool_choice": "required"}, "tool_choice"),
        ({"model": "sonnet", "input": "hi", "text": {"format": {"type": "yaml"}}}, "text.format"),
        ({"model": "sonnet", "input": "hi", "previous_response_id": "resp_unknown"}, "previous_response_id"),
        ({"model": "sonnet", "input": "hi", "instructions": "a\u0000b"}, "instructions"),
    ):
        reply = http.post("/v1/responses", json=body)
        assert reply.status_code in (400, 404), (body, reply.text)
        assert reply.json()["error"]["param"] == param, reply.text


def test_input_items_become_chat_messages_and_stored_items_get_ids() -> None:
    stored = items.stored_items([
        {"role": "user", "content": "a"},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "r"},
    ])
    assert [i["id"][:3] for i in stored] == ["msg", "fc_", "fco"]
    assert stored[0]["content"] == [{"type": "input_text", "text": "a"}]
    conversation = items.conversation(stored, "be brief")
    assert conversation.system == "be brief"
    assert [m["role"] for m in conversation.history] == ["user", "assistant"]
    assert conversation.history[1]["content"][0]["type"] == "tool_use"
    assert conversation.input[0]["content"][0] == {"type": "tool_result", "tool_use_id": "c1", "content": "r"}
    with pytest.raises(GatewayError) as ends_with_assistant:
        items.conversation(items.stored_items([{"role": "assistant", "content": "x"}]), None)
    assert ends_with_assistant.value.param == "input"


def test_one_builder_gives_the_stream_and_the_response() -> None:
    builder = ResponseBuilder.start(model="m")
    usage = Usage(prompt_tokens=5, completion_tokens=2, total_tokens=7, prompt_tokens_details=PromptTokensDetails(cached_tokens=1))
    events = [*builder.opening(), *builder.feed(Text("he")), *builder.feed(Text("llo")), *builder.feed(End("stop", usage))]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[-1]["type"] == "response.completed" and events[-1]["response"]["output"][0]["content"][0]["text"] == "hello"
    assert builder.response.usage is not None and builder.response.usage.input_tokens_details.cached_tokens == 1
    failed = ResponseBuilder.start(model="m")
    (event,) = failed.feed(Failure(GatewayError(502, "boom", code="agent_error")))
    assert event["type"] == "response.failed" and event["response"]["error"] == {"code": "agent_error", "message": "boom"}
