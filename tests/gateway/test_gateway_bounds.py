"""The gateway's bounds in-process over scripted SDK clients, and how a failed turn is coded:
messages validated in slices with exact error locations, system prompts (large ones through a
file, too large ones refused), prompts longer than Claude Code takes, scratch directories of
sessions that never started."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from claude_agent_server.app import create_app
from claude_agent_server.gateway.mapping import Failure, TurnMapper
from claude_agent_server.sessions import Event
from claude_agent_server.sessions.options import INLINE_PROMPT_BYTES
from claude_agent_server.sessions.prompt import MAX_PROMPT_CHARACTERS
from claude_agent_server.settings import Settings
from fakes import FakeClients

KEY = "bounds-key"


@pytest.fixture
def clients() -> FakeClients:
    return FakeClients()


@pytest.fixture
def http(tmp_path: Path, clients: FakeClients) -> Iterator[TestClient]:
    settings = Settings(workspace=tmp_path, data_dir=tmp_path / "data", api_key=KEY, warm_sessions=0)  # type: ignore[call-arg]
    with TestClient(create_app(settings, client_factory=clients), headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


def chat(http: TestClient, messages: list[dict[str, Any]], model: str = "sonnet") -> Any:
    return http.post("/v1/chat/completions", json={"model": model, "messages": messages})


def failure(**result: Any) -> Any:
    [piece] = TurnMapper().feed(Event(1, "result", "s", {"is_error": True, **result}))
    assert isinstance(piece, Failure)
    return piece.error


def test_a_failed_result_is_never_coded_success() -> None:
    # Claude Code reports API errors and "Prompt is too long" with subtype "success".
    api = failure(subtype="success", terminal_reason="api_error", result="API Error: 500 upstream")
    assert (api.status, api.code, api.type, api.message) == (502, "api_error", "server_error", "API Error: 500 upstream")
    too_long = failure(subtype="success", terminal_reason="prompt_too_long", result="Prompt is too long")
    assert (too_long.status, too_long.code, too_long.type, too_long.param) == (400, "context_length_exceeded", "invalid_request_error", "messages")
    assert failure(subtype="success", terminal_reason="blocking_limit").code == "context_length_exceeded"
    assert failure(subtype="error_max_turns", terminal_reason="max_turns", errors=["too many turns"]).code == "error_max_turns"
    for unnamed in ({"subtype": "success"}, {"subtype": "success", "terminal_reason": "completed"}, {}):
        assert failure(**unnamed).code == "agent_error"


def test_messages_are_validated_in_slices_with_exact_locations(http: TestClient, clients: FakeClients) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": f"m{i}"} for i in range(500)]
    messages[350] = {"role": "wizard", "content": "x"}
    bad = chat(http, messages)
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("messages.350.role: ")
    assert bad.json()["error"]["param"] == "messages"
    messages[350] = {"role": "user", "content": [{"type": "text", "text": 7}]}
    assert chat(http, messages).json()["error"]["message"].startswith("messages.350.content")
    too_many = chat(http, [{"role": "user", "content": "m"}] * 10_001)
    assert too_many.status_code == 400 and too_many.json()["error"]["message"] == "messages: at most 10000 messages, not 10001"
    messages[350] = {"role": "user", "content": "fine"}
    assert chat(http, messages).status_code == 200 and len(clients.clients) == 1


def test_a_large_system_prompt_goes_through_a_file_that_is_gone_once_the_cli_started(http: TestClient, clients: FakeClients) -> None:
    system = "s" * (INLINE_PROMPT_BYTES + 1)
    assert chat(http, [{"role": "system", "content": system}, {"role": "user", "content": "hi"}]).status_code == 200
    options = clients.last.options
    assert options.system_prompt["type"] == "file" and not Path(options.system_prompt["path"]).exists()  # type: ignore[index]
    assert chat(http, [{"role": "system", "content": system}, {"role": "user", "content": "hi"}], "sonnet+agent").status_code == 200
    options = clients.last.options
    assert options.system_prompt == {"type": "preset", "preset": "claude_code"}
    assert not Path(options.extra_args["append-system-prompt-file"] or "").exists()
    small = chat(http, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])
    assert small.status_code == 200 and clients.last.options.system_prompt == "Be brief."  # small ones stay arguments


def test_a_system_prompt_longer_than_a_session_takes_is_400(http: TestClient, clients: FakeClients) -> None:
    for system, words in (("s" * (MAX_PROMPT_CHARACTERS + 1), "characters"), ("a\x00b", "NUL")):
        refused = chat(http, [{"role": "system", "content": system}, {"role": "user", "content": "hi"}])
        assert refused.status_code == 400 and words in refused.json()["error"]["message"]
        assert refused.json()["error"]["param"] == "messages" and refused.json()["error"]["type"] == "invalid_request_error"
    assert clients.clients == []


def test_a_prompt_longer_than_claude_code_takes_is_413_before_any_session(http: TestClient, clients: FakeClients, tmp_path: Path) -> None:
    history = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "ok"}]
    for messages in ([{"role": "user", "content": "x" * (MAX_PROMPT_CHARACTERS + 1)}],
                     [*history, {"role": "tool", "tool_call_id": "c", "content": "x" * (MAX_PROMPT_CHARACTERS + 1)}]):
        refused = chat(http, messages)
        assert refused.status_code == 413 and refused.json()["error"]["code"] == "context_length_exceeded"
    assert clients.clients == [] and not (tmp_path / "data" / "scratch").exists()


def test_a_session_that_never_started_leaves_no_scratch_directory(
    http: TestClient, clients: FakeClients, tmp_path: Path, hermetic: Path
) -> None:
    clients.fail_connect = "boom"
    assert chat(http, [{"role": "user", "content": "hi"}]).status_code == 502
    history = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "hi"}]
    assert chat(http, history).status_code == 502  # native seeding failed, then the fallback too
    assert len(clients.clients) == 3 and not any((tmp_path / "data" / "scratch").iterdir())
    assert not list(hermetic.glob(".claude/projects/*scratch*"))  # nor a seeded transcript
