"""Unit tests: normalising OpenAI messages, splitting history from input, the hash chain, transcripts, the event mapper."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from claude_agent_server.gateway.errors import GatewayError
from claude_agent_server.gateway.history import chain, history_key, key_digest, normalise, reply_message, scope, split
from claude_agent_server.gateway.mapping import End, Envelope, Failure, Text, TurnMapper, chunks, completion
from claude_agent_server.gateway.seed import annotated_prompt, transcript_entries
from claude_agent_server.sessions import Event

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nnot-really-a-png").decode()
SCOPE = scope(key_digest("key"), "sonnet", "be brief", "chat")


def test_string_and_text_parts_normalise_alike_and_cache_control_is_ignored() -> None:
    plain = normalise({"role": "user", "content": "hello"})
    parts = normalise({"role": "user", "content": [{"type": "text", "text": "hello", "cache_control": {"type": "ephemeral"}}]})
    assert plain == parts == {"role": "user", "content": [{"type": "text", "text": "hello"}]}
    assert chain(SCOPE, [plain]) == chain(SCOPE, [parts])


def test_assistant_tool_calls_and_tool_results_become_anthropic_blocks() -> None:
    assistant = normalise({
        "role": "assistant", "content": None,
        "tool_calls": [{"id": "call.1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": 1}'}}],
    })
    assert assistant == {"role": "assistant", "content": [{"type": "tool_use", "id": "call_1", "name": "lookup", "input": {"q": 1}}]}
    tool = normalise({"role": "tool", "tool_call_id": "call.1", "content": [{"type": "text", "text": "42"}]})
    assert tool == {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "42"}]}
    with pytest.raises(GatewayError) as bad:
        normalise({"role": "assistant", "tool_calls": [{"id": "x", "function": {"name": "f", "arguments": "[1]"}}]})
    assert bad.value.status == 400


def test_images_must_be_base64_data_urls() -> None:
    message = normalise({"role": "user", "content": [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]})
    assert message["content"] == [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}]
    for url in ("https://example.com/cat.png", "data:text/plain;base64,aGk=", "data:image/png;base64,***"):
        with pytest.raises(GatewayError) as bad:
            normalise({"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]})
        assert bad.value.status == 400 and bad.value.param == "messages"


def test_split_takes_system_out_and_history_up_to_the_last_assistant_message() -> None:
    conversation = split([
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "developer", "content": [{"type": "text", "text": "and kind"}]},
        {"role": "user", "content": "three"},
    ])
    assert conversation.system == "be brief\n\nand kind"
    assert [m["role"] for m in conversation.history] == ["user", "assistant"]
    assert conversation.input_text() == "three"
    assert split([{"role": "user", "content": "hi"}]).history == ()
    for messages in ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], [{"role": "user", "content": ""}]):
        with pytest.raises(GatewayError):
            split(messages)


def test_hash_chain_depends_on_every_message_and_the_scope() -> None:
    history = [normalise({"role": "user", "content": "a"}), normalise({"role": "assistant", "content": "b"})]
    key = history_key(SCOPE, history)
    assert key == chain(SCOPE, history)[-1] and history_key(SCOPE, []) is None
    assert history_key(SCOPE, [history[0], normalise({"role": "assistant", "content": "c"})]) != key  # last message differs
    assert history_key(SCOPE, [normalise({"role": "user", "content": "x"}), history[1]]) != key  # first message differs
    for other in (
        scope(key_digest("other key"), "sonnet", "be brief", "chat"),
        scope(key_digest("key"), "opus", "be brief", "chat"),
        scope(key_digest("key"), "sonnet", "be kind", "chat"),
        scope(key_digest("key"), "sonnet", None, "chat"),
        scope(key_digest("key"), "sonnet", "be brief", "agent"),
    ):
        assert history_key(other, history) != key
    assert "key" not in key_digest("key") and len(key_digest("key")) == 64
    # The reply as returned hashes like the caller's echo of it.
    assert reply_message("b") == history[1] and reply_message("") == normalise({"role": "assistant", "content": None})


def test_transcript_entries_chain_and_skip_empty_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    messages = [
        normalise({"role": "user", "content": "hi"}),
        normalise({"role": "assistant", "content": ""}),
        normalise({"role": "assistant", "content": "hello"}),
    ]
    entries = transcript_entries("0b6f0a36-2f6e-4d44-8a3f-9fb5f3b4b0a1", tmp_path, messages)
    assert [e["type"] for e in entries] == ["user", "assistant"]
    assert entries[0]["parentUuid"] is None and entries[1]["parentUuid"] == entries[0]["uuid"]
    assert entries[1]["message"] == {"role": "assistant", "content": [{"type": "text", "text": "hello"}]}
    assert all(e["cwd"] == str(tmp_path) and e["isSidechain"] is False for e in entries)
    prompt = annotated_prompt(messages, "and now?")
    assert prompt.startswith("[Earlier conversation") and "[user]\nhi" in prompt and prompt.endswith("and now?")


def _event(type: str, **data: object) -> Event:
    return Event(1, type, "s", dict(data))  # type: ignore[arg-type]


def test_mapper_streams_text_separates_messages_and_maps_usage() -> None:
    mapper = TurnMapper()
    pieces = []
    for event in (
        _event("turn_started", message="hi"),
        _event("text_delta", text="Let me ", parent_tool_use_id=None),
        _event("text_delta", text="check.", parent_tool_use_id=None),
        _event("assistant_message", content=[{"type": "text", "content": "Let me check."}], parent_tool_use_id=None),
        _event("assistant_message", content=[{"type": "tool_use", "tool_use_id": "t", "tool_name": "Bash", "tool_input": {}}], parent_tool_use_id=None),
        _event("tool_result", tool_use_id="t", content="ok", is_error=False, parent_tool_use_id=None),
        _event("text_delta", text="sub-agent text", parent_tool_use_id="t"),
        _event("assistant_message", content=[{"type": "text", "content": "Done."}], parent_tool_use_id=None),  # never streamed
        _event("result", stop_reason="end_turn", is_error=False, turn_cost_usd=0.25,
               usage={"input_tokens": 10, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 100, "output_tokens": 7}),
    ):
        pieces += mapper.feed(event)
    assert [p.text for p in pieces if isinstance(p, Text)] == ["Let me ", "check.", "\n\nDone."]
    assert mapper.reply == "Let me check.\n\nDone."
    end = pieces[-1]
    assert isinstance(end, End) and end.finish_reason == "stop"
    assert end.usage.prompt_tokens == 115 and end.usage.completion_tokens == 7 and end.usage.total_tokens == 122
    assert end.usage.prompt_tokens_details.cached_tokens == 100 and end.usage.cost_usd == 0.25
    envelope = Envelope("sonnet")
    reply = completion(envelope, pieces)
    assert reply.choices[0].message.content == mapper.reply and reply.usage == end.usage
    streamed = [c for p in pieces for c in chunks(envelope, p, include_usage=True)]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in streamed if c["choices"]) == mapper.reply
    assert streamed[-1]["choices"] == [] and streamed[-1]["usage"]["prompt_tokens"] == 115
    assert streamed[-2]["choices"][0]["finish_reason"] == "stop"


def test_mapper_turns_failures_into_errors() -> None:
    failed = TurnMapper().feed(_event("error", message="the agent process died", reason="process_exited"))
    assert isinstance(failed[0], Failure) and failed[0].error.status == 502
    with pytest.raises(GatewayError):
        completion(Envelope("m"), failed)
    assert json.dumps(chunks(Envelope("m"), failed[0], False)[0]).startswith('{"error"')
    length = TurnMapper().feed(_event("result", stop_reason="max_tokens", is_error=False, usage={}))
    assert isinstance(length[0], End) and length[0].finish_reason == "length"


def test_a_client_tools_conversation_resent_as_sdk_dumps_keeps_its_chain() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    other = {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": ""}}
    sent = [
        {"role": "developer", "content": "Use the tools."},
        {"role": "user", "content": [{"type": "text", "text": "weather"}, {"type": "text", "text": "in Paris?"}]},
        {"role": "assistant", "content": None, "tool_calls": [call, other]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "14:05"}]},
        {"role": "assistant", "content": "Sunny at 14:05."},
        {"role": "user", "content": "thanks"},
    ]
    # The same conversation as an app re-sends it: names, SDK dump fields, unknown extras.
    resent = [
        {**sent[0], "name": "ops"},
        {**sent[1], "name": "ada", "x_client_id": 7},
        {**sent[2], "refusal": None, "annotations": [], "audio": None, "function_call": None},
        *sent[3:5],
        {**sent[5], "refusal": None, "annotations": []},
        {**sent[6], "name": "ada"},
    ]
    first, again = split(sent), split(resent)
    assert first == again and first.system == "Use the tools."
    results = first.history[2]  # the two tool messages are one user message, as the Anthropic API takes them
    assert results == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"},
        {"type": "tool_result", "tool_use_id": "call_2", "content": "14:05"},
    ]}
    assert [m["role"] for m in first.history] == ["user", "assistant", "user", "assistant"]
    assert history_key(SCOPE, first.history) == history_key(SCOPE, again.history)
    # Tool results as the new input (the history ends with the calls): one user message.
    pending = split(sent[:5])
    assert pending.history[-1]["content"][0]["type"] == "tool_use" and [b["tool_use_id"] for b in pending.input_blocks()] == ["call_1", "call_2"]


def test_a_refusal_is_what_the_assistant_said() -> None:
    refused = normalise({"role": "assistant", "content": None, "refusal": "I can't help with that."})
    assert refused == {"role": "assistant", "content": [{"type": "text", "text": "I can't help with that."}]}
    assert normalise({"role": "assistant", "content": "Sure.", "refusal": None}) == reply_message("Sure.")
