"""Finding the session for a stateless call, and filing it under its new history.

Lookup order for a call whose history has key ``k`` (see :mod:`.history`):

1. ``X-Session-Id`` given: that session, no matching (409 while it runs a turn).
2. The session filed under ``k`` (registry alias table, namespace ``gateway``):
   idle and live → reused; hibernated → woken; busy (a turn of another call, or
   one started through the REST API) → not used: a new session is seeded from the
   history (two conversations are never interleaved in one session).
3. No session filed under ``k`` → a new session, seeded natively from the history
   (a Claude Code transcript it resumes; see :mod:`.seed`), or a plain new one for
   an empty history. New input that is tool results (answering the history's
   last tool calls, made by the caller's own tools) is written into that
   transcript too, and the prompt is :data:`.seed.CONTINUE`. Only if native
   seeding fails is the history sent in bracketed annotations in the prompt instead.

A session is filed under exactly one key: that of the history it holds. After a
successful turn it is re-filed under the history that now ends with the reply as
returned; the key it was found under is dropped, so an edited or regenerated
conversation (a strict prefix of a known one) never continues the old session.
A failed turn leaves the session filed under nothing. A session that ran a turn
the gateway did not send (through REST, the dashboard, ...) since it was filed no
longer holds that history: it is unfiled when next matched and a new one is seeded
(known for the sessions filed since this server started).

Races: a matched session is claimed in the same step as the check that no other
call holds it (no ``await`` between them), so concurrent calls with the same
history get different sessions.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from ..sessions import (
    Event,
    ServerShuttingDown,
    Session,
    SessionError,
    SessionManager,
    SessionRequest,
    TooManySessions,
    TranscriptNotFound,
    TurnInProgress,
)
from ..sessions.errors import SessionStartError
from ..sessions.prompt import check_prompt
from ..sessions.turns import turn_events
from ..settings import Settings
from .errors import GatewayError, from_session_error
from .history import Conversation, history_key, reply_message
from .mapping import End, Failure, Piece, TurnMapper
from .models import ModelChoice
from .structured import JSON_OBJECT_PROMPT, Structured
from .seed import CONTINUE, annotate, annotated_prompt, write_transcript

log = logging.getLogger(__name__)

NAMESPACE = "gateway"
"""The registry alias namespace: history key → session id."""
How = Literal["continued", "reused", "woken", "seeded", "new", "annotated", "forked"]
_END = object()


@dataclass(slots=True)
class Call:
    """One chat-completions call, resolved.

    Attributes:
        conversation: System prompt, history and new input.
        choice: Model and profile.
        scope: The start of the history's hash chain (key digest, model, system, profile).
        key: The history's key (:func:`.history.history_key`; None for an empty history).
    """

    conversation: Conversation
    choice: ModelChoice
    scope: str
    key: str | None
    structured: Structured | None = None
    """``response_format`` json_schema or json_object (None: text)."""
    filed: bool = True
    """File the session under its new history after the turn (False: a Responses-API call,
    found again by its response id, never by its history)."""

    def create_kwargs(self, settings: Settings) -> dict[str, Any]:
        """``SessionRequest`` arguments of a new session for this call (its output format included)."""
        kwargs = self.choice.create_kwargs(settings, self.conversation.system)
        if self.structured is None:
            return kwargs
        if self.structured.kind == "json_schema":
            return {**kwargs, "output_format": self.structured.output_format}
        field = "system_prompt" if "system_prompt" in kwargs else "append_system_prompt"
        return {**kwargs, field: "\n\n".join(filter(None, [kwargs.get(field), JSON_OBJECT_PROMPT]))}


@dataclass(slots=True)
class Turn:
    """A turn started in a session; :meth:`pieces` yields what it says, as it says it.

    The turn is driven by its own task, so it finishes (and its session is filed)
    even when the caller goes away mid-stream.
    """

    session: Session
    how: How
    _queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)

    async def pieces(self) -> AsyncIterator[Piece]:
        while (piece := await self._queue.get()) is not _END:
            yield piece


class GatewayPool:
    """The gateway's sessions: lookup, claims (one call per session at a time) and filing.

    Args:
        manager: The session manager (sessions are ordinary sessions, origin ``gateway``).
        settings: Allow-list and permission mode of the agent profile.
    """

    def __init__(self, manager: SessionManager, settings: Settings) -> None:
        self.manager = manager
        self._settings = settings
        self._claimed: set[str] = set()
        self._filed_turns: dict[str, int] = {}
        """Session id → its turn count when it was last filed (a different count: another client used it)."""
        self._drivers: dict[asyncio.Task[None], Session] = {}
        """Turn drivers and their sessions (held so they are not collected; each ends with its turn)."""

    async def start(self, call: Call, session_id: str | None = None) -> Turn:
        """Find or make the call's session and start its turn.

        Args:
            session_id: The ``X-Session-Id`` header: continue that session, skip matching.

        Raises:
            GatewayError: 400 bad id, 404 unknown session, 409 that session is busy,
                413 the new input is longer than Claude Code takes (no session is made or
                touched), 429 no session can be made live, 502 the CLI failed to start.
        """
        try:
            check_prompt(call.conversation.input_text(), call.conversation.input_blocks())
            if session_id is not None:
                session = await self.manager.get(session_id)
                await self._settle()  # a turn of that session just answered may still be filing it
                if session.id in self._claimed or session.busy:
                    raise TurnInProgress(session.id)
                _check_format(call, session)
                self._claimed.add(session.id)
                return await self._begin(call, session, "continued", call.conversation.input_blocks())
            key = call.key
            if key is not None:
                await self._settle()
            matched = await self._matched(call, key) if key is not None else None
            return matched or await self._seed(call)
        except SessionError as exc:
            error = from_session_error(exc)
            if isinstance(exc, TurnInProgress):  # the named session exists: say which one is busy
                error.session_id = exc.session_id
            raise error from None

    async def start_new(self, call: Call) -> Turn:
        """Start the call's turn in a new session, seeded from its history (never a matched one).

        Raises:
            GatewayError: As :meth:`start`.
        """
        try:
            check_prompt(call.conversation.input_text(), call.conversation.input_blocks())
            return await self._seed(call)
        except SessionError as exc:
            raise from_session_error(exc) from None

    async def start_in(self, call: Call, session: Session, how: How = "continued") -> Turn:
        """Start the call's turn in ``session`` (e.g. a fork just made).

        Raises:
            GatewayError: 409 the session runs a turn or another call holds it; as :meth:`start`.
        """
        try:
            check_prompt(call.conversation.input_text(), call.conversation.input_blocks())
            if self.holds(session):
                raise TurnInProgress(session.id)
            self._claimed.add(session.id)
            return await self._begin(call, session, how, call.conversation.input_blocks())
        except SessionError as exc:
            error = from_session_error(exc)
            if isinstance(exc, TurnInProgress):
                error.session_id = exc.session_id
            raise error from None

    async def settle(self) -> None:
        """Wait until every turn that has ended has released its session (see :meth:`_settle`)."""
        await self._settle()

    def holds(self, session: Session) -> bool:
        """Whether ``session`` runs a turn or a call of this pool has claimed it."""
        return session.busy or session.id in self._claimed

    async def _settle(self) -> None:
        """Wait for the drivers whose turn has ended but that have not filed its session yet
        (one registry write; at most 5 seconds), so a call that continues a conversation the
        moment its turn ended (its caller went away mid-stream) finds the session filed."""
        ending = [task for task, session in self._drivers.items() if not session.busy]
        if ending:
            await asyncio.wait(ending, timeout=5)

    async def _matched(self, call: Call, key: str) -> Turn | None:
        """The turn started in the idle session filed under ``key``; None when there is none
        or it is busy (then the caller seeds a new one).

        Raises:
            TooManySessions, ServerShuttingDown: It is hibernated and cannot be woken now.
        """
        found = await self.manager.registry.find_alias(NAMESPACE, key)
        if found is None or found in self._claimed:
            return None
        self._claimed.add(found)  # claimed in the same step as the check: no await between them
        try:
            session = await self.manager.get(found)
            if session.busy:
                raise TurnInProgress(found)
            if self._filed_turns.get(found, session.record.turns) != session.record.turns:
                self._claimed.discard(found)
                await self._file(call, found, None)  # its history moved on outside the gateway
                return None
            how: How = "reused" if session.live else "woken"
            return await self._begin(call, session, how, call.conversation.input_blocks())
        except (TooManySessions, ServerShuttingDown):
            self._claimed.discard(found)
            raise
        except SessionError as exc:
            self._claimed.discard(found)
            if not isinstance(exc, TurnInProgress):
                log.info("gateway: session %s filed for a history is gone (%s); seeding a new one", found, exc.detail)
            return None

    async def _seed(self, call: Call) -> Turn:
        conversation = call.conversation
        kwargs = call.create_kwargs(self._settings)
        history, blocks = conversation.history, conversation.input_blocks()
        if not history:
            return await self._begin(call, await self.manager.create(SessionRequest(**kwargs)), "new", blocks)
        if results := [b for b in blocks if b["type"] == "tool_result"]:
            # They answer the history's last tool calls, so they belong in the transcript: a
            # resumed CLI answers calls left open with "interrupted" results of its own, and
            # drops tool results sent as a prompt.
            history = (*history, {"role": "user", "content": results})
            blocks = [b for b in blocks if b["type"] != "tool_result"] or [{"type": "text", "text": CONTINUE}]
        session_id = str(uuid.uuid4())
        scratch = bool(kwargs.get("scratch_cwd"))
        transcript = None
        try:
            cwd = self.manager.scratch_directory(session_id) if scratch else self.manager.config.workspace
            transcript = await write_transcript(session_id, cwd, history)
            session = await self.manager.create(SessionRequest(resume_session_id=session_id, **kwargs))
        except BaseException as exc:
            # No session will ever resume that id: its transcript and scratch directory go
            # (429, shutdown, a failed start, a cancelled call).
            if transcript is not None:
                transcript.unlink(missing_ok=True)
            if scratch:
                self.manager.discard_scratch(session_id)
            if not isinstance(exc, (OSError, TranscriptNotFound, SessionStartError)):
                raise
            log.warning("gateway: seeding session %s natively failed (%s); sending the history in the prompt", session_id, exc)
            session = await self.manager.create(SessionRequest(**kwargs))
            if len(blocks) == 1 and blocks[0]["type"] == "text":
                annotated = [{"type": "text", "text": annotated_prompt(history, blocks[0]["text"])}]
            else:
                annotated = [{"type": "text", "text": annotated_prompt(history, "").rstrip()}, *blocks]
            return await self._begin(call, session, "annotated", annotated)
        return await self._begin(call, session, "seeded", blocks)

    async def _begin(self, call: Call, session: Session, how: How, blocks: list[dict[str, Any]]) -> Turn:
        """Send the input (the session is claimed by this call) and start driving the turn.

        Tool results that no open tool call of the session awaits (it holds none: the
        gateway never ends a turn on one) go as bracketed text; the CLI drops them otherwise.
        """
        self._claimed.add(session.id)
        try:
            blocks = [{"type": "text", "text": annotate(b)} if b["type"] == "tool_result" else b for b in blocks]
            plain = len(blocks) == 1 and blocks[0]["type"] == "text"
            started = await session.send(blocks[0]["text"] if plain else call.conversation.input_text(), None if plain else blocks)
        except BaseException:
            self._claimed.discard(session.id)
            raise
        turn = Turn(session, how)
        task = asyncio.create_task(self._drive(call, turn, started), name=f"gateway-{session.id[:8]}")
        self._drivers[task] = session
        task.add_done_callback(self._drivers.pop)
        return turn

    async def _drive(self, call: Call, turn: Turn, started: Event) -> None:
        session, mapper = turn.session, TurnMapper(call.structured)
        ok = ended = False
        try:
            async for event in turn_events(session, started):
                for piece in mapper.feed(event):
                    turn._queue.put_nowait(piece)
                    ok = ok or isinstance(piece, End)
            # The caller has its answer now; filing (a hash and a registry write) goes on after
            # it, and a call continuing this conversation meanwhile waits for it (_settle).
            ended = self._end(turn, mapper)
            if call.filed:
                await self._file(call, session.id, mapper.reply if ok else None)
                self._filed_turns[session.id] = session.record.turns
        except Exception:
            log.exception("gateway: driving the turn of session %s failed", session.id)
        finally:
            self._claimed.discard(session.id)
            if not ended:
                self._end(turn, mapper)

    @staticmethod
    def _end(turn: Turn, mapper: TurnMapper) -> bool:
        """End the caller's pieces (with a failure first when no result came: the session
        closed, or driving failed). Returns True."""
        if not mapper.done:
            closed = GatewayError(502, "the session closed during the turn", type="server_error", code="session_closed")
            turn._queue.put_nowait(Failure(closed))
        turn._queue.put_nowait(_END)
        return True

    async def _file(self, call: Call, session_id: str, reply: str | None) -> None:
        """File the session under its new history (``reply`` None: the turn failed, under nothing)."""
        registry = self.manager.registry
        if reply is not None:
            conversation = call.conversation
            history = [*conversation.history, *conversation.input, reply_message(reply)]
            new_key = await asyncio.to_thread(history_key, call.scope, history)  # a long history: not on the loop
            assert new_key is not None
            await registry.put_alias(NAMESPACE, new_key, session_id, replace=True)
            return
        for alias in await registry.aliases_of(NAMESPACE, session_id):
            await registry.drop_alias(NAMESPACE, alias)


def _check_format(call: Call, session: Session) -> None:
    """A ``json_schema`` call continuing a named session needs that session's own schema
    (the CLI takes its output format when it starts).

    Raises:
        GatewayError: 400 naming ``response_format``.
    """
    wanted = call.structured.output_format if call.structured is not None else None
    if wanted is not None and session.spec.output_format != wanted:
        raise GatewayError(
            400, "response_format: this session was not started with this json_schema; a new conversation (without "
            "X-Session-Id) can use it", param="response_format",
        )


__all__ = ["NAMESPACE", "Call", "GatewayPool", "Turn"]
