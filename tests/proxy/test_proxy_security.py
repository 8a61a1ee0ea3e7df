"""A request can never choose where the server sends it, nor which credentials or headers go along."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from proxy.proxy_support import ANTHROPIC_KEY, API_KEY, UPSTREAM_KEY, streamed_text
from proxy.upstream import ANTHROPIC_TEXT, ScriptedUpstream


def hostile_fields(attacker: ScriptedUpstream) -> dict[str, Any]:
    """Every way a body could try to redirect LiteLLM (top-level kwargs, nested params, telemetry hosts)."""
    url = attacker.api_base
    return {
        "api_base": url,
        "base_url": url,
        "api_key": "attacker-key",
        "api_version": "2099-01-01",
        "custom_llm_provider": "openai",
        "extra_headers": {"x-evil": "1"},
        "headers": {"x-evil": "1"},
        "litellm_params": {"api_base": url, "api_key": "attacker-key"},
        "litellm_metadata": {"api_base": url},
        "model_list": [{"model_name": "scripted", "litellm_params": {"model": "openai/x", "api_base": url}}],
        "mock_response": "pwned",
        "aws_bedrock_runtime_endpoint": url,
        "langfuse_host": url,
        "s3_endpoint_url": url,
        "mcp_servers": [{"type": "url", "url": url, "name": "evil"}],
        "container": {"skills": [{"type": "custom", "skill_id": "evil"}]},
        "metadata": {"user_id": "u-1", "api_base": url, "model_group": "x"},
    }


@pytest.mark.parametrize("stream", [False, True])
def test_body_cannot_redirect_the_call(
    raw: httpx.Client, upstream: ScriptedUpstream, attacker: ScriptedUpstream, stream: bool
) -> None:
    body = {
        "model": "scripted",
        "max_tokens": 50,
        "stream": stream,
        "messages": [{"role": "user", "content": "hello"}],
        **hostile_fields(attacker),
    }
    reply = raw.post("/v1/messages", json=body)
    assert reply.status_code == 200, reply.text
    text = streamed_text(reply.text) if stream else reply.json()["content"][0]["text"]
    assert text == "scripted reply from scripted-model"
    assert "pwned" not in reply.text
    assert attacker.requests == []
    [sent] = upstream.requests
    assert sent.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert "x-evil" not in sent.headers
    assert "api_base" not in sent.body and "metadata" not in sent.body


def test_body_cannot_redirect_an_anthropic_upstream(raw: httpx.Client, upstream: ScriptedUpstream, attacker: ScriptedUpstream) -> None:
    body = {"model": "native", "max_tokens": 50, "messages": [{"role": "user", "content": "hello"}], **hostile_fields(attacker)}
    reply = raw.post("/v1/messages", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["content"][0]["text"] == ANTHROPIC_TEXT
    assert attacker.requests == []
    [sent] = upstream.requests
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == ANTHROPIC_KEY
    assert sent.body["metadata"] == {"user_id": "u-1"}  # only the Anthropic field survives
    assert not {"mcp_servers", "container", "api_base"} & set(sent.body)


def test_count_tokens_cannot_be_redirected(raw: httpx.Client, upstream: ScriptedUpstream, attacker: ScriptedUpstream) -> None:
    body = {"model": "scripted", "messages": [{"role": "user", "content": "hello"}], **hostile_fields(attacker)}
    reply = raw.post("/v1/messages/count_tokens", json=body)
    assert reply.status_code == 200 and reply.json()["input_tokens"] > 0
    assert attacker.requests == [] and upstream.requests == []


def test_anthropic_headers_reach_only_anthropic(raw: httpx.Client, upstream: ScriptedUpstream) -> None:
    headers = {"anthropic-beta": "fine-grained-tool-streaming-2025-05-14", "x-custom": "client-only"}
    for model in ("scripted", "native"):
        body = {"model": model, "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
        assert raw.post("/v1/messages?beta=true", json=body, headers=headers).status_code == 200
    openai_side, anthropic_side = upstream.requests
    assert openai_side.path == "/v1/chat/completions"
    assert "anthropic-beta" not in openai_side.headers
    assert "anthropic-version" not in openai_side.headers
    assert "x-custom" not in openai_side.headers
    assert API_KEY not in str(openai_side.headers)  # the proxy's own key never travels upstream
    assert anthropic_side.path == "/v1/messages"
    assert "fine-grained-tool-streaming-2025-05-14" in anthropic_side.headers["anthropic-beta"]
    assert "x-custom" not in anthropic_side.headers
    assert API_KEY not in str(anthropic_side.headers)
