"""``/v1/messages`` through LiteLLM to an OpenAI-compatible upstream, with the official Anthropic SDK as the client."""

from __future__ import annotations

import json

import anthropic
import httpx

from proxy.proxy_support import CAPPED_TOKENS, UPSTREAM_KEY
from proxy.upstream import ScriptedUpstream

BASH = {
    "name": "Bash",
    "description": "Run a shell command",
    "input_schema": {
        "type": "object",
        "properties": {"command": {"type": "string"}, "description": {"type": "string"}},
        "required": ["command"],
    },
}
CALL = {"command": "ls -la /tmp", "description": "list files"}
ASK_FOR_CALL = f"please TOOL Bash {json.dumps(CALL)}"


def test_plain_message(client: anthropic.Anthropic, upstream: ScriptedUpstream) -> None:
    message = client.messages.create(
        model="scripted", max_tokens=300, system="be brief", messages=[{"role": "user", "content": "hello"}]
    )
    assert message.type == "message" and message.role == "assistant"
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "scripted reply from scripted-model"
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == 7 and message.usage.input_tokens > 0
    assert message.id.startswith("msg_") and message.model == "scripted"  # what Anthropic clients expect
    assert message.usage.cache_creation_input_tokens == 0 and message.usage.cache_read_input_tokens == 0
    [sent] = upstream.chat_requests()
    assert sent.body["model"] == "scripted-model"  # the config's model, not the public name
    assert sent.body["messages"][0] == {"role": "system", "content": "be brief"}
    assert sent.body["messages"][-1]["role"] == "user"
    assert sent.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"


def test_streamed_message_relays_anthropic_events(client: anthropic.Anthropic, upstream: ScriptedUpstream) -> None:
    with client.messages.stream(model="scripted", max_tokens=300, messages=[{"role": "user", "content": "hi"}]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert kinds.count("text") == 4  # the upstream streamed four words
    assert final.content[0].text == "scripted reply from scripted-model"
    assert final.stop_reason == "end_turn"
    assert upstream.chat_requests()[0].body["stream"] is True


def test_stream_is_real_sse(raw: httpx.Client) -> None:
    body = {"model": "scripted", "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with raw.stream("POST", "/v1/messages", json=body) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        text = reply.read().decode()
    events = [line.removeprefix("event: ") for line in text.splitlines() if line.startswith("event: ")]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert {"content_block_start", "content_block_delta", "content_block_stop", "message_delta"} <= set(events)


def test_tool_use(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model="scripted", max_tokens=300, tools=[BASH], messages=[{"role": "user", "content": ASK_FOR_CALL}]
    )
    assert message.stop_reason == "tool_use"
    [block] = [b for b in message.content if b.type == "tool_use"]
    assert block.name == "Bash" and block.input == CALL and block.id


def test_streamed_tool_use(client: anthropic.Anthropic, upstream: ScriptedUpstream) -> None:
    with client.messages.stream(
        model="scripted", max_tokens=300, tools=[BASH], messages=[{"role": "user", "content": ASK_FOR_CALL}]
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    [block] = [b for b in final.content if b.type == "tool_use"]
    assert block.name == "Bash" and block.input == CALL  # reassembled from two partial-JSON deltas
    [offered] = upstream.chat_requests()[0].body["tools"]
    assert offered["function"]["name"] == "Bash"
    assert offered["function"]["parameters"]["required"] == ["command"]


def test_tool_result_round_trip(client: anthropic.Anthropic, upstream: ScriptedUpstream) -> None:
    first = client.messages.create(
        model="scripted", max_tokens=300, tools=[BASH], messages=[{"role": "user", "content": ASK_FOR_CALL}]
    )
    [call] = [b for b in first.content if b.type == "tool_use"]
    history = [
        {"role": "user", "content": ASK_FOR_CALL},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "file-a file-b"}]},
    ]
    second = client.messages.create(model="scripted", max_tokens=300, tools=[BASH], messages=history)
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "tool said: file-a file-b"
    sent = upstream.chat_requests()[-1].body["messages"]
    assert sent[-2]["role"] == "assistant" and sent[-2]["tool_calls"][0]["id"] == call.id
    assert json.loads(sent[-2]["tool_calls"][0]["function"]["arguments"]) == CALL
    assert sent[-1]["role"] == "tool" and sent[-1]["tool_call_id"] == call.id


def test_count_tokens(client: anthropic.Anthropic, upstream: ScriptedUpstream) -> None:
    short = client.messages.count_tokens(model="scripted", messages=[{"role": "user", "content": "hello"}])
    long = client.messages.count_tokens(
        model="scripted", system="a system prompt", tools=[BASH], messages=[{"role": "user", "content": "hello " * 200}]
    )
    assert 0 < short.input_tokens < 20
    assert long.input_tokens > short.input_tokens + 150
    assert upstream.requests == []  # counted locally, offline


def test_max_tokens_is_capped(client: anthropic.Anthropic, upstream: ScriptedUpstream) -> None:
    # Claude Code asks for 128000; the default cap and a per-model cap both apply.
    with client.messages.stream(model="scripted", max_tokens=128000, messages=[{"role": "user", "content": "x"}]) as s:
        s.get_final_message()
    with client.messages.stream(model="capped", max_tokens=128000, messages=[{"role": "user", "content": "x"}]) as s:
        s.get_final_message()
    client.messages.create(model="capped", max_tokens=100, messages=[{"role": "user", "content": "x"}])
    assert [r.body["max_tokens"] for r in upstream.chat_requests()] == [8192, CAPPED_TOKENS, 100]


def test_beta_query_and_beta_client(client: anthropic.Anthropic, raw: httpx.Client) -> None:
    # Claude Code calls /v1/messages?beta=true; so does the SDK's beta namespace.
    message = client.beta.messages.create(
        model="scripted", max_tokens=50, messages=[{"role": "user", "content": "hi"}], betas=["interleaved-thinking-2025-05-14"]
    )
    assert message.content[0].type == "text"
    body = {"model": "scripted", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    assert raw.post("/v1/messages?beta=true", json=body).json()["type"] == "message"
    assert raw.post("/v1/messages/count_tokens?beta=true", json=body).json()["input_tokens"] > 0


def test_claude_code_extras_are_accepted(raw: httpx.Client, upstream: ScriptedUpstream) -> None:
    """The fields Claude Code adds (adaptive thinking, output_config, context_management, system turns, cache_control)."""
    body = {
        "model": "scripted",
        "max_tokens": 128000,
        "stream": True,
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "medium"},
        "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
        "metadata": {"user_id": "user-1"},
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "tools": [{**BASH, "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "system", "content": [{"type": "text", "text": "<system-reminder>note</system-reminder>"}]},
        ],
    }
    with raw.stream("POST", "/v1/messages", json=body, headers={"anthropic-beta": "context-management-2025-06-27"}) as reply:
        assert reply.status_code == 200, reply.read()
        text = reply.read().decode()
    assert "event: message_stop" in text and "event: error" not in text
    assert len(upstream.chat_requests()) == 1


def test_telemetry_batch_is_a_no_op(raw: httpx.Client, upstream: ScriptedUpstream) -> None:
    reply = raw.post("/api/event_logging/batch", json={"events": [{"event_type": "x"}]})
    assert reply.status_code == 200
    assert upstream.requests == []
