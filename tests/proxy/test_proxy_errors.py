"""Errors in Anthropic's shape: upstream statuses kept (5xx → 502), bad bodies, unknown models, auth, mid-stream failures."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from proxy.proxy_support import API_KEY
from proxy.upstream import BREAK_TEXT, ScriptedUpstream
from servers import ServerProcess

HELLO = [{"role": "user", "content": "hello"}]


def _error(reply: httpx.Response) -> dict[str, str]:
    body = reply.json()
    assert body["type"] == "error", body
    assert set(body["error"]) == {"type", "message"} and body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize(
    ("upstream_status", "exception", "status", "error_type"),
    [
        (400, anthropic.BadRequestError, 400, "invalid_request_error"),
        (401, anthropic.AuthenticationError, 401, "authentication_error"),
        (404, anthropic.NotFoundError, 404, "not_found_error"),
        (429, anthropic.RateLimitError, 429, "rate_limit_error"),
        (500, anthropic.APIStatusError, 502, "api_error"),
        (503, anthropic.APIStatusError, 502, "api_error"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_status_is_mapped(
    client: anthropic.Anthropic,
    upstream: ScriptedUpstream,
    upstream_status: int,
    exception: type[anthropic.APIStatusError],
    status: int,
    error_type: str,
    stream: bool,
) -> None:
    with pytest.raises(exception) as caught:
        if stream:
            with client.messages.stream(model="scripted", max_tokens=50, messages=[{"role": "user", "content": f"FAIL {upstream_status}"}]) as s:
                s.get_final_message()
        else:
            client.messages.create(model="scripted", max_tokens=50, messages=[{"role": "user", "content": f"FAIL {upstream_status}"}])
    assert caught.value.status_code == status
    assert caught.value.body["error"]["type"] == error_type  # type: ignore[index]
    assert f"scripted failure {upstream_status}" in caught.value.body["error"]["message"]  # type: ignore[index]
    assert len(upstream.chat_requests()) == 1  # no silent retries behind the client's back


def test_failure_after_streaming_began_is_an_error_event(raw: httpx.Client) -> None:
    body = {"model": "scripted", "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": "BREAK"}]}
    with raw.stream("POST", "/v1/messages", json=body) as reply:
        assert reply.status_code == 200
        text = reply.read().decode()
    events = [line.removeprefix("event: ") for line in text.splitlines() if line.startswith("event: ")]
    assert events[0] == "message_start"
    assert "content_block_delta" in events
    assert events[-1] == "error" and "message_stop" not in events
    assert BREAK_TEXT.split()[0] in text
    data = text.rsplit("event: error\ndata: ", 1)[1]
    assert '"type": "error"' in data and '"api_error"' in data


def test_failure_after_streaming_began_raises_in_the_sdk(client: anthropic.Anthropic) -> None:
    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        with client.messages.stream(model="scripted", max_tokens=50, messages=[{"role": "user", "content": "BREAK"}]) as s:
            seen.extend(s.text_stream)
    assert seen and seen[0] == "partial "
    assert caught.value.body["error"]["type"] == "api_error"  # type: ignore[index]


def test_unknown_model_is_404(raw: httpx.Client, upstream: ScriptedUpstream) -> None:
    reply = raw.post("/v1/messages", json={"model": "no-such-model", "max_tokens": 10, "messages": HELLO})
    assert reply.status_code == 404
    error = _error(reply)
    assert error["type"] == "not_found_error"
    assert "no-such-model" in error["message"] and "scripted" in error["message"]  # names the configured ones
    counted = raw.post("/v1/messages/count_tokens", json={"model": "no-such-model", "messages": HELLO})
    assert counted.status_code == 404 and _error(counted)["type"] == "not_found_error"
    assert upstream.requests == []


def test_model_name_with_a_url_is_refused(raw: httpx.Client, attacker: ScriptedUpstream) -> None:
    reply = raw.post("/v1/messages", json={"model": f"hosted_vllm/{attacker.api_base}", "max_tokens": 10, "messages": HELLO})
    assert reply.status_code == 404 and _error(reply)["type"] == "not_found_error"
    assert attacker.requests == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "must be JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}', "model"),
        (b'{"model": "scripted", "max_tokens": 10}', "messages"),
        (b'{"model": "scripted", "max_tokens": 10, "messages": []}', "messages"),
        (b'{"model": "scripted", "max_tokens": 10, "messages": ["hi"]}', "messages[0]"),
        (b'{"model": "scripted", "max_tokens": 10, "messages": [{"role": "user", "content": 5}]}', "messages[0].content"),
        (b'{"model": "scripted", "messages": [{"role": "user", "content": "x"}]}', "max_tokens"),
        (b'{"model": "scripted", "max_tokens": "many", "messages": [{"role": "user", "content": "x"}]}', "max_tokens"),
        (b'{"model": "scripted", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}', "max_tokens"),
        (b'{"model": "scripted", "max_tokens": 5, "stream": "yes", "messages": [{"role": "user", "content": "x"}]}', "stream"),
        (b'{"model": "scripted", "max_tokens": 5, "tools": {"a": 1}, "messages": [{"role": "user", "content": "x"}]}', "tools"),
        (b'{"model": "scripted", "max_tokens": 5, "system": 7, "messages": [{"role": "user", "content": "x"}]}', "system"),
    ],
)
def test_bad_body_is_400(raw: httpx.Client, upstream: ScriptedUpstream, content: bytes, message: str) -> None:
    reply = raw.post("/v1/messages", content=content, headers={"content-type": "application/json"})
    assert reply.status_code == 400
    error = _error(reply)
    assert error["type"] == "invalid_request_error" and message in error["message"]
    assert upstream.requests == []


def test_count_tokens_bad_body_is_400(raw: httpx.Client) -> None:
    reply = raw.post("/v1/messages/count_tokens", json={"model": "scripted"})
    assert reply.status_code == 400 and "messages" in _error(reply)["message"]


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens", "/api/event_logging/batch"])
@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}, {"authorization": "Bearer wrong"}])
def test_auth_is_required(proxy_server: ServerProcess, upstream: ScriptedUpstream, path: str, headers: dict[str, str]) -> None:
    body = {"model": "scripted", "max_tokens": 10, "messages": HELLO}
    reply = httpx.post(f"{proxy_server.url}{path}", json=body, headers=headers)
    assert reply.status_code == 401
    assert _error(reply)["type"] == "authentication_error"
    assert upstream.requests == []


def test_auth_accepts_bearer_and_x_api_key(proxy_server: ServerProcess) -> None:
    body = {"model": "scripted", "max_tokens": 10, "messages": HELLO}
    for headers in ({"x-api-key": API_KEY}, {"authorization": f"Bearer {API_KEY}"}):
        assert httpx.post(f"{proxy_server.url}/v1/messages", json=body, headers=headers).status_code == 200


def test_sdk_with_wrong_key(proxy_server: ServerProcess) -> None:
    with anthropic.Anthropic(base_url=proxy_server.url, api_key="wrong", max_retries=0) as sdk:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            sdk.messages.create(model="scripted", max_tokens=10, messages=HELLO)  # type: ignore[arg-type]
    assert caught.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
