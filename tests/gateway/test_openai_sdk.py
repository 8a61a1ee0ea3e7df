"""The gateway end to end: the official ``openai`` SDK against the real server and the real
Claude Code CLI, whose model is the demo model behind a recorder (so each test can see
exactly which messages reached the model)."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import httpx
import openai
import pytest

from e2e_support import in_background, wait_until
from claude_agent_server.gateway.seed import CONTINUE
from gateway.recording_model import RecordingModel, recording_model
from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e

KEY = "gateway-test-key"


def _png(width: int = 2, height: int = 2) -> bytes:
    """A real (grey) PNG: the CLI decodes images before it sends them."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = base64.b64encode(_png()).decode()


@pytest.fixture(scope="module")
def model() -> Iterator[RecordingModel]:
    with recording_model() as recorder:
        yield recorder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model: RecordingModel) -> Iterator[ServerProcess]:
    """One server for the module, not in --demo: its sessions' CLIs talk to the recording model."""
    env = {
        "ANTHROPIC_BASE_URL": model.url,
        "ANTHROPIC_API_KEY": "recording-model-key",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "AGENT_SERVER_WARM_SESSIONS": "0",
    }
    with running_server(tmp_path_factory.mktemp("gateway"), api_key=KEY, env=env) as live:
        yield live


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, timeout=120, max_retries=0) as sdk:
        yield sdk


def ask(client: openai.OpenAI, messages: list[dict[str, Any]], model: str = "sonnet", **extra: Any) -> tuple[str, str]:
    """One non-streaming call: ``(reply text, X-Session-Id)``."""
    raw = client.chat.completions.with_raw_response.create(model=model, messages=messages, **extra)  # type: ignore[arg-type]
    completion = raw.parse()
    return completion.choices[0].message.content or "", raw.headers["x-session-id"]


def human_messages(request: dict[str, Any]) -> list[tuple[str, str]]:
    """``(role, text)`` of each message of a model request, reminders and CLI-made blocks left out."""
    found = []
    for message in request["messages"]:
        if message["role"] not in ("user", "assistant"):
            continue  # the CLI's own environment updates
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        texts = [b["text"] for b in blocks if b.get("type") == "text" and not b["text"].lstrip().startswith("<")]
        if texts:
            found.append((message["role"], "\n".join(texts)))
    return found


def last_request_with(model: RecordingModel, text: str) -> dict[str, Any]:
    matching = [r for r in model.requests_with(text) if r.get("max_tokens", 0) > 1]
    assert matching, f"no model request contained {text!r}"
    return matching[-1]


def test_models_are_listed_and_unknown_ones_are_404(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert {"default", "sonnet", "opus", "haiku", "sonnet+agent"} <= set(ids)
    assert client.models.retrieve("haiku").owned_by == "claude-agent-server"
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-nonexistent", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-nonexistent")


def test_wrong_key_is_an_authentication_error(server: ServerProcess) -> None:
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as denied:
            wrong.models.list()
        assert denied.value.body["type"] == "authentication_error"  # type: ignore[index]
        with pytest.raises(openai.AuthenticationError):
            wrong.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "hi"}])
    bad = httpx.post(f"{server.url}/v1/chat/completions", headers={**server.headers, "content-type": "application/json"}, content=b"{not json")
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"


def test_completion_is_a_chat_session_with_real_usage(client: openai.OpenAI, server: ServerProcess, model: RecordingModel) -> None:
    raw = client.chat.completions.with_raw_response.create(model="sonnet", messages=[{"role": "user", "content": "run the command: echo gateway"}])
    completion = raw.parse()
    session_id = raw.headers["x-session-id"]
    assert completion.object == "chat.completion" and completion.model == "sonnet"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.content == "I can't run commands: the Bash tool is not available."  # chat: no tools
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 0
    assert isinstance((usage.model_extra or {}).get("cost_usd"), float)
    request = last_request_with(model, "run the command: echo gateway")
    assert not request.get("tools")
    with server.client() as http:
        listed = {s["session_id"]: s for s in http.get("/sessions").json()["sessions"]}
    assert listed[session_id]["origin"] == "gateway" and listed[session_id]["turns"] == 1
    assert not listed[session_id]["cwd"].startswith(str(server.workspace))  # its own empty directory
    # The numbers are the turn's result event's, not an estimate.
    result = turn_result(server, session_id)
    tokens = result["usage"]
    fresh, written, read = (tokens.get(k) or 0 for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
    assert (usage.prompt_tokens, usage.completion_tokens) == (fresh + written + read, tokens["output_tokens"])
    assert usage.prompt_tokens_details.cached_tokens == read and (usage.model_extra or {})["cost_usd"] == pytest.approx(result["turn_cost_usd"])


def turn_result(server: ServerProcess, session_id: str) -> dict[str, Any]:
    """The session's first ``result`` event, replayed from its event stream."""
    with server.client(timeout=60) as http, http.stream("GET", f"/sessions/{session_id}/events", params={"after": 0}) as events:
        for line in events.iter_lines():
            if line.startswith("data:") and (event := json.loads(line[5:]))["type"] == "result":
                return event
    raise AssertionError("no result event")


def test_streaming_sends_role_text_finish_and_usage_chunks(client: openai.OpenAI, model: RecordingModel) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="sonnet", messages=[{"role": "user", "content": "remember that streams end with usage"}],
        stream=True, stream_options={"include_usage": True},
    ) as response:
        session_id = response.headers["x-session-id"]
        chunks = list(response.parse())
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Got it, I'll remember: streams end with usage."
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert len({c.id for c in chunks}) == 1 and session_id


def test_three_stateless_turns_run_in_one_session(client: openai.OpenAI, server: ServerProcess, model: RecordingModel) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "remember that the launch code is 4217"}]
    first, session_id = ask(client, messages)
    processes = len(server.cli_processes())
    messages += [{"role": "assistant", "content": first}, {"role": "user", "content": "remember that my name is Ada"}]
    second, again = ask(client, messages)
    messages += [{"role": "assistant", "content": second}, {"role": "user", "content": "what did I ask you to remember?"}]
    third, still = ask(client, messages)
    assert again == still == session_id
    assert third == "You asked me to remember: the launch code is 4217; my name is Ada."
    assert len(server.cli_processes()) == processes  # no CLI started for turns two and three
    # A hibernated session filed under the history is woken, not replaced.
    with server.client() as http:
        assert http.post(f"/sessions/{session_id}/hibernate").status_code == 200
    messages += [{"role": "assistant", "content": third}, {"role": "user", "content": "what did I ask you to remember?"}]
    fourth, woken = ask(client, messages)
    assert woken == session_id and fourth == third
    # Continuing a session also works by naming it, whatever the history says.
    named, same = ask(client, [{"role": "user", "content": "what did I ask you to remember?"}], extra_headers={"X-Session-Id": session_id})
    assert same == session_id and "4217" in named


def test_a_session_continued_through_rest_is_not_matched_again(client: openai.OpenAI, server: ServerProcess) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "remember that detours count"}]
    first, session_id = ask(client, messages)
    with server.client() as http:  # another client continues the session: its history moves on
        turn = http.post(f"/sessions/{session_id}/messages", json={"message": "remember that REST was here"}, timeout=120)
        assert turn.status_code == 200, turn.text
    messages += [{"role": "assistant", "content": first}, {"role": "user", "content": "what did I ask you to remember?"}]
    reply, other = ask(client, messages)
    assert other != session_id  # seeded anew from the caller's history, which has no REST turn
    assert reply == "You asked me to remember: detours count."


def test_an_unseen_conversation_is_seeded_as_real_messages(client: openai.OpenAI, model: RecordingModel) -> None:
    history = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "remember that the vault code is 9931"},
        {"role": "assistant", "content": "Noted, the vault code."},
        {"role": "user", "content": [{"type": "text", "text": "and keep this picture"}, {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Kept."}]},
        {"role": "user", "content": "what did I ask you to remember?"},
    ]
    reply, _ = ask(client, history)
    assert reply.startswith("You asked me to remember: the vault code is 9931")
    request = last_request_with(model, "the vault code is 9931")
    turns = human_messages(request)
    assert turns[:2] == [("user", "remember that the vault code is 9931"), ("assistant", "Noted, the vault code.")]
    assert turns[3] == ("assistant", "Kept.") and turns[2][1].startswith("and keep this picture")
    seeded_image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    assert seeded_image in [b for m in request["messages"] if isinstance(m["content"], list) for b in m["content"]]
    assert turns[-1] == ("user", "what did I ask you to remember?")
    assert "Earlier conversation" not in json.dumps(request["messages"])  # native, not the annotated fallback
    assert "You are terse." in json.dumps(request["system"]) and "You are terse." not in json.dumps(request["messages"])


def test_same_history_at_once_gets_two_sessions(client: openai.OpenAI, server: ServerProcess) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "remember that races are bugs"}]
    first, session_id = ask(client, messages)
    messages += [{"role": "assistant", "content": first}, {"role": "user", "content": "count slowly"}]
    calls: list[Future[tuple[str, str]]] = [in_background(lambda: ask(client, messages)) for _ in range(2)]
    with server.client() as http:
        wait_until(lambda: sum(s["status"] == "running" for s in http.get("/sessions").json()["sessions"]) >= 2, timeout=120, what="two turns at once")
    results = [call.result(timeout=180) for call in calls]
    assert all(text.endswith("Done.") for text, _ in results)
    assert results[0][1] != results[1][1] and session_id in {results[0][1], results[1][1]}


def test_a_changed_system_prompt_gives_a_new_session(client: openai.OpenAI) -> None:
    def conversation(system: str) -> list[dict[str, Any]]:
        return [{"role": "system", "content": system}, {"role": "user", "content": "remember that systems scope sessions"}]

    first, session_id = ask(client, conversation("Be formal."))
    follow_up = [{"role": "assistant", "content": first}, {"role": "user", "content": "what did I ask you to remember?"}]
    _, other = ask(client, conversation("Be casual.") + follow_up)
    assert other != session_id
    _, same = ask(client, conversation("Be formal.") + follow_up)
    assert same == session_id


def test_regenerate_starts_a_new_seeded_session(client: openai.OpenAI, model: RecordingModel) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "remember that regenerate forks"}]
    first, session_id = ask(client, messages)
    messages += [{"role": "assistant", "content": first}, {"role": "user", "content": "remember that the second answer is dropped"}]
    second, same = ask(client, messages)
    assert same == session_id
    regenerated, other = ask(client, messages)  # same history, the last reply dropped
    assert other != session_id and regenerated == second
    seeded = human_messages(last_request_with(model, "the second answer is dropped"))
    assert seeded == [("user", "remember that regenerate forks"), ("assistant", first), ("user", "remember that the second answer is dropped")]


def test_images_reach_the_model_as_image_blocks(client: openai.OpenAI, model: RecordingModel) -> None:
    content = [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}, {"type": "text", "text": "remember that this is a picture"}]
    reply, _ = ask(client, [{"role": "user", "content": content}])
    assert reply  # the CLI adds an "[Image: source: ...]" note after the text, so the demo model answers with its help
    request = last_request_with(model, "this is a picture")
    [message] = [m for m in request["messages"] if "this is a picture" in json.dumps(m)]
    assert message["role"] == "user" and message["content"][0] == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    assert message["content"][1]["type"] == "text" and message["content"][1]["text"].strip() == "remember that this is a picture"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://127.0.0.1:1/x.png"}}]}])


def test_agent_profile_denies_what_would_need_a_human(client: openai.OpenAI, server: ServerProcess, model: RecordingModel) -> None:
    reply, session_id = ask(client, [{"role": "user", "content": "run the command: touch made-by-the-gateway.txt"}], model="sonnet+agent")
    assert "No human is available to approve this tool call" in reply
    assert not (server.workspace / "made-by-the-gateway.txt").exists()
    assert last_request_with(model, "made-by-the-gateway.txt").get("tools")  # the agent has its tools
    with server.client() as http:
        listed = {s["session_id"]: s for s in http.get("/sessions").json()["sessions"]}
    assert listed[session_id]["cwd"] == str(server.workspace) and listed[session_id]["origin"] == "gateway"


def test_a_client_tools_history_is_seeded_as_paired_tool_blocks(client: openai.OpenAI, server: ServerProcess, model: RecordingModel) -> None:
    # History from an app whose earlier model called the app's own tools, re-sent the way
    # apps keep it (SDK message dumps: refusal/annotations/name fields, a developer message).
    messages: list[dict[str, Any]] = [
        {"role": "developer", "content": [{"type": "text", "text": "Use the tools."}, {"type": "text", "text": "Be brief."}]},
        {"role": "user", "name": "ada", "content": [{"type": "text", "text": "what is the weather"}, {"type": "text", "text": "in Paris?"}]},
        {"role": "assistant", "content": None, "refusal": None, "annotations": [], "audio": None, "function_call": None,
         "tool_calls": [{"id": "call_w1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
                        {"id": "call_w2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_w1", "content": "sunny, 21 C"},
        {"role": "tool", "tool_call_id": "call_w2", "content": [{"type": "text", "text": "14:05"}]},
    ]
    reply, session_id = ask(client, messages, user="ada", max_completion_tokens=200)
    request = last_request_with(model, "in Paris?")
    calls = [b for m in request["messages"] if m["role"] == "assistant" and isinstance(m["content"], list) for b in m["content"] if b.get("type") == "tool_use"]
    assert [(c["id"], c["name"], c["input"]) for c in calls] == [("call_w1", "get_weather", {"city": "Paris"}), ("call_w2", "get_time", {})]
    results = [b for m in request["messages"] if m["role"] == "user" and isinstance(m["content"], list) for b in m["content"] if b.get("type") == "tool_result"]
    assert [(r["tool_use_id"], r["content"]) for r in results] == [("call_w1", "sunny, 21 C"), ("call_w2", "14:05")]  # once each, by the caller
    assert human_messages(request)[-1] == ("user", CONTINUE) and {"type": "text", "text": "Use the tools.\nBe brief."} in [{k: b[k] for k in ("type", "text")} for b in request["system"]]
    # The same conversation re-sent (with the reply) continues that session.
    messages += [{"role": "assistant", "content": reply, "refusal": None}, {"role": "user", "name": "ada", "content": "remember that tools were used"}]
    _, same = ask(client, messages)
    assert same == session_id
