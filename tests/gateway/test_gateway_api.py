"""The gateway in-process over scripted SDK clients: the options its profiles give a
session, 429 at the live cap, a failure after streaming began, bad input."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from fastapi.testclient import TestClient

from claude_agent_server.app import create_app
from claude_agent_server.gateway import pool, routes
from claude_agent_server.gateway.models import Catalog
from claude_agent_server.gateway.protocol import ChatCompletionRequest
from claude_agent_server.gateway.seed import CONTINUE
from claude_agent_server.settings import Settings
from claude_agent_server.store import SqlTranscriptStore, StoreError, default_database_url
from claude_agent_server.store.engine import make_engine
from fakes import FakeClients, Hold, result, text

KEY = "in-process-key"


@pytest.fixture
def clients() -> FakeClients:
    return FakeClients()


def stored_transcript(tmp_path: Path, session_id: str) -> list[dict[str, Any]]:
    """The entries of a session's transcript in the registry of :func:`make_app`'s server, read through another engine."""

    async def read() -> list[dict[str, Any]]:
        engine = make_engine(default_database_url(tmp_path / "data"))
        try:
            store = SqlTranscriptStore(engine)
            [place] = await store.locate(session_id)
            return await store.load({"project_key": place.project_key, "session_id": session_id}) or []
        finally:
            await engine.dispose()

    return asyncio.run(read())


def make_app(tmp_path: Path, clients: FakeClients, **settings: object) -> TestClient:
    settings.setdefault("warm_sessions", 0)
    app = create_app(Settings(workspace=tmp_path, data_dir=tmp_path / "data", api_key=KEY, **settings), client_factory=clients)  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {KEY}"})


@pytest.fixture
def http(tmp_path: Path, clients: FakeClients) -> Iterator[TestClient]:
    with make_app(tmp_path, clients) as client:
        yield client


def sdk(http: TestClient) -> openai.OpenAI:
    return openai.OpenAI(base_url="http://testserver/v1", api_key=KEY, http_client=http, max_retries=0)


def test_profiles_shape_the_session_options(tmp_path: Path, clients: FakeClients) -> None:
    with make_app(tmp_path, clients, gateway_allowed_tools=["Read"], gateway_permission_mode="acceptEdits") as http:
        client = sdk(http)
        client.chat.completions.create(model="sonnet", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])
        chat = clients.last.options
        assert chat.tools == [] and chat.setting_sources == [] and chat.system_prompt == "Be brief." and chat.model == "sonnet"
        assert Path(chat.cwd).is_relative_to(tmp_path / "data" / "scratch") and not any(Path(chat.cwd).iterdir())
        client.chat.completions.create(model="opus+agent", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])
        agent = clients.last.options
        assert agent.tools is None and agent.allowed_tools == ["Read"] and agent.permission_mode == "acceptEdits"
        assert agent.cwd == str(tmp_path) and agent.system_prompt == {"type": "preset", "preset": "claude_code", "append": "Be brief."}
        sessions = http.get("/sessions").json()["sessions"]
        assert {s["origin"] for s in sessions} == {"gateway"} and len(sessions) == 2


def test_no_live_slot_is_429_with_retry_after(tmp_path: Path, clients: FakeClients) -> None:
    with make_app(tmp_path, clients, max_live_sessions=1) as http:
        session = http.post("/sessions", json={}).json()["session_id"]
        hold = Hold()
        clients.enqueue(*text("busy"), hold, result("busy"))
        with http.stream("POST", f"/sessions/{session}/messages", json={"message": "work", "stream": True}) as busy:
            assert busy.status_code == 200
            with pytest.raises(openai.RateLimitError) as limited:
                sdk(http).chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "hi"}])
            assert limited.value.response.headers["retry-after"] == "5"
            assert limited.value.body["type"] == "rate_limit_error"  # type: ignore[index]
            http.post(f"/sessions/{session}/interrupt")


def test_a_failure_after_streaming_began_is_an_error_chunk(http: TestClient, clients: FakeClients) -> None:
    clients.enqueue(*text("partial answer"), result("the model endpoint failed", is_error=True))
    stream = sdk(http).chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "hi"}], stream=True)
    seen = []
    with pytest.raises(openai.APIError) as failed:
        for chunk in stream:
            seen.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert seen == ["partial answer"] and "the model endpoint failed" in str(failed.value)
    # The failed turn's session is filed under nothing: the same call again gets a new session.
    clients.enqueue(*text("fine"), result("fine"))
    again = sdk(http).chat.completions.with_raw_response.create(model="sonnet", messages=[{"role": "user", "content": "hi"}])
    assert again.parse().choices[0].message.content == "fine"


def test_bad_requests_are_400_in_openai_shape(http: TestClient) -> None:
    for body in (
        {"model": "sonnet"},
        {"model": "sonnet", "messages": []},
        {"model": "sonnet", "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]},
        {"model": "sonnet", "messages": [{"role": "wizard", "content": "a"}]},
        {"model": "sonnet", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]},
        {"model": "sonnet", "messages": [{"role": "user", "content": "a"}], "n": 2},
    ):
        reply = http.post("/v1/chat/completions", json=body)
        assert reply.status_code == 400, (body, reply.text)
        assert set(reply.json()["error"]) == {"message", "type", "param", "code"}
    unknown = http.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "a"}]}, headers={"X-Session-Id": "../etc"})
    assert unknown.status_code == 404  # the model is checked first
    bad_id = http.post("/v1/chat/completions", json={"model": "sonnet", "messages": [{"role": "user", "content": "a"}]}, headers={"X-Session-Id": "../etc"})
    assert bad_id.status_code == 400 and bad_id.json()["error"]["type"] == "invalid_request_error"
    gone = http.post("/v1/chat/completions", json={"model": "sonnet", "messages": [{"role": "user", "content": "a"}]},
                     headers={"X-Session-Id": "0b6f0a36-2f6e-4d44-8a3f-9fb5f3b4b0a1"})
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "session_not_found"
    assert http.get("/v1/models", headers={"Authorization": "Bearer nope"}).json()["error"]["code"] == "invalid_api_key"


def test_demo_serves_any_model_name(tmp_path: Path, clients: FakeClients) -> None:
    with make_app(tmp_path, clients, demo=True) as http:
        reply = sdk(http).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert reply.model == "gpt-4o-mini" and clients.last.options.model == "gpt-4o-mini"


def test_an_unseen_history_resumes_a_written_transcript(http: TestClient, clients: FakeClients, hermetic: Path, tmp_path: Path) -> None:
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": "second"},
    ]
    raw = sdk(http).chat.completions.with_raw_response.create(model="sonnet", messages=messages)  # type: ignore[arg-type]
    session_id = raw.headers["x-session-id"]
    assert clients.last.options.resume == session_id and clients.last.queries == ["second"]
    assert not list(hermetic.glob(f".claude/projects/*/{session_id}.jsonl"))  # seeded into the store, not on disk
    entries = stored_transcript(tmp_path, session_id)
    assert [(e["type"], e["message"]["content"][0]["text"]) for e in entries] == [("user", "first"), ("assistant", "reply")]


def test_when_native_seeding_fails_the_history_goes_in_the_prompt(http: TestClient, clients: FakeClients, monkeypatch: pytest.MonkeyPatch) -> None:
    async def unwritable(*args: object) -> None:
        raise StoreError("the transcript could not be written: disk I/O error")

    monkeypatch.setattr(pool, "seed_transcript", unwritable)
    messages = [{"role": "user", "content": "first"}, {"role": "assistant", "content": "reply"}, {"role": "user", "content": "second"}]
    sdk(http).chat.completions.create(model="sonnet", messages=messages)  # type: ignore[arg-type]
    [prompt] = clients.last.queries
    assert clients.last.options.resume is None
    assert prompt.startswith("[Earlier conversation") and "[user]\nfirst" in prompt and "[assistant]\nreply" in prompt and prompt.endswith("second")


def test_litellm_models_are_served_through_the_proxy(tmp_path: Path, clients: FakeClients) -> None:
    config = tmp_path / "litellm.yaml"
    config.write_text(
        "model_list:\n  - model_name: local-llama\n    litellm_params: {model: hosted_vllm/llama, api_base: 'http://127.0.0.1:9/v1'}\n"
        "  - model_name: openai/gpt-4o\n    litellm_params: {model: openai/gpt-4o, api_base: 'http://127.0.0.1:9/v1'}\n"
    )
    with make_app(tmp_path, clients, litellm_config=config) as http:
        client = sdk(http)
        ids = [m.id for m in client.models.list()]
        assert "local-llama" in ids and "local-llama+agent" in ids and "sonnet" in ids
        client.chat.completions.create(model="local-llama", messages=[{"role": "user", "content": "hi"}])
        options = clients.last.options
        assert options.model == "local-llama" and options.env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:8000"  # the configured address (learned once, not per request)
        assert options.env["ANTHROPIC_API_KEY"] != KEY  # the session's own model key, never the server's
        assert client.models.retrieve("openai/gpt-4o").id == "openai/gpt-4o"  # names with slashes, as LiteLLM gives them
        assert client.models.retrieve("openai/gpt-4o+agent").id == "openai/gpt-4o+agent"
        with pytest.raises(openai.NotFoundError) as unknown:
            client.models.retrieve("openai/gpt-5")
        assert unknown.value.code == "model_not_found"
        client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}])
        assert clients.last.options.model == "openai/gpt-4o"


def test_what_real_apps_send_is_served_or_refused_clearly(http: TestClient, clients: FakeClients) -> None:
    client = sdk(http)
    hi = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.BadRequestError) as several:
        client.chat.completions.create(model="sonnet", messages=hi, n=2)  # type: ignore[arg-type]
    assert several.value.param == "n" and "n=1" in several.value.message
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}]
    for forced in ("required", {"type": "function", "function": {"name": "get_weather"}}):
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(model="sonnet", messages=hi, tools=tools, tool_choice=forced)  # type: ignore[arg-type]
        assert refused.value.param == "tool_choice" and "never returns tool_calls" in refused.value.message
    clients.enqueue(*text("fine"), result("fine"))
    served = client.chat.completions.create(
        model="sonnet", messages=hi, tools=tools, tool_choice="auto", stop=["\n\n"], response_format={"type": "text"},  # type: ignore[arg-type]
        max_completion_tokens=50, max_tokens=50, user="ada", temperature=0.2, seed=7, extra_body={"some_future_field": {"x": 1}},
    )
    assert served.choices[0].message.content == "fine" and served.choices[0].message.tool_calls is None


def test_stream_chunks_carry_finish_reason_and_no_usage_unless_asked(http: TestClient, clients: FakeClients) -> None:
    clients.enqueue(*text("ab"), result("ab"))
    with http.stream("POST", "/v1/chat/completions", json={"model": "sonnet", "messages": [{"role": "user", "content": "hi"}], "stream": True}) as stream:
        frames = [line[5:].strip() for line in stream.iter_lines() if line.startswith("data:")]
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    assert all(len(c["choices"]) == 1 and "finish_reason" in c["choices"][0] and "usage" not in c for c in chunks)
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, "stop"]


def test_a_busy_named_session_is_409_naming_it(http: TestClient, clients: FakeClients) -> None:
    clients.enqueue(*text("first"), result("first"))
    session = sdk(http).chat.completions.with_raw_response.create(model="sonnet", messages=[{"role": "user", "content": "hi"}]).headers["x-session-id"]
    clients.enqueue(*text("busy"), Hold(), result("busy"))
    with http.stream("POST", f"/sessions/{session}/messages", json={"message": "work", "stream": True}) as busy:
        assert busy.status_code == 200
        with pytest.raises(openai.ConflictError) as conflict:
            sdk(http).chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "more"}], extra_headers={"X-Session-Id": session})
        assert conflict.value.response.headers["x-session-id"] == session and conflict.value.code == "session_busy"
        http.post(f"/sessions/{session}/interrupt")


def test_tool_results_as_input_go_in_the_transcript_or_as_text(http: TestClient, clients: FakeClients, tmp_path: Path) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    raw = sdk(http).chat.completions.with_raw_response.create(model="sonnet", messages=messages)  # type: ignore[arg-type]
    session_id = raw.headers["x-session-id"]
    assert clients.last.queries == [CONTINUE]  # the results answer the open call in the transcript
    entries = [entry["message"] for entry in stored_transcript(tmp_path, session_id)]
    assert entries[-2]["content"] == [{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {}}]
    assert entries[-1] == {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"}]}
    # A named session holds no open call: tool results reach it as bracketed text, not dropped.
    sdk(http).chat.completions.create(model="sonnet", messages=[{"role": "tool", "tool_call_id": "call_9", "content": "42"}], extra_headers={"X-Session-Id": session_id})
    assert clients.last.queries[-1] == "[tool result for call_9: 42]"



def test_a_conversation_continued_as_its_abandoned_turn_ends_finds_its_session(http: TestClient, clients: FakeClients, monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller went away mid-stream and continues the moment the session is idle again,
    while the gateway is still filing it under the reply (slowed down here): same session."""
    history_key = pool.history_key

    def slow_history_key(*args: Any) -> str | None:
        time.sleep(0.5)
        return history_key(*args)

    monkeypatch.setattr(pool, "history_key", slow_history_key)
    state = http.app.state.server  # type: ignore[attr-defined]
    asked: list[dict[str, Any]] = [{"role": "user", "content": "hi"}]
    clients.enqueue(*text("first words"), result("first words"))

    def call(messages: list[dict[str, Any]]) -> pool.Call:
        body = ChatCompletionRequest.from_body({"model": "sonnet", "messages": messages})
        return routes._call(body, Catalog(state.settings, []).resolve("sonnet"), "key-digest")

    async def abandon_then_continue() -> tuple[str, str]:
        gateway = pool.GatewayPool(state.manager, state.settings)
        turn = await gateway.start(call(asked))
        async for _ in turn.pieces():
            break  # the first words: the caller goes away
        while turn.session.busy:
            await asyncio.sleep(0.005)
        continued = await gateway.start(call([*asked, {"role": "assistant", "content": "first words"}, {"role": "user", "content": "more"}]))
        return turn.session.id, continued.session.id

    first, continued = http.portal.call(abandon_then_continue)  # type: ignore[union-attr]
    assert continued == first
