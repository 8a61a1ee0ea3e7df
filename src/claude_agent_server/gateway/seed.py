"""Seeding a new session with a conversation it never saw, as a native Claude Code transcript.

The transcript goes into the registry's transcript store (the SDK's ``SessionStore``),
where every session's transcript lives; the CLI started with ``resume`` loads it from
there, so a seeded session starts (and later wakes) on any machine, and nothing is
written to this one's ``~/.claude``. (Writing the file and importing it would serve
one machine only until the import, and leave a file behind.) Claude Code resumes any
transcript whose lines are ``user``/``assistant`` entries chained by ``uuid``/``parentUuid``
(verified: the turns reach the model as real messages; see the team's NOTES,
"Seeding a session from plain messages works natively"). Tool results are ``user``
entries holding ``tool_result`` blocks; images pass as base64 blocks; thinking
blocks cannot be forged and are never written. The system prompt is never part of
the transcript (it is the session's own option).

When native seeding fails, :func:`annotated_prompt` is the fallback: the history
in clearly bracketed annotations ahead of the new input, in one prompt.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from claude_agent_sdk._cli_version import __cli_version__

from ..sessions.transcripts import Transcripts
from .history import Message


def transcript_entries(session_id: str, cwd: Path, messages: Sequence[Message], now: datetime | None = None) -> list[dict[str, Any]]:
    """The transcript lines of ``messages`` (normalised, see :mod:`.history`): one entry
    each, chained by ``parentUuid``, a millisecond apart; messages without content are skipped."""
    start = now or datetime.now(UTC)
    entries: list[dict[str, Any]] = []
    parent: str | None = None
    for message in messages:
        if not message["content"]:
            continue
        entry_id = str(uuid.uuid4())
        moment = start + timedelta(milliseconds=len(entries))
        entries.append({
            "type": message["role"],
            "uuid": entry_id,
            "parentUuid": parent,
            "sessionId": session_id,
            "timestamp": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "cwd": str(cwd),
            "version": __cli_version__,
            "isSidechain": False,
            "userType": "external",
            "message": {"role": message["role"], "content": message["content"]},
        })
        parent = entry_id
    return entries


async def seed_transcript(transcripts: Transcripts, session_id: str, cwd: Path, messages: Sequence[Message]) -> None:
    """Store the transcript a new session ``session_id`` in ``cwd`` resumes (built in a
    worker thread: a long history is CPU work), written before this returns.

    Raises:
        StoreError, sqlalchemy.exc.SQLAlchemyError: The store could not write it.
    """
    entries = await asyncio.to_thread(transcript_entries, session_id, cwd, messages)
    await transcripts.seed(session_id, cwd, entries)


def annotate(block: dict[str, Any]) -> str:
    """One content block as prompt text: text as is, tool calls and results in brackets."""
    kind = block["type"]
    if kind == "text":
        return block["text"]
    if kind == "tool_use":
        return f"[tool call {block['id']}: {block['name']} {json.dumps(block['input'], ensure_ascii=False)}]"
    if kind == "tool_result":
        return f"[tool result for {block['tool_use_id']}: {block['content']}]"
    return f"[{kind}]"


CONTINUE = "Continue with the tool results above."
"""The prompt of a seeded turn whose new input is tool results alone (they go in the transcript)."""


def annotated_prompt(history: Sequence[Message], new_text: str) -> str:
    """The fallback prompt: the earlier conversation in bracketed annotations, then the new input.

    Images in the history are named (``[image]``), not repeated.
    """
    lines = ["[Earlier conversation, for context. Do not repeat this format in your answer.]"]
    for message in history:
        text = "\n".join(annotate(block) for block in message["content"])
        if text:
            lines.append(f"[{message['role']}]\n{text}")
    lines.append("[End of earlier conversation]")
    return "\n\n".join(lines) + "\n\n" + new_text
