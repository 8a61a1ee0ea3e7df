"""The Responses API and structured output end to end: the official ``openai`` SDK against the
real server and the real Claude Code CLI, whose model is the demo model behind a recorder."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import openai
import pytest

from gateway.recording_model import RecordingModel
from gateway.test_openai_sdk import KEY, client, human_messages, last_request_with, model, server  # noqa: F401  (the module's fixtures: a server behind the recording model)
from servers import ServerProcess

pytestmark = pytest.mark.e2e

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer", "minimum": 1}},
    "required": ["city", "population"],
    "additionalProperties": False,
}


def respond(client: openai.OpenAI, **kwargs: Any) -> tuple[Any, str]:
    """One non-streaming ``responses.create``: ``(response, X-Session-Id)``."""
    raw = client.responses.with_raw_response.create(model=kwargs.pop("model", "sonnet"), **kwargs)
    return raw.parse(), raw.headers["x-session-id"]


def test_create_gives_a_response_object_with_usage(client: openai.OpenAI) -> None:
    response, session_id = respond(client, input="remember that responses have ids", instructions="Be brief.", metadata={"k": "v"})
    assert response.object == "response" and response.id.startswith("resp_") and response.status == "completed"
    assert response.output_text == "Got it, I'll remember: responses have ids."
    assert response.output[0].type == "message" and response.output[0].role == "assistant"
    assert response.model == "sonnet" and response.instructions == "Be brief." and response.metadata == {"k": "v"}
    assert response.previous_response_id is None and response.error is None
    usage = response.usage
    assert usage is not None and usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens and usage.input_tokens_details.cached_tokens >= 0
    assert session_id


def test_streaming_sends_openais_typed_events_in_order(client: openai.OpenAI) -> None:
    events = list(client.responses.create(model="sonnet", input="remember that streams are typed", stream=True))
    types = [e.type for e in events]
    assert types[:4] == ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]
    assert types[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]
    assert set(types[4:-4]) == {"response.output_text.delta"}
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "Got it, I'll remember: streams are typed." == events[-1].response.output_text
    with client.responses.stream(model="sonnet", input="which model are you?") as stream:
        final = stream.get_final_response()
    assert final.output_text.startswith("I'm the offline demo model, answering as")


def test_three_turns_chained_run_in_one_session(client: openai.OpenAI, server: ServerProcess) -> None:
    first, session_id = respond(client, input="remember that the launch code is 4217")
    processes = len(server.cli_processes())
    second, again = respond(client, input="remember that my name is Ada", previous_response_id=first.id)
    third, still = respond(client, input="what did I ask you to remember?", previous_response_id=second.id)
    assert again == still == session_id and third.previous_response_id == second.id
    assert third.output_text == "You asked me to remember: the launch code is 4217; my name is Ada."
    assert len(server.cli_processes()) == processes  # no CLI started for turns two and three
    # A hibernated session is woken to continue.
    with server.client() as http:
        assert http.post(f"/sessions/{session_id}/hibernate").status_code == 200
    fourth, woken = respond(client, input="what did I ask you to remember?", previous_response_id=third.id)
    assert woken == session_id and fourth.output_text == third.output_text


def test_continuing_from_an_older_response_forks(client: openai.OpenAI) -> None:
    first, session_id = respond(client, input="remember that forks start here")
    second, same = respond(client, input="remember that only the original has this", previous_response_id=first.id)
    forked, fork_id = respond(client, input="what did I ask you to remember?", previous_response_id=first.id)
    assert same == session_id and fork_id != session_id
    assert forked.output_text == "You asked me to remember: forks start here."
    original, still = respond(client, input="what did I ask you to remember?", previous_response_id=second.id)
    assert still == session_id
    assert original.output_text == "You asked me to remember: forks start here; only the original has this."
    # The fork continues on its own.
    onward, fork_again = respond(client, input="what did I ask you to remember?", previous_response_id=forked.id)
    assert fork_again == fork_id and onward.output_text == forked.output_text


def test_input_with_earlier_turns_is_seeded_as_separate_messages(client: openai.OpenAI, model: RecordingModel) -> None:
    items: list[Any] = [
        {"role": "user", "content": "remember that seeds grow"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Got it, I'll remember: seeds grow."}]},
        {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{\"q\": \"seeds\"}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "seeds need water"},
        {"role": "user", "content": [{"type": "input_text", "text": "what did I ask you to remember? (seeded)"}]},
    ]
    response, _ = respond(client, input=items)
    assert response.output_text == "You asked me to remember: seeds grow."
    request = last_request_with(model, "what did I ask you to remember? (seeded)")
    assert human_messages(request)[:2] == [("user", "remember that seeds grow"), ("assistant", "Got it, I'll remember: seeds grow.")]
    blocks = [b for m in request["messages"] if isinstance(m["content"], list) for b in m["content"]]
    assert any(b.get("type") == "tool_use" and b.get("name") == "lookup" for b in blocks)
    assert any(b.get("type") == "tool_result" and "seeds need water" in json.dumps(b.get("content")) for b in blocks)


def test_retrieve_input_items_and_delete(client: openai.OpenAI) -> None:
    response, session_id = respond(client, input=[{"role": "user", "content": "remember that stored ones can be read"}])
    again = client.responses.retrieve(response.id)
    assert again.id == response.id and again.output_text == response.output_text and again.status == "completed"
    listed = client.responses.input_items.list(response.id)
    assert [item.role for item in listed.data] == ["user"]
    assert listed.data[0].content[0].text == "remember that stored ones can be read"
    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError) as gone:
        client.responses.retrieve(response.id)
    assert "no stored response" in gone.value.message
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="sonnet", input="hi", previous_response_id=response.id)
    unstored, _ = respond(client, input="remember that this is not kept", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)


def test_json_schema_output_validates_on_both_routes(client: openai.OpenAI) -> None:
    fmt = {"type": "json_schema", "name": "city", "schema": SCHEMA, "strict": True}
    response, _ = respond(client, input="describe Paris", text={"format": fmt})
    jsonschema.validate(json.loads(response.output_text), SCHEMA)
    chained, _ = respond(client, input="describe Rome", text={"format": fmt}, previous_response_id=response.id)
    assert json.loads(chained.output_text)["city"] == "describe Rome"
    completion = client.chat.completions.create(
        model="sonnet", messages=[{"role": "user", "content": "describe Lyon"}],
        response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA, "strict": True}},
    )
    content = completion.choices[0].message.content or ""
    jsonschema.validate(json.loads(content), SCHEMA)
    streamed = client.chat.completions.create(
        model="sonnet", messages=[{"role": "user", "content": "describe Nice"}], stream=True,
        response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA}},
    )
    jsonschema.validate(json.loads("".join(c.choices[0].delta.content or "" for c in streamed if c.choices)), SCHEMA)
    as_json = client.chat.completions.create(
        model="sonnet", messages=[{"role": "user", "content": 'say {"ok": true}'}], response_format={"type": "json_object"}
    )
    assert json.loads(as_json.choices[0].message.content or "") == {"ok": True}


def test_output_that_is_not_valid_is_an_openai_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as prose:
        client.chat.completions.create(
            model="sonnet", messages=[{"role": "user", "content": "hello"}], response_format={"type": "json_object"}
        )
    assert prose.value.status_code == 502 and prose.value.code == "invalid_structured_output"
    with pytest.raises(openai.BadRequestError) as bad:
        client.responses.create(model="sonnet", input="hi", text={"format": {"type": "json_schema", "name": "x", "schema": {"type": 7}}})
    assert bad.value.param == "text.format"


def test_an_agent_that_never_answers_the_schema_is_an_openai_error(client: openai.OpenAI) -> None:
    fmt = {"type": "json_schema", "name": "city", "schema": SCHEMA}
    with pytest.raises(openai.APIStatusError) as prose:
        client.responses.create(model="sonnet", input="answer in prose please", text={"format": fmt})
    assert prose.value.status_code == 502, prose.value.body
    assert prose.value.code == "invalid_structured_output" and "structured output" in prose.value.message
