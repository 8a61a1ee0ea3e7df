"""The proxy's domain functions, called directly: body allowlist, headers, config, error mapping, stream relay, routing."""

from __future__ import annotations

import asyncio

import os
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from claude_agent_server.proxy import (
    InvalidRequest,
    ModelNotFound,
    ModelRouter,
    ProxyConfigError,
    ProxyError,
    from_exception,
    load_config,
    parse_config,
)
from claude_agent_server.proxy.config import configured_cap
from claude_agent_server.proxy.request import (
    MESSAGE_FIELDS,
    clean_count_body,
    clean_messages_body,
    system_text,
    upstream_headers,
)
from claude_agent_server.proxy.runtime import import_litellm
from claude_agent_server.proxy.stream import open_stream
from servers import running_server


@pytest.fixture(scope="module")
def litellm() -> ModuleType:
    return import_litellm()


BASE = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


# --- the body allowlist ---------------------------------------------------------------------------


def test_allowlist_shares_nothing_with_litellm_routing_kwargs(litellm: ModuleType) -> None:
    from litellm.types.utils import all_litellm_params

    # ``metadata`` is LiteLLM's too; it is reduced to {"user_id"} (next test).
    assert MESSAGE_FIELDS & set(all_litellm_params) == {"metadata"}


def test_import_litellm_pins_the_local_cost_map() -> None:
    assert "LITELLM_LOCAL_MODEL_COST_MAP" not in os.environ  # scrubbed by the hermetic fixture
    litellm = import_litellm()
    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert litellm.suppress_debug_info is True


def test_clean_body_keeps_anthropic_fields_only() -> None:
    body = {
        **BASE,
        "stream": True,
        "system": "s",
        "thinking": {"type": "adaptive"},
        "api_base": "http://evil",
        "base_url": "http://evil",
        "api_key": "k",
        "custom_llm_provider": "openai",
        "mock_response": "x",
        "metadata": {"user_id": "u", "api_base": "http://evil"},
        "tools": [{"name": "t", "input_schema": {}, "api_base": "http://evil", "api_key": "k", "type": "advisor_20260301"}],
    }
    clean = clean_messages_body(body)
    assert set(clean) == {"model", "max_tokens", "messages", "stream", "system", "thinking", "metadata", "tools"}
    assert clean["metadata"] == {"user_id": "u"}
    assert clean["tools"] == [{"name": "t", "input_schema": {}, "type": "advisor_20260301"}]
    assert body["tools"][0]["api_base"] == "http://evil"  # the caller's dict is not mutated


def test_metadata_without_user_id_is_dropped() -> None:
    assert "metadata" not in clean_messages_body({**BASE, "metadata": {"model_group": "x"}})
    assert "metadata" not in clean_messages_body({**BASE, "metadata": "nope"})


@pytest.mark.parametrize(
    "body",
    [None, [], {"max_tokens": 1, "messages": BASE["messages"]}, {**BASE, "max_tokens": True}, {**BASE, "messages": [{"content": "x"}]}],
)
def test_clean_body_rejects(body: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        clean_messages_body(body)
    assert caught.value.status_code == 400


def test_count_body_needs_no_max_tokens() -> None:
    assert clean_count_body({"model": "m", "messages": BASE["messages"], "api_base": "x"}) == {
        "model": "m",
        "messages": BASE["messages"],
    }


def test_system_text() -> None:
    assert system_text(None) is None and system_text("s") == "s"
    assert system_text([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]) == "a\n\nb"


def test_upstream_headers() -> None:
    headers = {"Anthropic-Beta": "b1,b2", "x-api-key": "server-key", "authorization": "Bearer server-key", "anthropic-version": "2023-06-01"}
    assert upstream_headers(headers, "anthropic") == {"anthropic-beta": "b1,b2"}
    for provider in ("openai", "hosted_vllm", "bedrock", "azure"):
        assert upstream_headers(headers, provider) == {}


# --- config -------------------------------------------------------------------------------------


def test_parse_config_and_caps() -> None:
    config = parse_config(
        {
            "model_list": [
                {"model_name": "a", "litellm_params": {"model": "openai/x", "max_tokens": 100}},
                {"model_name": "a", "litellm_params": {"model": "openai/y"}, "model_info": {"max_output_tokens": 200}},
                {"model_name": "b", "litellm_params": {"model": "openai/z"}},
            ],
            "router_settings": {"routing_strategy": "simple-shuffle"},
            "litellm_settings": {"drop_params": True},
        }
    )
    assert config.model_names == ["a", "b"]
    assert [configured_cap(e) for e in config.model_list] == [100, 200, None]
    assert config.router_settings == {"routing_strategy": "simple-shuffle"}
    assert parse_config(None).model_list == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1], "expected a mapping"),
        ({"model_list": {"a": 1}}, "model_list must be a list"),
        ({"model_list": [{"litellm_params": {"model": "x"}}]}, "model_name"),
        ({"model_list": [{"model_name": "a"}]}, "litellm_params.model"),
        ({"model_list": [{"model_name": "a", "litellm_params": {"model": ""}}]}, "litellm_params.model"),
        ({"model_list": [{"model_name": "a", "litellm_params": {"model": "x", "max_tokens": -1}}]}, "max_tokens"),
        ({"model_list": [{"model_name": "a", "litellm_params": {"model": "x"}, "model_info": []}]}, "model_info"),
        ({"router_settings": [1]}, "router_settings"),
    ],
)
def test_parse_config_rejects(data: Any, message: str) -> None:
    with pytest.raises(ProxyConfigError, match=message):
        parse_config(data)


def test_load_config_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ProxyConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_list: [\n")
    with pytest.raises(ProxyConfigError, match=f"{bad}.*not valid YAML"):
        load_config(bad)


def test_server_refuses_to_start_with_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "litellm.yaml"
    config.write_text("model_list:\n  - model_name: x\n")
    with pytest.raises(RuntimeError) as caught:
        with running_server(tmp_path, "--litellm-config", str(config)):
            pass
    assert "needs litellm_params.model" in str(caught.value)
    assert "exited with 2" in str(caught.value) and "Traceback" not in str(caught.value)


# --- error mapping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "error_type"),
    [
        ("BadRequestError", 400, "invalid_request_error"),
        ("AuthenticationError", 401, "authentication_error"),
        ("PermissionDeniedError", 403, "permission_error"),
        ("NotFoundError", 404, "not_found_error"),
        ("UnprocessableEntityError", 400, "invalid_request_error"),
        ("RateLimitError", 429, "rate_limit_error"),
        ("Timeout", 504, "timeout_error"),
        ("InternalServerError", 502, "api_error"),
        ("ServiceUnavailableError", 502, "api_error"),
        ("APIConnectionError", 502, "api_error"),
    ],
)
def test_litellm_exceptions_map_to_anthropic_errors(litellm: ModuleType, name: str, status: int, error_type: str) -> None:
    cls = getattr(litellm.exceptions, name)
    kwargs: dict[str, Any] = {"message": "upstream said no", "llm_provider": "openai", "model": "gpt-x"}
    if name in ("PermissionDeniedError", "UnprocessableEntityError"):
        import httpx

        kwargs["response"] = httpx.Response(403 if name == "PermissionDeniedError" else 422, request=httpx.Request("POST", "http://x"))
    error = from_exception(cls(**kwargs))
    assert (error.status_code, error.error_type) == (status, error_type)
    assert "upstream said no" in error.message
    assert error.body() == {"type": "error", "error": {"type": error_type, "message": error.message}}


def test_unexpected_exception_is_502_without_traceback() -> None:
    error = from_exception(KeyError("choices"))
    assert (error.status_code, error.error_type) == (502, "api_error")
    assert "KeyError" in error.message and "Traceback" not in error.message
    assert error.sse_frame().startswith(b"event: error\ndata: {")


def test_error_messages_name_the_server_key_and_hide_object_reprs() -> None:
    leaky = from_exception(OSError("Cannot connect to host x ssl:<ssl.SSLContext object at 0x7f3a2b1c9d80> [refused]"))
    assert "0x" not in leaky.message and "ssl:<ssl.SSLContext>" in leaky.message
    missing = from_exception(ValueError("litellm.AuthenticationError: Missing Anthropic API Key - A call is being made to anthropic"))
    assert "this server has no API key for the model's provider" in missing.message


# --- stream relay -------------------------------------------------------------------------------


class FakeStream:
    """An async iterator of SSE chunks that can fail at a given position and records ``aclose``."""

    def __init__(self, chunks: list[bytes | str], fail_at: int | None = None, error: Exception | None = None) -> None:
        self.chunks, self.fail_at, self.error, self.closed, self.position = chunks, fail_at, error, False, 0

    def __aiter__(self) -> AsyncIterator[bytes | str]:
        return self

    async def __anext__(self) -> bytes | str:
        if self.position == self.fail_at:
            raise self.error or RuntimeError("boom")
        if self.position >= len(self.chunks):
            raise StopAsyncIteration
        self.position += 1
        return self.chunks[self.position - 1]

    async def aclose(self) -> None:
        self.closed = True


async def test_stream_failing_before_first_event_raises(litellm: ModuleType) -> None:
    stream = FakeStream([], fail_at=0, error=litellm.RateLimitError(message="slow down", llm_provider="x", model="y"))
    with pytest.raises(ProxyError) as caught:
        await open_stream(stream)
    assert caught.value.status_code == 429 and stream.closed


async def test_stream_failing_later_ends_with_an_error_frame() -> None:
    stream = FakeStream([b"event: message_start\ndata: {}\n\n", "event: ping\ndata: {}\n\n"], fail_at=2)
    sent = b"".join([chunk async for chunk in await open_stream(stream)])
    events = b"event: message_start\ndata: {}\n\nevent: ping\ndata: {}\n\n"
    assert sent.startswith(events + b"event: error\n") and b"api_error" in sent and sent.endswith(b"\n\n")
    assert stream.closed


async def test_stream_relays_everything_and_closes() -> None:
    stream = FakeStream([b"a", b"b", b"c"])
    assert b"".join([chunk async for chunk in await open_stream(stream)]) == b"abc"
    assert stream.closed


class GatedStream(FakeStream):
    """Hands over its chunks at once, except that it waits for ``gate`` before the chunk at ``gated``."""

    def __init__(self, chunks: list[bytes | str], gated: int) -> None:
        super().__init__(chunks)
        self.gate, self.gated = asyncio.Event(), gated

    async def __anext__(self) -> bytes | str:
        if self.position == self.gated:
            await self.gate.wait()
        return await super().__anext__()


async def test_stream_sends_what_arrived_together_in_one_write_and_never_holds_it_for_more() -> None:
    stream = GatedStream([b"event: a\n\n", b"event: b\n\n", b"event: c\n\n", b"event: d\n\n"], gated=3)
    relay = await open_stream(stream)
    first = await asyncio.wait_for(anext(relay), 5)  # sent while the upstream waits: nothing held back for d
    assert first == b"event: a\n\nevent: b\n\nevent: c\n\n"
    stream.gate.set()
    assert [chunk async for chunk in relay] == [b"event: d\n\n"] and stream.closed


async def test_stream_closes_the_upstream_when_the_client_leaves() -> None:
    stream = GatedStream([b"event: a\n\n", b"event: b\n\n"], gated=1)
    relay = await open_stream(stream)
    assert await anext(relay) == b"event: a\n\n"
    await relay.aclose()  # the client left while the upstream waits
    assert stream.closed


# --- routing ------------------------------------------------------------------------------------


async def test_router_targets_and_caps(litellm: ModuleType) -> None:
    config = parse_config(
        {
            "model_list": [
                {"model_name": "mine", "litellm_params": {"model": "hosted_vllm/m", "api_base": "http://127.0.0.1:9/v1", "max_tokens": 1234}},
                {"model_name": "plain", "litellm_params": {"model": "hosted_vllm/p", "api_base": "http://127.0.0.1:9/v1"}},
            ]
        }
    )
    router = ModelRouter(litellm, config, default_max_tokens=777, allow_unlisted=True)
    mine = await router.resolve("mine")
    assert mine.params["model"] == "hosted_vllm/m" and mine.params["api_base"] == "http://127.0.0.1:9/v1"
    assert "max_tokens" not in mine.params and mine.max_tokens == 1234 and mine.provider == "hosted_vllm"
    assert isinstance(mine.params["litellm_router"], litellm.Router)
    assert (await router.resolve("plain")).max_tokens == 777
    known = await router.resolve("openai/gpt-4o")  # unlisted: LiteLLM's own model table gives the cap
    assert known.params == {"model": "openai/gpt-4o"} and known.provider == "openai"
    assert known.max_tokens == litellm.get_model_info("openai/gpt-4o")["max_output_tokens"]
    with pytest.raises(ModelNotFound, match="mine, plain"):
        await router.resolve("their-model")



@pytest.mark.parametrize("model", ["ollama/llama3", "ollama_chat/llama3", "hosted_vllm/m", "lm_studio/m", "llamafile/m", "azure/gpt-4o"])
async def test_an_unlisted_model_never_chooses_a_local_or_configurable_address(litellm: ModuleType, model: str) -> None:
    router = ModelRouter(litellm, None, default_max_tokens=10, allow_unlisted=True)
    with pytest.raises(ModelNotFound, match="hosted providers"):
        await router.resolve(model)


async def test_router_without_unlisted_models(litellm: ModuleType) -> None:
    router = ModelRouter(litellm, None, default_max_tokens=10, allow_unlisted=False)
    with pytest.raises(ModelNotFound, match="not in the LiteLLM config"):
        await router.resolve("openai/gpt-4o")


def test_router_rejects_a_config_litellm_refuses(litellm: ModuleType) -> None:
    config = parse_config({"model_list": [{"model_name": "a", "litellm_params": {"model": "openai/x"}}], "router_settings": {"no_such_setting": 1}})
    with pytest.raises(ProxyConfigError, match="LiteLLM rejected"):
        ModelRouter(litellm, config, default_max_tokens=10, allow_unlisted=True)


async def test_without_a_config_the_error_says_how_to_configure(litellm: ModuleType) -> None:
    router = ModelRouter(litellm, None, default_max_tokens=10, allow_unlisted=False)
    with pytest.raises(ModelNotFound, match="--litellm-config FILE") as caught:
        await router.resolve("claude-sonnet-4-5")
    assert "claude-sonnet-4-5" in str(caught.value) and "0x" not in str(caught.value)
