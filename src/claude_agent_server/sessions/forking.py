"""Forking a session: a new session whose history is the original's up to a message.

The transcript is copied in the transcript store (:func:`.forks.fork_transcript`: the
SDK's ``fork_session_via_store``); the new session is then resumed from that copy with the
original's spec, on any node. The original is not
touched. A running turn's messages are left out: the fork takes the last completed state.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import MessageNotFound, TranscriptNotFound, TurnInProgress
from .forks import fork_transcript
from .transcripts import Transcripts
from .request import request_like

FORK_NAMESPACE = "fork"
"""Alias namespace filing each fork (alias: the fork's id) under its parent's id."""


@dataclass(frozen=True, slots=True)
class ForkPoint:
    """Where a fork branches off: the parent session and its last message copied."""

    session_id: str
    message_id: str

    def to_json(self) -> dict[str, str]:
        return {"session_id": self.session_id, "message_id": self.message_id}


def _text_of(message: Any) -> str | None:
    """The human text of a transcript user message (None: tool results or CLI-made blocks only)."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content.strip()
    texts = [
        b.get("text", "").strip()
        for b in content or []
        if isinstance(b, dict) and b.get("type") == "text" and not b.get("text", "").lstrip().startswith("<")
    ]
    return "\n".join(texts) if texts else None


def completed_messages(messages: list[dict[str, Any]], running_prompt: str | None) -> list[dict[str, Any]]:
    """``messages`` without a running turn's (its prompt, ``running_prompt``, and what follows)."""
    if running_prompt is None:
        return messages
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.get("type") == "user" and (text := _text_of(message.get("message"))) is not None:
            return messages[:index] if text == running_prompt.strip() else messages
    return messages


def fork_point(session_id: str, messages: list[dict[str, Any]], at_message_id: str | None, running_prompt: str | None) -> ForkPoint:
    """The message a fork ends at: ``at_message_id`` (which must be a completed message of the
    transcript) or the last completed one.

    Raises:
        MessageNotFound: ``at_message_id`` is not one of the completed messages.
        TurnInProgress: No message is completed yet (the first turn runs).
    """
    done = completed_messages(messages, running_prompt)
    if at_message_id is not None:
        wanted = at_message_id.lower()
        if not any(str(m.get("uuid", "")).lower() == wanted for m in done):
            raise MessageNotFound(session_id, at_message_id)
        return ForkPoint(session_id, wanted)
    if not done:
        raise TurnInProgress(session_id)
    return ForkPoint(session_id, str(done[-1]["uuid"]))


async def plan_fork(
    transcripts: Transcripts, session_id: str, cwd: Path, at_message_id: str | None, running_prompt: str | None
) -> ForkPoint:
    """Read the transcript and choose the fork point (see :func:`fork_point`).

    Raises:
        TranscriptNotFound: The session has no transcript yet (no turn ever ran).
    """
    if not await transcripts.exists(session_id, cwd):
        raise TranscriptNotFound(session_id)
    await transcripts.store.flush()
    return fork_point(session_id, await transcripts.messages(session_id, cwd), at_message_id, running_prompt)


async def fork(manager: Any, session: Any, at_message_id: str | None, title: str | None) -> tuple[Any, ForkPoint]:
    """Fork ``session`` (a :class:`~.session.Session` of ``manager``, a
    :class:`~.manager.SessionManager`) at ``at_message_id`` (default: its last completed
    message): a new session, started, with the same spec, filed as the parent's child.

    Raises:
        MessageNotFound: ``at_message_id`` is not a completed message of the session.
        TranscriptNotFound: The session has no transcript yet.
        TurnInProgress: Its first turn runs (nothing is completed yet).
        As :meth:`SessionManager.create`.
    """
    transcripts: Transcripts = manager.transcripts
    point = await plan_fork(transcripts, session.id, session.spec.cwd, at_message_id, session.turn_message)
    name = title if title is not None else f"{session.record.title or 'Session'} (fork)"
    fork_id = await fork_transcript(transcripts, session.id, session.spec.cwd, point.message_id, title=name)
    try:
        request = request_like(
            session.spec, resume_session_id=fork_id, title=name, origin=session.record.origin, forked_from=point.to_json()
        )
        child = await manager.create(request)
    except BaseException:
        await transcripts.delete(fork_id, session.spec.cwd)
        raise
    await manager.registry.put_alias(FORK_NAMESPACE, child.id, session.id)
    return child, point


async def children(registry: Any, session_id: str) -> list[str]:
    """The ids of the sessions forked from ``session_id``, oldest first."""
    return list(await registry.aliases_of(FORK_NAMESPACE, session_id))


def before_turn(session_id: str, messages: list[dict[str, Any]], turn: int) -> str | None:
    """The uuid of the last message before the ``turn``-th human prompt (0-based) of a
    transcript's ``messages``; None for the first (nothing comes before it).

    Raises:
        MessageNotFound: The transcript has fewer prompts.
    """
    seen = -1
    for index, message in enumerate(messages):
        if message.get("type") == "user" and _text_of(message.get("message")) is not None:
            seen += 1
            if seen == turn:
                return str(messages[index - 1]["uuid"]) if index else None
    raise MessageNotFound(session_id, f"(prompt {turn + 1})")


def prompt_of_turn(session_id: str, messages: list[dict[str, Any]], turn: int, text: str | None = None) -> str:
    """The uuid of the ``turn``-th human prompt (0-based) of a transcript's ``messages``.

    Args:
        text: The turn's prompt, when known: then the first prompt with this text at or after
            the ``turn``-th (a transcript holds more prompts than turns when a message was
            steered into a running turn).

    Raises:
        MessageNotFound: The transcript has fewer prompts (or none with ``text`` at or after that position).
    """
    prompts = [m for m in messages if m.get("type") == "user" and _text_of(m.get("message")) is not None]
    if text is not None:
        wanted = text.strip()
        for message in prompts[turn:]:
            if _text_of(message.get("message")) == wanted:
                return str(message["uuid"])
    if text is None and turn < len(prompts):
        return str(prompts[turn]["uuid"])
    raise MessageNotFound(session_id, f"(prompt {turn + 1})")


async def fork_before_turn(manager: Any, session: Any, turn: int, title: str | None) -> Any:
    """Fork ``session`` keeping its first ``turn`` turns (an empty session with its spec for 0); the fork.

    Raises:
        As :func:`fork`.
    """
    transcripts: Transcripts = manager.transcripts
    exists = await transcripts.exists(session.id, session.spec.cwd)
    messages = await transcripts.messages(session.id, session.spec.cwd) if exists else []
    uuid = before_turn(session.id, messages, turn) if messages else None
    if uuid is None:
        name = title if title is not None else f"{session.record.title or 'Session'} (fork)"
        return await manager.create(request_like(session.spec, title=name, origin=session.record.origin))
    child, _ = await fork(manager, session, uuid, title)
    return child
