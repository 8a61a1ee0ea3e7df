"""Responses-API calls mapped onto sessions: new, continued, or forked; stored by response id.

* Without ``previous_response_id``: a new session, seeded natively from the input's
  earlier turns when it holds any (as the chat gateway seeds; :meth:`..pool.GatewayPool.start_new`).
* With it: the response's session continues (woken if hibernated) when that response is
  still the session's latest (no turn ran in it since) and no other call holds it.
  Otherwise — another turn followed, one runs now, or ``text.format`` asks for another
  JSON schema than the session's — the session's transcript is forked at that response's
  last message (:func:`...sessions.forks.fork_transcript`) and the turn runs in the fork,
  so two continuations of one response never interleave. A new session or fork takes the
  request's ``model`` and ``instructions``; a continued session keeps its own.
* The response is stored (``store`` true, the default) before its last event is sent, so a
  caller continuing it at once finds it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ...sessions import SessionError, SessionManager, SessionRequest
from ...sessions.forks import fork_transcript, last_message_uuid
from ...sessions.session import Session
from ...settings import Settings
from ...store import ResponseRecord, utcnow
from ..errors import GatewayError, bad_request, from_session_error
from ..history import scope
from ..mapping import End, Failure
from ..models import ModelChoice
from ..pool import Call, GatewayPool, Turn
from ..structured import parse_format
from . import items
from .events import ResponseBuilder
from .protocol import ResponseCreateRequest

log = logging.getLogger(__name__)
RESPONSE_ID = re.compile(r"^resp_[A-Za-z0-9]{1,60}$")
_END = object()


def not_found(response_id: str, param: str | None = None) -> GatewayError:
    return GatewayError(404, f"no stored response with id {response_id[:80]!r}", code="response_not_found", param=param)


@dataclass(slots=True)
class Running:
    """A call whose turn runs: :meth:`events` yields its stream events until the end;
    :attr:`builder` holds the response (final once the events have ended)."""

    session_id: str
    builder: ResponseBuilder
    failure: GatewayError | None = None
    _queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        while (event := await self._queue.get()) is not _END:
            yield event


class ResponsesService:
    """Starts Responses-API turns and keeps their responses.

    Args:
        pool: The gateway's pool (claims, seeding, turn drivers).
        settings: Profiles' defaults.
    """

    def __init__(self, pool: GatewayPool, settings: Settings) -> None:
        self.pool = pool
        self.manager: SessionManager = pool.manager
        self.store = pool.manager.registry.responses
        self._settings = settings
        self._tasks: set[asyncio.Task[None]] = set()

    async def record(self, response_id: str) -> ResponseRecord:
        """The stored response.

        Raises:
            GatewayError: 404 for a malformed or unknown id.
        """
        found = await self.store.get(response_id) if RESPONSE_ID.match(response_id) else None
        if found is None:
            raise not_found(response_id)
        return found

    async def create(self, body: ResponseCreateRequest, choice: ModelChoice, digest: str) -> Running:
        """Start the call's turn.

        Raises:
            GatewayError: 400 bad input, 404 unknown ``previous_response_id`` (or its session is
                gone), 409/429/502/503 as the chat gateway answers them.
        """
        if body.tool_choice not in (None, "auto", "none"):
            raise bad_request("tool_choice: this server never returns function calls; send \"auto\" or \"none\"", "tool_choice")
        stored_input = items.stored_items(body.input)
        conversation = items.conversation(stored_input, body.instructions)
        structured = parse_format(body.text.format if body.text else None, "text.format", nested=False)
        start = scope(digest, choice.name, conversation.system, f"responses|{choice.profile}")
        call = Call(conversation, choice, start, None, structured, filed=False)
        previous = None
        if body.previous_response_id is not None:
            if conversation.history:
                raise bad_request("input: with previous_response_id, send only the new turn (the session holds the rest)", "input")
            previous = await self._previous(body.previous_response_id)
            turn = await self._continue(call, previous)
        else:
            turn = await self.pool.start_new(call)
        echoed = {k: getattr(body, k) for k in ("model", "instructions", "previous_response_id", "temperature", "max_output_tokens", "user")}
        text = {"format": (body.text.format if body.text and body.text.format else {"type": "text"})}
        builder = ResponseBuilder.start(**echoed, store=body.store is not False, metadata=body.metadata or {}, text=text)
        running = Running(turn.session.id, builder)
        task = asyncio.create_task(self._drive(running, turn, stored_input, body.store is not False), name=f"responses-{running.session_id[:8]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return running

    async def _previous(self, response_id: str) -> ResponseRecord:
        try:
            return await self.record(response_id)
        except GatewayError as exc:
            exc.param = "previous_response_id"
            raise

    async def _continue(self, call: Call, previous: ResponseRecord) -> Turn:
        try:
            session = await self.manager.get(previous.session_id)
        except SessionError as exc:
            error = from_session_error(exc)
            error.param = "previous_response_id"
            raise error from None
        await self.pool.settle()
        wanted = call.structured.output_format if call.structured else None
        other_format = wanted is not None and session.spec.output_format != wanted
        if previous.turn == session.record.turns and not other_format and not self.pool.holds(session):
            try:
                return await self.pool.start_in(call, session)
            except GatewayError as exc:
                if exc.status != 409:
                    raise
        return await self.pool.start_in(call, await self._fork(call, session, previous.message_uuid), "forked")

    async def _fork(self, call: Call, session: Session, up_to: str | None) -> Session:
        """A new session holding ``session``'s conversation up to the message ``up_to``."""
        kwargs = call.create_kwargs(self._settings)
        scratch = bool(kwargs.get("scratch_cwd"))

        def target(new_id: str) -> Any:
            return self.manager.scratch_directory(new_id) if scratch else self.manager.config.workspace

        fork_id = None
        try:
            fork_id = await fork_transcript(session.id, session.spec.cwd, up_to, target)
            return await self.manager.create(SessionRequest(resume_session_id=fork_id, **kwargs))
        except SessionError as exc:
            if fork_id is not None and scratch:
                self.manager.discard_scratch(fork_id)
            raise from_session_error(exc) from None

    async def _drive(self, running: Running, turn: Turn, stored_input: list[dict[str, Any]], store: bool) -> None:
        builder = running.builder
        for event in builder.opening():
            running._queue.put_nowait(event)
        try:
            async for piece in turn.pieces():
                if isinstance(piece, (End, Failure)):
                    if isinstance(piece, Failure):
                        piece.error.session_id = running.session_id
                        running.failure = piece.error
                    events = builder.feed(piece)
                    if store:
                        await self._store(builder, turn.session, stored_input)
                else:
                    events = builder.feed(piece)
                for event in events:
                    running._queue.put_nowait(event)
        except Exception:
            log.exception("responses: driving response %s failed", builder.response.id)
        finally:
            if not builder.ended:
                closed = GatewayError(502, "the session closed during the turn", type="server_error", code="session_closed")
                running.failure = closed
                for event in builder.feed(Failure(closed)):
                    running._queue.put_nowait(event)
            running._queue.put_nowait(_END)

    async def _store(self, builder: ResponseBuilder, session: Session, stored_input: list[dict[str, Any]]) -> None:
        response = builder.response
        try:
            uuid = await last_message_uuid(session.id, session.spec.cwd)
            record = ResponseRecord(
                response.id, session.id, session.record.turns, uuid, response.previous_response_id, utcnow(),
                response.model_dump(), stored_input,
            )
            await self.store.put(record)
        except Exception:  # the reply still goes out; the response just cannot be continued or retrieved
            log.exception("responses: storing response %s failed", response.id)


__all__ = ["ResponsesService", "Running", "not_found"]
