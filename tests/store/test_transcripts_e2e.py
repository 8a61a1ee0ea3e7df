"""The real CLI and the demo model with ``SqlTranscriptStore`` as the SDK's ``session_store``,
on SQLite and PostgreSQL: a turn's transcript lands in the database, and a resume on a machine
(HOME) that never saw the transcript recalls the earlier turn from the database alone; a
transcript that exists only on disk is imported with the SDK's ``import_session_to_store``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    ClaudeSDKClient,
    ResultMessage,
    TextBlock,
    import_session_to_store,
    project_key_for_directory,
)

from claude_agent_server.store import SqlTranscriptStore
from gateway.recording_model import RecordingModel, recording_model

pytestmark = pytest.mark.e2e

TELL = "remember that my name is Ada"
ASK = "what did I ask you to remember?"


@pytest.fixture
def model() -> Any:
    with recording_model() as live:
        yield live


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    """Switch HOME to a new empty directory: from now on the CLI sees another machine's disk."""
    home = tmp_path / name
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def options(model: RecordingModel, workspace: Path, **more: Any) -> ClaudeAgentOptions:
    env = {"ANTHROPIC_BASE_URL": model.url, "ANTHROPIC_API_KEY": "demo-key", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    return ClaudeAgentOptions(cwd=str(workspace), env=env, **more)


async def turn(options: ClaudeAgentOptions, prompt: str) -> tuple[str, str]:
    """One turn on a new client; the reply's text and the session id."""
    async with ClaudeSDKClient(options) as client:
        await client.query(prompt)
        texts: list[str] = []
        async for message in client.receive_response():
            if isinstance(message, AssistantMessage):
                texts += [block.text for block in message.content if isinstance(block, TextBlock)]
            if isinstance(message, ResultMessage):
                assert not message.is_error, message
                session_id = message.session_id
    return "".join(texts), session_id


def transcript_on_disk(home: Path, workspace: Path, session_id: str) -> list[dict[str, Any]]:
    path = home / ".claude" / "projects" / project_key_for_directory(workspace) / f"{session_id}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def mirrors(stored: list[dict[str, Any]], disk: list[dict[str, Any]]) -> bool:
    """Whether ``stored`` holds every line of ``disk`` with a uuid, and only lines of ``disk``, in its order.

    (The CLI keeps a few lines local, without a uuid: ``api-request*``, ``cost-state``.)
    """
    lines = iter(disk)
    in_order = all(any(line == entry for line in lines) for entry in stored)
    return in_order and [e for e in stored if "uuid" in e] == [e for e in disk if "uuid" in e]


async def recall_on_a_new_machine(
    store: SqlTranscriptStore, model: RecordingModel, workspace: Path, session_id: str, home: Path
) -> None:
    """Resume ``session_id`` from the store alone and check that the model got the earlier turn."""
    reply, resumed = await turn(options(model, workspace, session_store=store, resume=session_id), ASK)
    assert resumed == session_id
    assert reply == "You asked me to remember: my name is Ada."
    assert TELL in json.dumps(model.requests_with(ASK)[-1]["messages"])  # as a real earlier message
    assert not list(home.rglob(f"{session_id}.jsonl"))  # the SDK resumed from a temporary config dir, now gone
    key = {"project_key": project_key_for_directory(workspace), "session_id": session_id}
    assert ASK in json.dumps(await store.load(key))  # and the new turn was mirrored too


async def test_a_turn_is_mirrored_and_resumes_on_a_machine_that_never_saw_it(
    open_registry, model: RecordingModel, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = (await open_registry()).transcripts
    home_a = machine(tmp_path, monkeypatch, "a")
    reply, session_id = await turn(options(model, workspace, session_store=store, session_store_flush="eager"), TELL)
    assert reply == "Got it, I'll remember: my name is Ada."

    key = {"project_key": project_key_for_directory(workspace), "session_id": session_id}
    stored = await store.load(key)
    assert mirrors(stored, transcript_on_disk(home_a, workspace, session_id))
    assert any(e["type"] == "user" and e["message"]["content"] == TELL for e in stored)
    assert any(e["type"] == "assistant" for e in stored)
    [summary] = await store.list_session_summaries(key["project_key"])
    assert summary["session_id"] == session_id and summary["data"]["first_prompt"] == TELL

    shutil.rmtree(home_a)
    await recall_on_a_new_machine(store, model, workspace, session_id, machine(tmp_path, monkeypatch, "b"))


async def test_a_transcript_only_on_disk_is_imported_and_then_resumes_from_the_store(
    open_registry, model: RecordingModel, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = (await open_registry()).transcripts
    home_a = machine(tmp_path, monkeypatch, "a")
    _, session_id = await turn(options(model, workspace), TELL)  # no store: the transcript is on A's disk only
    key = {"project_key": project_key_for_directory(workspace), "session_id": session_id}
    assert await store.load(key) is None

    await import_session_to_store(session_id, store, directory=str(workspace))
    assert await store.load(key) == transcript_on_disk(home_a, workspace, session_id)

    shutil.rmtree(home_a)
    await recall_on_a_new_machine(store, model, workspace, session_id, machine(tmp_path, monkeypatch, "b"))
