"""Forking a session's transcript at a message, in the transcript store (the SDK's
``fork_session_via_store``): fresh message uuids, the ``parentUuid`` chain kept, the slice
ending at ``up_to`` inclusive, under a new session id that a CLI started with ``resume``
then continues on any node. Used by :mod:`.forking` (``POST /sessions/{id}/fork``) and the
Responses API (continuing from a response that is not its session's latest).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from claude_agent_sdk import fork_session_via_store, get_session_messages_from_store, project_key_for_directory

from .errors import MessageNotFound, TranscriptNotFound
from .transcripts import Transcripts


async def last_message_uuid(transcripts: Transcripts, session_id: str, cwd: Path) -> str | None:
    """The ``uuid`` of the last message of a session's main conversation (None: no transcript or no message)."""
    await transcripts.store.flush()
    try:
        messages = await get_session_messages_from_store(transcripts.store, session_id, str(cwd))
    except (OSError, ValueError):
        return None
    return messages[-1].uuid if messages else None


async def fork_transcript(
    transcripts: Transcripts, session_id: str, cwd: Path, up_to: str | None, target_cwd: Callable[[str], Path] | None = None,
    title: str | None = None,
) -> str:
    """Copy the transcript of ``session_id`` (run in ``cwd``) up to and including the message
    ``up_to`` (None: all of it) into a new one, resumable in ``target_cwd(new id)`` (default:
    ``cwd``); the new id.

    Raises:
        TranscriptNotFound: There is no such transcript.
        MessageNotFound: ``up_to`` is not a message of it.
    """
    if not await transcripts.exists(session_id, cwd):
        raise TranscriptNotFound(session_id)
    await transcripts.store.flush()
    try:
        result = await fork_session_via_store(transcripts.store, session_id, str(cwd), up_to_message_id=up_to, title=title)
    except FileNotFoundError:
        raise TranscriptNotFound(session_id) from None
    except ValueError as exc:
        if up_to is None:
            raise TranscriptNotFound(session_id) from exc
        raise MessageNotFound(session_id, up_to) from exc
    target = target_cwd(result.session_id) if target_cwd is not None else cwd
    if project_key_for_directory(target) != project_key_for_directory(cwd):  # the fork runs in another directory
        source = {"project_key": project_key_for_directory(cwd), "session_id": result.session_id}
        entries = await transcripts.store.load(source) or []
        await transcripts.store.write_now({"project_key": project_key_for_directory(target), "session_id": result.session_id}, entries)
        await transcripts.store.delete(source)
    return result.session_id


__all__ = ["fork_transcript", "last_message_uuid"]
