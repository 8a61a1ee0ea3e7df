"""One session: a durable record whose Claude Code process comes and goes.

A :class:`Session` is addressed by Claude Code's own session id. Its record
(registry), spec and event log outlive its CLI process: a session is *live*
while a :class:`~.owner.ClientOwner` task holds an SDK client, and
*hibernated* when none does. Anything that needs the CLI (a turn, a model or
mode switch, ``server_info``) wakes it first by resuming its transcript with
its stored spec; clients see ``status`` events ``waking`` then ``connected``.

Its life is one :class:`~.lifecycle.Phase` (starting, waking, live, stopping,
hibernated, closing, closed) plus its turn state; every phase change goes through
:meth:`Session._enter`. Transitions (start, wake, hibernate) run one at a time as
tasks of its :class:`~.lifecycle.Transitions`; callers wait on them, so concurrent
requests share one wake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from ..store import SessionRecord
from .errors import SessionMoved, SessionNotFound, SessionStartError, TurnInProgress
from .events import Event, EventLog, EventType
from .host import SessionHost
from .lifecycle import MOVES, Phase, SessionStatus, Transitions, status_of
from .operations import SessionOperations
from .options import NO_HUMAN_MESSAGE, PromptFiles, SessionSpec
from .owner import ClientOwner
from .deferral import kill_process
from .dormancy import Dormancy
from .fencing import SessionFencing
from .parking import PARKED_REASON, Parking, parkable
from .permissions import PermissionBroker
from .mcp import McpControl
from .queue import MessageQueue
from .rewind import Rewinding
from .record import record_entry

log = logging.getLogger(__name__)


class Session(SessionOperations, MessageQueue, Rewinding, McpControl, Parking, SessionFencing, Dormancy):
    """A Claude Code session: record, spec, events and permissions, and a process when live.

    Args:
        spec: What it runs with (``resume`` tells whether a transcript exists).
        record: Its registry record (mutated in place; the host persists it).
        events: Its event log.
        host: The manager.
        permission_timeout: Seconds a permission request waits.
    """

    def __init__(self, spec: SessionSpec, record: SessionRecord, events: EventLog, host: SessionHost, permission_timeout: float) -> None:
        self.id = spec.session_id
        self.spec = spec
        self.record = record
        self.events = events
        self.model: str | None = spec.model
        """The model in use (the CLI's answer when it names one)."""
        self.permissions = PermissionBroker(
            self._publish, permission_timeout, durable=self._request_durable, listed=lambda: self._status_changed(),
            resolved=self._request_resolved, parked_answer=self._parked_answer,
        )
        self._parking = False
        """The stop under way parks pending requests (:mod:`.parking`) rather than denying them."""
        self._continuing: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[Any]] = set()
        if spec.permission_policy == "deny":
            self.permissions.refuse("policy", NO_HUMAN_MESSAGE)
        self._host = host
        self._phase = Phase.HIBERNATED
        self._turn_running = False
        self.turn_event_id: int | None = None
        """The id of the running turn's ``turn_started`` event; None while no turn runs."""
        self.turn_message: str | None = None
        """The running turn's prompt; None while no turn runs."""
        self.turn_started: Event | None = None
        """The running turn's ``turn_started`` event; None while no turn runs."""
        self._waiters: dict[str, asyncio.Future[Event]] = {}
        self.steering: list[str] = []
        self.sent_results: set[str] = set()
        """Ids of tool results this server sent in a prompt, until the CLI has echoed them."""
        self._next_task: asyncio.Task[None] | None = None
        self._owner: ClientOwner | None = None
        """The task holding its SDK client (STARTING or WAKING once connecting, LIVE, STOPPING, maybe CLOSING)."""
        self._stop_reason: tuple[str, str] | None = None
        """``(reason, message)`` given to what the stop ends (pending permissions, a running turn)."""
        self._transitions = Transitions(f"session-{self.id[:8]}")
        self._close_task: asyncio.Task[None] | None = None
        self._uses = 0
        """Callers inside :meth:`_use` (the session is not idle meanwhile)."""
        self._process_cost = 0.0
        self._reported_status: SessionStatus = self.status
        self._stderr: deque[str] = deque(maxlen=40)

    # -- state ---------------------------------------------------------------

    @property
    def phase(self) -> Phase:
        """Where the session is in its life."""
        return self._phase

    @property
    def status(self) -> SessionStatus:
        owner = self._owner
        process = "none" if owner is None else "connected" if owner.connected else "connecting"
        status = status_of(self._phase, process=process, waiting=bool(self.permissions.pending()), turn_running=self._turn_running)
        return "waiting_permission" if status == "hibernated" and self.parked_waiting else status

    @property
    def busy(self) -> bool:
        """True while a turn runs or a permission request waits (AgentCore ``HealthyBusy``)."""
        return self._turn_running or bool(self.permissions.pending())

    @property
    def closed(self) -> bool:
        return self._phase is Phase.CLOSED

    @property
    def live(self) -> bool:
        """True while the session holds (or is starting) a CLI process."""
        return self._owner is not None

    @property
    def idle(self) -> bool:
        """True when its process could be stopped now: connected, no turn, no caller inside."""
        return self.status == "connected" and self._uses == 0 and self._transitions.current is None

    @property
    def cwd(self) -> str:
        return str(self.spec.cwd)

    @property
    def permission_mode(self) -> str:
        return self.spec.permission_mode

    @property
    def last_activity(self) -> float:
        """Unix time (seconds) of the session's last event."""
        return self.record.last_activity.timestamp()

    @property
    def node(self) -> str | None:
        """The node running its CLI: this one while live, else None."""
        return self._host.node_id if self.live else None

    def snapshot(self) -> dict[str, Any]:
        """The session's list entry (see :func:`record_entry`), with its :attr:`node`."""
        return {**record_entry(self.record, self.status), "node": self.node}

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Start a process for a session that has none (new, revived): its status
        goes ``connecting`` → ``connected``.

        Raises:
            TooManySessions: No live slot can be had.
            SessionStartError: The CLI could not start; its stderr is in the error.
        """
        await self._transitions.run(self._start_process(Phase.STARTING))

    async def hibernate(self) -> bool:
        """Stop the CLI process; the session stays, and the next use wakes it.

        Returns:
            False if it was already hibernated.

        Raises:
            TurnInProgress: A turn runs, a permission request waits, or a call is using the CLI.
            SessionNotFound: The session is closed.
        """
        await self._transitions.settle()
        self._ensure_open()
        if self.busy or self._uses:
            raise TurnInProgress(self.id)
        if self._owner is None:
            return False
        await self._transitions.run(self._stop_process("session_closed", "The session was hibernated", park=True))
        return True

    def begin_hibernate(self, reason: str = "session_closed", message: str = "The session was hibernated") -> asyncio.Task[None]:
        """Start hibernating now (no await before the transition is claimed); the
        caller has checked :attr:`idle` or accepts that a running turn ends (a pending
        permission request is parked)."""
        return self._transitions.begin(self._stop_process(reason, message, park=True))

    @property
    def closing(self) -> bool:
        """True from :meth:`begin_close` until the session is closed."""
        return self._phase is Phase.CLOSING

    def begin_close(self) -> asyncio.Task[None]:
        """Close for good in the background (see :meth:`close`); from now on the session
        takes no calls (SessionNotFound). Returns the closing task."""
        if self._close_task is None:
            if self._phase is not Phase.CLOSED:
                self._enter(Phase.CLOSING)
            self._close_task = asyncio.create_task(self._close(), name=f"close-{self.id[:8]}")
        return self._close_task

    async def close(self) -> None:
        """Close for good: deny pending permissions, stop the CLI, end the event log. Idempotent;
        a cancelled caller does not stop the closing."""
        await asyncio.shield(self.begin_close())

    async def _close(self) -> None:
        await self._transitions.settle()  # a start under way finishes first
        if self._owner is not None:
            await self._transitions.run(self._stop_process("session_closed", "The session was closed"))
        if self.permissions.parked:
            self.permissions.parked.clear()
            with contextlib.suppress(Exception):  # the registry is away: the rows outlive a closed session, unread
                await self._host.registry.parked.delete_session(self.id)
        if self._phase is not Phase.CLOSED:
            self._finish_close()

    # -- transitions ----------------------------------------------------------

    def _enter(self, phase: Phase) -> None:
        """Move to ``phase`` and report the status that follows: the one place the phase
        changes. A closing session moves on only to CLOSED (a start or stop finishing
        under a close leaves it closing)."""
        if self.fenced:
            return
        if self._phase is Phase.CLOSING and phase is not Phase.CLOSED:
            self._status_changed()
            return
        if phase is not self._phase and phase not in MOVES[self._phase]:
            log.error("session %s: no move from %s to %s", self.id, self._phase, phase)
        self._phase = phase
        self._status_changed()

    async def _ensure_live(self) -> None:
        """Wake the session unless its process is up; share a wake already under way."""
        while True:
            self._ensure_open()
            if self._transitions.current is None:
                if self._owner is not None and self._owner.running and self._owner.connected:
                    return
                await self._transitions.run(self._start_process(Phase.WAKING))
                continue
            await self._transitions.settle()

    @contextlib.asynccontextmanager
    async def _use(self) -> AsyncIterator[None]:
        """Hold the session live for one operation (it is not hibernated meanwhile)."""
        self._uses += 1
        try:
            await self._ensure_live()
            yield
        finally:
            self._uses -= 1

    async def _start_process(self, phase: Phase) -> None:
        """STARTING or WAKING (``phase``), then LIVE; back to HIBERNATED if the start fails."""
        # The lease, then the slot: a refused start (SessionElsewhere, TooManySessions) announces nothing.
        await self._host.lease(self)
        try:
            stopping = self._host.reserve(self)
        except BaseException:
            self._host.unlease(self)
            raise
        self._enter(phase)
        try:
            if stopping is not None:
                with contextlib.suppress(Exception):  # the other session's failure is its caller's to report
                    await asyncio.shield(stopping)
        except BaseException:  # cancelled while the other session stopped: give the slot back
            self._host.release(self)
            self._enter(Phase.HIBERNATED)
            raise
        files = PromptFiles()
        try:
            if phase is Phase.WAKING:
                self.spec.resume = await self._host.has_transcript(self)
            self._stderr.clear()
            await self._prepare_parked()
            options = self._host.options(self, self.permissions.can_use_tool, self._stderr.append, files)
            self.hooks(options)
            owner = ClientOwner(
                self._host.make_client(options),
                on_message=self._on_message,
                on_stop=lambda reason: self._process_gone(owner, reason),
            )
            self._owner = owner
            await owner.start()
        except Exception as exc:
            self._owner = None
            self._host.release(self)
            self._enter(Phase.HIBERNATED)
            stderr = self._stderr_text() or getattr(exc, "stderr", None)
            raise SessionStartError(str(exc).split("\n")[0], stderr, getattr(exc, "exit_code", None)) from exc
        except BaseException:
            if self._owner is not None:
                await self._owner.close()
            self._owner = None
            self._host.release(self)
            self._enter(Phase.HIBERNATED)
            raise
        finally:
            files.remove()  # the CLI has read them (or never will)
        if self._owner is not owner:
            return  # it exited as soon as it connected: the session is hibernated already
        # A resumed CLI reports the transcript's cost so far in its running total.
        self._process_cost = self.record.cost_usd if self.spec.resume else 0.0
        self._enter(Phase.LIVE)

    async def _stop_process(self, reason: str, message: str, park: bool = False) -> None:
        """STOPPING, then HIBERNATED (CLOSED when closing) once the CLI has exited; with
        ``park``, pending requests are parked: the CLI is killed before it can refuse them."""
        owner = self._owner
        if owner is None:
            return
        self._stop_reason = (reason, message)
        self._parking = park
        self._enter(Phase.STOPPING)
        if self._park_on_stop():
            await self._calls_written()  # the CLI writes its transcript in batches: the parked calls first
            owner.kill(kill_process)
        await owner.close()
        await self._mark_parked()
        self._process_gone(owner, None)

    def _process_gone(self, owner: ClientOwner, crash: str | None) -> None:
        """The process ended, asked to (``crash`` None) or not: deny what waits, end a
        running turn, free the slot; the session is hibernated (or closed)."""
        if self._owner is not owner:
            return
        reason, message = self._stop_reason or ("session_closed", "The session's process stopped")
        self._stop_reason = None
        if self._park_on_stop():
            crash = None  # killed to park its requests
            parked = self.permissions.park(parkable)
            log.info("session %s: %d permission request(s) parked", self.id, len(parked))
            reason, message = PARKED_REASON, "The turn waits for an answer to its permission request; it continues once answered"
        self._parking = False
        if crash is not None:
            stderr = self._stderr_text()
            message = f"the agent process died ({crash}{': ' + stderr if stderr else ''})"
            reason = "process_exited"
            log.warning("session %s: %s", self.id, message)
        self.permissions.deny_all("session_closed" if crash else reason, message)
        if self._turn_running:
            self._end_turn("error", message=message, reason=reason)
        self._owner = None
        self._host.release(self)
        if self._phase is Phase.CLOSING:
            self._finish_close()
        else:
            self._enter(Phase.HIBERNATED)

    def _finish_close(self) -> None:
        self.stop_queue()
        self._enter(Phase.CLOSED)
        self.events.close()

    # -- internals ------------------------------------------------------------

    def _ensure_open(self) -> None:
        if self.fenced:
            raise SessionMoved(self.id)
        if self._phase in (Phase.CLOSING, Phase.CLOSED):
            raise SessionNotFound(self.id)

    def _publish(self, type: EventType, /, **data: Any) -> Event:
        if self.fenced or not self._host.lease_current(self):  # nothing of it is this node's to write any more
            return Event(self.events.last_id, type, self.id, data)
        event = self.events.append(type, **data)
        self.record.last_activity = datetime.now(UTC)
        self._status_changed()
        return event

    def _status_changed(self) -> None:
        if self.fenced or not self._host.lease_current(self):
            return
        status = self.status
        parked = status == "waiting_permission" and self._owner is None  # hibernated, its request parked
        state = "closed" if status == "closed" else "hibernated" if status == "hibernated" or parked else "live"
        if status == self._reported_status and state == self.record.state:
            return
        self.record.state = state
        if status != self._reported_status:
            self._reported_status = status
            self.record.status = status
            self.events.append("status", status=status)
        try:
            self._host.changed(self, True)
        except Exception:  # a listener must never break the session
            log.exception("status listener failed")

    def _stderr_text(self) -> str:
        return "\n".join(self._stderr)
