"""Forking a session's transcript at a message, through the SDK's ``fork_session``.

The minimum the Responses API needs (continuing from a response that is not its
session's latest): a copy of the transcript up to and including one message, under a
new session id, in the project folder of the directory the fork will run in. The
new session is then created by resuming that id. Blocking file I/O runs in a worker
thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from claude_agent_sdk import fork_session, get_session_messages

from .errors import TranscriptNotFound
from .transcripts import transcript_path


async def last_message_uuid(session_id: str, cwd: Path) -> str | None:
    """The ``uuid`` of the last message of a session's main conversation (None: no transcript or no message)."""

    def read() -> str | None:
        messages = get_session_messages(session_id, str(cwd))
        return messages[-1].uuid if messages else None

    try:
        return await asyncio.to_thread(read)
    except (OSError, ValueError):
        return None


async def fork_transcript(session_id: str, cwd: Path, up_to: str | None, target_cwd: Callable[[str], Path]) -> str:
    """Copy the transcript of ``session_id`` (run in ``cwd``) up to and including the message
    ``up_to`` (None: all of it) into a new transcript resumable in ``target_cwd(new id)``; the new id.

    Raises:
        TranscriptNotFound: There is no such transcript, or no such message in it.
    """

    def fork() -> str:
        try:
            result = fork_session(session_id, str(cwd), up_to_message_id=up_to)
        except (FileNotFoundError, ValueError):
            raise TranscriptNotFound(session_id) from None
        source, target = transcript_path(result.session_id, cwd), transcript_path(result.session_id, target_cwd(result.session_id))
        if source != target:
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
        return result.session_id

    return await asyncio.to_thread(fork)


__all__ = ["fork_transcript", "last_message_uuid"]
