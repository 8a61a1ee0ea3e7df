"""Approvals that wait for a person: a permission request outlives its CLI process.

A part of :class:`~.session.Session`. Every pending permission request (a subagent's too:
every node lists it from there) is written to the registry (``Registry.parked``, see
:mod:`..store.parked`) before it is listed, and deleted once answered while its CLI waits.
When the session's CLI must stop with a request of the main agent pending (the server
stops, the session is hibernated), the request is *parked* (a subagent's is denied): the
CLI is killed (``SIGKILL``) before it can write a refusal into its transcript, and the
request stays listed as pending, read from the registry by every node and after restarts
(:meth:`Parking.load_parked`).

How the tool call comes back, with Claude Code's own machinery (measured with the bundled
CLI 2.1.330): a ``PreToolUse`` hook that answers ``permissionDecision: "defer"`` makes the
CLI stop its run and write a ``hook_deferred_tool`` attachment after the call's
``tool_use``; a CLI resumed from such a transcript runs the deferred call at once, on
connect, with no prompt: the ``PreToolUse`` hook fires again for the same ``tool_use_id``,
and on ``allow`` the tool runs, on ``deny`` the agent gets the reason as the call's error
result; the turn then continues ("Continue from where you left off.") to a ``result``. A
request waiting in ``can_use_tool`` cannot be deferred itself, and a CLI stopped
gracefully while one waits answers it with an error result ("Tool permission request
failed: AbortError") and goes on with the turn; a killed one leaves the ``tool_use`` last.
So parking kills the CLI, and a wake writes the attachment the hook would have written
(:func:`deferred_marker`) before the CLI starts; the session's ``PreToolUse`` hook
(:meth:`Parking.pre_tool_use`) then applies the stored answer, or defers again while
there is none.

Answering a parked request (the same routes as a live one) stores the answer in the
registry and, once every parked request of the session is answered, wakes it: a
continuation turn (``turn_started``, the tool's events, ``result``) streams as usual. A
server that stopped after the answer but before the wake was recorded (the record is still
``hibernated``) leaves that to the next one: at start-up it loads every session whose parked
requests are all answered (:func:`.upkeep.resume_parked`), and a continuation begins by ending
an earlier one left open in the event log (``error``, reason ``server_restart``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from claude_agent_sdk import HookMatcher, ResultMessage, project_key_for_directory

from ..store import ParkedRecord
from .deferral import blocks, decision_from, decision_json, deferred_marker, hook_answer
from .errors import SessionError
from .permissions import ParkedRequest, PermissionBroker, PermissionDecision, PermissionRequest
from .takeover import lost_turn

if TYPE_CHECKING:
    from claude_agent_sdk import ClaudeAgentOptions

    from ..store import SessionRecord
    from .events import Event, EventLog, EventType
    from .host import SessionHost
    from .lifecycle import Transitions
    from .options import SessionSpec
    from .owner import ClientOwner

log = logging.getLogger(__name__)

CONTINUATION = "(the turn continues: its permission request was answered)"
"""The ``message`` of the ``turn_started`` event of a turn a parked answer resumes."""
PARKED_REASON = "permission_parked"
"""The ``reason`` of the ``error`` event that ends a turn whose permission request was parked."""
CLOCK_SKEW = 60.0
"""Seconds by which another node's clock may be behind (the event log of an earlier continuation
is read from its oldest parked request's time, less this)."""
WRITE_WAIT = 5.0
"""Seconds parking waits for the CLI to have written the parked calls into its transcript."""


def parkable(request: PermissionRequest | ParkedRequest) -> bool:
    """Whether a live request can be parked: the main agent's (a subagent's call is in a
    transcript of its own), with a tool call to resume."""
    return isinstance(request, PermissionRequest) and request.agent_id is None and bool(request.tool_use_id)


class Parking:
    """The parking part of a session."""

    id: str
    spec: SessionSpec
    record: SessionRecord
    events: EventLog
    permissions: PermissionBroker
    _host: SessionHost
    _owner: ClientOwner | None
    _turn_running: bool
    _parking: bool
    _continuing: asyncio.Task[None] | None
    _transitions: Transitions
    _uses: int
    fenced: bool
    _writes: set[asyncio.Task[Any]]
    """Registry writes under way (referenced so that they are not collected before they end)."""
    turn_event_id: int | None
    turn_message: str | None
    turn_started: Event | None

    if TYPE_CHECKING:  # the session's own

        def _use(self) -> contextlib.AbstractAsyncContextManager[None]: ...
        def _publish(self, type: EventType, /, **data: Any) -> Event: ...
        def _end_turn(self, type: EventType, /, **data: Any) -> None: ...
        def _status_changed(self) -> None: ...
        def _ensure_open(self) -> None: ...
        async def _stop_process(self, reason: str, message: str, park: bool = False) -> None: ...
        @property
        def live(self) -> bool: ...

    async def park(self) -> bool:
        """Stop the process now if a permission request waits, parking it (server shutdown).

        Returns:
            Whether the session was stopped.
        """
        await self._transitions.settle()
        if self._owner is None or not self.permissions.unanswered():
            return False
        await self._transitions.run(self._stop_process("server_shutdown", "The server is shutting down", park=True))
        return True

    async def suspend(self, reason: str, message: str) -> None:
        """Stop the process whatever it is doing (server shutdown): pending permissions
        are parked (see :mod:`.parking`), a running turn ends with ``reason``; the session is hibernated."""
        await self._transitions.settle()
        if self._owner is not None:
            await self._transitions.run(self._stop_process(reason, message, park=True))

    @property
    def waiting_only(self) -> bool:
        """True when the session's process only waits for a person: a turn waits on permission
        requests that can all be parked, and no caller is inside (idle hibernation parks them)."""
        unanswered = self.permissions.unanswered()
        return (self._owner is not None and bool(unanswered) and self._uses == 0 and self._transitions.current is None
                and all(parkable(r) for r in unanswered))

    @property
    def parked_waiting(self) -> bool:
        """True while a parked request of the session has no answer."""
        return any(p.decision is None for p in self.permissions.parked.values())

    # -- the registry ----------------------------------------------------------

    async def _request_durable(self, request: PermissionRequest) -> None:
        """Before a request is listed: its event is durable, and its registry row (every node lists
        it from there; only the main agent's can be parked, see :func:`parkable`)."""
        await self.events.wait_durable()
        record = ParkedRecord(request.request_id, self.id, request.tool_use_id, datetime.now(UTC), request.to_dict())
        await self._host.registry.parked.put(record)
        if request.resolved and request.request_id not in self.permissions.parked:  # answered while being written
            await self._host.registry.parked.delete([request.request_id])

    def _request_resolved(self, request: PermissionRequest, decision: PermissionDecision) -> None:
        """A live request was answered (or ended): its registry row goes (not a fenced session's:
        the node holding its lease now owns the row)."""
        if not self.fenced:
            self._in_background(self._host.registry.parked.delete([request.request_id]), "forgetting an answered request")

    async def load_parked(self) -> None:
        """Read the session's parked requests from the registry (a session with no CLI here:
        another node or an earlier process may have parked or answered them); answers
        given elsewhere wake it, and an unanswered one older than the parked timeout is denied."""
        if self.live:
            return
        records = await self._host.registry.parked.of_session(self.id, parked_only=True)  # not those a CLI waits on
        timeout = self._host.config.parked_permission_timeout
        now = datetime.now(UTC)
        parked: dict[str, ParkedRequest] = {}
        for record in records:
            known = self.permissions.parked.get(record.request_id)
            decision = decision_from(record.decision) or (known.decision if known is not None else None)  # (its write may be under way)
            if decision is None and timeout and (now - record.created_at).total_seconds() > timeout:
                decision = PermissionDecision(False, message=f"No answer to the permission request within {timeout:g} s", reason="timeout")
                if not await self._host.registry.parked.answer(record.request_id, decision_json(decision)):
                    continue  # answered meanwhile: read again next time
                self._publish("permission_resolved", request_id=record.request_id, tool_use_id=record.tool_use_id,
                              allowed=False, applied_suggestions=False, reason="timeout", message=decision.message)
            parked[record.request_id] = ParkedRequest(record.request, decision, marked=True)
        self.permissions.parked = parked
        self._status_changed()
        if parked and not self.parked_waiting and not self._turn_running:
            self._resume_parked()

    # -- parking and resuming --------------------------------------------------

    def _park_on_stop(self) -> bool:
        """Whether a stop under way parks the live requests (the main agent's, with a tool call)."""
        return self._parking and any(parkable(r) for r in self.permissions.unanswered())

    async def _calls_written(self) -> None:
        """Before the CLI is killed: wait (up to :data:`WRITE_WAIT` s) until the transcript store
        holds the ``tool_use`` of every request being parked. Claude Code writes its transcript
        and mirrors it in batches: a call it asks about may not be written yet (measured: a
        kill within a second of the request lost it); lines only on this disk are copied in."""
        wanted = {r.tool_use_id for r in self.permissions.unanswered() if parkable(r)}
        key = {"project_key": project_key_for_directory(self.spec.cwd), "session_id": self.id}
        store = self._host.transcripts.store
        deadline = asyncio.get_running_loop().time() + WRITE_WAIT
        while True:
            with contextlib.suppress(Exception):  # no local copy yet, or the registry is away
                await self._host.transcripts.catch_up(self.id, self.spec.cwd)
                entries = await store.load(key) or []
                written = {b.get("id") for e in entries for b in blocks(e) if b.get("type") == "tool_use"}
                if wanted <= written:
                    return
            if asyncio.get_running_loop().time() >= deadline:
                log.warning("session %s: parking before the CLI wrote every parked call", self.id)
                return
            await asyncio.sleep(0.2)

    async def _mark_parked(self) -> None:
        """After a stop that parked requests: the registry marks them parked (listed by every node)."""
        unmarked = [rid for rid, parked in self.permissions.parked.items() if not parked.marked]
        if not unmarked:
            return
        try:
            await self._host.registry.parked.park(unmarked, datetime.now(UTC))
        except Exception as exc:  # the registry is away: listed by this node only
            log.warning("session %s: parked requests not marked in the registry: %s", self.id, exc)
            return
        for rid in unmarked:
            if (parked := self.permissions.parked.get(rid)) is not None:
                parked.marked = True

    def _parked_answer(self, parked: ParkedRequest) -> None:
        """``respond`` answered a parked request: store it; once none waits, continue the turn."""
        assert parked.decision is not None
        self._in_background(self._store_answer(parked), "storing a parked answer")

    async def _store_answer(self, parked: ParkedRequest) -> None:
        assert parked.decision is not None
        await self._host.registry.parked.answer(parked.request_id, decision_json(parked.decision))
        if not self.parked_waiting and not self._turn_running and not self.live:
            self._resume_parked()

    def _resume_parked(self) -> None:
        if self._continuing is None or self._continuing.done():
            self._continuing = asyncio.create_task(self._continue(), name=f"parked-{self.id[:8]}")

    async def _continue(self) -> None:
        """Wake the session for the turn its parked requests held: the CLI runs the deferred
        call itself on connect (the hook applies the answer) and the turn goes on to its result."""
        if self._turn_running or self.parked_waiting:
            return
        await self._prepare_parked()  # a call that cannot be resumed is resolved now: no turn for it
        if not self.permissions.parked or self._turn_running:
            return
        await self._end_lost_continuation()
        if self._turn_running:
            return
        self._turn_running = True
        started = self._publish("turn_started", message=CONTINUATION)
        self.turn_event_id, self.turn_message, self.turn_started = started.id, CONTINUATION, started
        self._host.changed(self, False)  # type: ignore[arg-type]
        try:
            async with self._use():
                pass
        except SessionError as exc:
            if self._turn_running:
                self._end_turn("error", message=f"could not wake the session: {exc.detail}", reason="wake_failed")

    async def _end_lost_continuation(self) -> None:
        """End the turn of an earlier continuation whose server stopped before its wake was
        recorded: its ``turn_started`` is in the event log, but the record stayed
        ``hibernated``, so recovery (which ends the turns of ``live`` records) left it open.
        The log is read from the oldest parked request on."""
        try:
            since = min(datetime.fromisoformat(str(p.request.get("created_at"))).timestamp() for p in self.permissions.parked.values())
        except ValueError:  # no parked request, or one without a readable time
            return
        if (await lost_turn(self._host.registry, self.id, 0, since=since - CLOCK_SKEW)).running and not self._turn_running:
            self._publish("error", message="the server stopped before the turn's process started", reason="server_restart")

    async def _prepare_parked(self) -> None:
        """Before a CLI starts: write the deferral of each parked call into the transcript; a
        call that cannot be resumed is resolved (``lost``) and forgotten."""
        if not self.permissions.parked:
            return
        store = self._host.transcripts.store
        key = {"project_key": project_key_for_directory(self.spec.cwd), "session_id": self.id}
        await store.flush()
        entries = list(await store.load(key) or [])
        markers, lost = [], []
        for parked in list(self.permissions.parked.values()):
            try:
                marker = deferred_marker(entries, str(parked.tool_use_id), self.spec.permission_mode)
            except LookupError as exc:
                log.warning("session %s: parked request %s cannot be resumed: %s", self.id, parked.request_id, exc)
                lost.append(parked)
                continue
            if marker is not None:
                markers.append(marker)
                entries.append(marker)
        if markers:
            await store.write_now(key, markers)
        for parked in lost:
            self.permissions.parked.pop(parked.request_id, None)
            if parked.decision is None:
                message = "The tool call could not be resumed after its process stopped"
                self._publish("permission_resolved", request_id=parked.request_id, tool_use_id=parked.tool_use_id,
                              allowed=False, applied_suggestions=False, reason="lost", message=message)
        if lost:
            await self._host.registry.parked.delete([p.request_id for p in lost])

    def hooks(self, options: ClaudeAgentOptions) -> None:
        """Give the options the ``PreToolUse`` hook that applies parked answers (only while some are kept)."""
        if self.permissions.parked:
            hooks = dict(options.hooks or {})
            hooks["PreToolUse"] = [*hooks.get("PreToolUse", []), HookMatcher(matcher=None, hooks=[self.pre_tool_use])]
            options.hooks = hooks  # type: ignore[assignment]

    async def pre_tool_use(self, data: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        """The ``PreToolUse`` hook: a parked call gets its stored answer, or is deferred again
        while it has none; any other call goes on to the usual permission check."""
        parked = next((p for p in self.permissions.parked.values() if tool_use_id and p.tool_use_id == tool_use_id), None)
        if parked is None:
            return {}
        if parked.decision is not None:
            self.permissions.parked.pop(parked.request_id, None)
            self._in_background(self._host.registry.parked.delete([parked.request_id]), "forgetting an applied answer")
        return hook_answer(parked.decision)

    def parked_result(self, message: Any) -> bool:
        """A ``result`` of a run the hook deferred again (a wake while a parked request waits):
        it ends a running turn as parked; True when the message is handled here."""
        if not isinstance(message, ResultMessage) or message.deferred_tool_use is None:
            return False
        if self._turn_running:
            self._end_turn("error", message="The turn waits for an answer to its permission request", reason=PARKED_REASON)
        return True

    def _in_background(self, work: Any, what: str) -> None:
        """Run a registry write without waiting for it (kept referenced until done; a failure is logged)."""
        task = asyncio.create_task(work)
        self._writes.add(task)

        def done(task: asyncio.Task[Any]) -> None:
            self._writes.discard(task)
            if not task.cancelled() and (exc := task.exception()) is not None:
                log.warning("session %s: %s failed: %s", self.id, what, exc)

        task.add_done_callback(done)

