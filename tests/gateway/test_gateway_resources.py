"""The gateway with large inputs and at the live cap, end to end: the real server and the real
Claude Code CLI, whose model is the demo model behind a recorder (so a test sees what reached
the model). Three live slots, no warm sessions, the data dir known (scratch directories)."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from claude_agent_sdk import project_key_for_directory

from e2e_support import answer, in_background, send_in_background, stored_transcript, wait_for_permissions, wait_until
from gateway.recording_model import RecordingModel, recording_model
from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e

KEY = "gateway-resources-key"
LIVE = 3


@pytest.fixture(scope="module")
def model() -> Iterator[RecordingModel]:
    with recording_model() as recorder:
        yield recorder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model: RecordingModel) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("gateway-resources")
    env = {
        "ANTHROPIC_BASE_URL": model.url,
        "ANTHROPIC_API_KEY": "recording-model-key",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "AGENT_SERVER_WARM_SESSIONS": "0",
    }
    args = ("--max-live-sessions", str(LIVE), "--data-dir", str(root / "data"))
    with running_server(root, *args, api_key=KEY, env=env) as live:
        yield live


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, timeout=120, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def scratch_root(server: ServerProcess) -> Path:
    return server.workspace.parent / "data" / "scratch"


def scratch_dirs(server: ServerProcess) -> set[str]:
    root = scratch_root(server)
    return {p.name for p in root.iterdir()} if root.exists() else set()


def project_folder(server: ServerProcess, session_id: str) -> Path:
    """Where Claude Code keeps the transcripts of a session run in its scratch directory."""
    return server.home / ".claude" / "projects" / project_key_for_directory(scratch_root(server) / session_id)


def gateway_sessions(http: httpx.Client) -> set[str]:
    listed = http.get("/sessions", params={"limit": 500}).json()["sessions"]
    return {s["session_id"] for s in listed if s["origin"] == "gateway"}


def prompt_files() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("claude-agent-prompt-*"))


def systems_with(model: RecordingModel, marker: str) -> list[str]:
    """The ``system`` of every model request whose messages hold ``marker``, as JSON text."""
    return [json.dumps(r.get("system")) for r in model.requests_with(marker)]


def test_a_system_message_over_the_argument_limit_reaches_the_model_whole(
    client: openai.OpenAI, http: httpx.Client, model: RecordingModel
) -> None:
    # Linux refuses one argument over 128 KiB: this used to be 502 "Argument list too long".
    system = "SYSTEM-START " + "s" * 140_000 + " SYSTEM-END"
    files = prompt_files()
    for name, marker in (("sonnet", "say chat-profile"), ("sonnet+agent", "say agent-profile")):
        reply = client.chat.completions.create(model=name, messages=[{"role": "system", "content": system}, {"role": "user", "content": marker}])
        assert reply.choices[0].message.content == marker.removeprefix("say ")
        assert any(system in seen for seen in systems_with(model, marker))
    # The same through REST, replacing and appending.
    for field, marker in (("system_prompt", "say rest-replaced"), ("append_system_prompt", "say rest-appended")):
        created = http.post("/sessions", json={field: system})
        assert created.status_code == 201, created.text
        session_id = created.json()["session_id"]
        reply = http.post(f"/sessions/{session_id}/messages", json={"message": marker}).json()
        assert reply["is_error"] is False and reply["result"] == marker.removeprefix("say ")
        assert any(system in seen for seen in systems_with(model, marker))
        http.delete(f"/sessions/{session_id}")
    assert prompt_files() == files  # each file went once its CLI had started


def test_a_failed_turn_is_reported_with_a_failure_code(client: openai.OpenAI) -> None:
    # The model answers that the conversation is longer than its context; the CLI ends the turn
    # with a failed result whose subtype is "success" ("Prompt is too long"), which used to be
    # reported as code "success". OpenAI's clients know context_length_exceeded (a 400).
    messages: list[Any] = [{"role": "user", "content": "overflow the context"}]
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="sonnet", messages=messages)
    assert refused.value.code == "context_length_exceeded" and refused.value.param == "messages"
    assert refused.value.body["message"].startswith("Prompt is too long")  # type: ignore[index]
    stream = client.chat.completions.create(model="sonnet", messages=messages, stream=True)
    with pytest.raises(openai.APIError) as failed:
        for _ in stream:
            pass
    assert failed.value.code == "context_length_exceeded" and failed.value.body["message"].startswith("Prompt is too long")  # type: ignore[index]


def test_health_answers_while_a_large_body_is_parsed(server: ServerProcess, http: httpx.Client) -> None:
    # 10,000 messages of three text parts (31 MB), the last one the assistant's: parsed,
    # validated and normalised before the 400 (no session, no model: the probe times the server
    # alone). That used to hold the event loop for about a second.
    parts = [{"type": "text", "text": "w" * 1000}] * 3
    messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": parts} for i in range(10_000)]
    body = json.dumps({"model": "sonnet", "messages": messages}).encode()
    done = threading.Event()
    slowest = 0.0

    def probe() -> None:
        nonlocal slowest
        with httpx.Client(base_url=server.url, timeout=30) as health:
            while not done.is_set():
                start = time.monotonic()
                assert health.get("/health").status_code == 200
                slowest = max(slowest, time.monotonic() - start)
                time.sleep(0.02)

    prober = in_background(probe)
    began = time.monotonic()
    try:
        reply = http.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"}, timeout=120)
    finally:
        elapsed = time.monotonic() - began
        done.set()
        prober.result(timeout=60)
    # Parsed on the event loop, one /health call waits for (nearly) all of the processing;
    # off the loop, each waits only its turn for the GIL. Relative to the request's own time,
    # so a loaded machine (everything slower) does not turn it into a false failure.
    assert slowest < max(0.5, elapsed / 4), f"/health took {slowest:.2f} s while the body was processed in {elapsed:.2f} s"
    assert reply.status_code == 400 and "the last message must be a user message" in reply.json()["error"]["message"]


def test_deleting_a_gateway_session_removes_its_scratch_directory_and_transcript(
    client: openai.OpenAI, http: httpx.Client, server: ServerProcess
) -> None:
    messages: list[Any] = [{"role": "user", "content": "first"}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "say seeded"}]
    raw = client.chat.completions.with_raw_response.create(model="sonnet", messages=messages)
    session_id = raw.headers["x-session-id"]
    folder = project_folder(server, session_id)
    data = scratch_root(server).parent
    assert session_id in scratch_dirs(server) and len(stored_transcript(data, session_id) or []) >= 2  # seeded
    # seeded into the store and resumed from it: nothing on this disk (a sandboxed session's link into its private dir is no copy)
    assert not folder.exists() or all(p.is_symlink() for p in folder.iterdir())
    assert http.delete(f"/sessions/{session_id}").status_code == 200
    wait_until(lambda: session_id not in scratch_dirs(server) and stored_transcript(data, session_id) is None, timeout=30,
               what="the scratch directory and transcript to go")
    assert not folder.exists()


def test_refused_gateway_calls_leave_no_scratch_directories(
    client: openai.OpenAI, http: httpx.Client, server: ServerProcess
) -> None:
    workdir = server.workspace / "busy"
    workdir.mkdir()
    busy = [http.post("/sessions", json={"cwd": str(workdir)}).json()["session_id"] for _ in range(LIVE)]
    pending = [send_in_background(server, sid, "run `date > now.txt`") for sid in busy]
    requests = [wait_for_permissions(http, sid)[0] for sid in busy]  # every live slot is busy now
    before = scratch_dirs(server)

    def call(n: int) -> int:
        messages: list[Any] = [{"role": "user", "content": f"say call {n}"}]
        if n % 2:  # half of them seed a history (a transcript is written before the session is made)
            messages = [{"role": "user", "content": f"earlier {n}"}, {"role": "assistant", "content": "ok"}, *messages]
        try:
            client.chat.completions.create(model="sonnet", messages=messages)
            return 200
        except openai.APIStatusError as exc:
            return exc.status_code

    assert [f.result(timeout=120) for f in [in_background(lambda n=n: call(n)) for n in range(8)]] == [429] * 8
    assert scratch_dirs(server) == before  # used to be one empty directory per refused call
    for sid, request in zip(busy, requests, strict=True):
        answer(http, sid, request["request_id"], False)
    for reply in pending:
        assert reply.result(timeout=60).status_code == 200
    # Now some calls find a slot and some may not: every directory left belongs to a session.
    codes = [f.result(timeout=120) for f in [in_background(lambda n=n: call(n)) for n in range(8)]]
    assert 200 in codes and set(codes) <= {200, 429}
    sessions = gateway_sessions(http)
    assert scratch_dirs(server) <= sessions
    projects = server.home / ".claude" / "projects"
    leftover = {p.name for p in projects.iterdir() if "-scratch-" in p.name}
    assert leftover <= {project_folder(server, sid).name for sid in sessions}


def test_a_history_whose_first_message_is_large_is_seeded_natively(client: openai.OpenAI, model: RecordingModel) -> None:
    # The SDK's transcript metadata reader gives up on a first line over 64 KiB; the history
    # used to go into the prompt as annotations instead of the transcript.
    first = "FIRST " + "x" * 100_000
    messages: list[Any] = [{"role": "user", "content": first}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "say big-first"}]
    assert client.chat.completions.create(model="sonnet", messages=messages).choices[0].message.content == "big-first"
    [request] = [r for r in model.requests_with("say big-first") if r.get("messages")]
    texts = [json.dumps(m["content"]) for m in request["messages"]]
    assert first in texts[0] and "Earlier conversation" not in json.dumps(request["messages"])
