"""One session: a durable record whose Claude Code process comes and goes.

A :class:`Session` is addressed by Claude Code's own session id. Its record
(registry), spec and event log outlive its CLI process: a session is *live*
while a :class:`~.owner.ClientOwner` task holds an SDK client, and
*hibernated* when none does. Anything that needs the CLI (a turn, a model or
mode switch, ``server_info``) wakes it first by resuming its transcript with
its stored spec; clients see ``status`` events ``waking`` then ``connected``.

Transitions (start, wake, hibernate, close) run one at a time as the session's
``_transition`` task; callers wait on it, so concurrent requests share one wake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime
from typing import Any, Literal

from claude_agent_sdk import SystemMessage

from ..store import SessionRecord
from .convert import events_for
from .errors import CommandRejected, SessionError, SessionNotFound, SessionStartError, TurnInProgress
from .events import Event, EventLog, EventType
from .host import SessionHost
from .options import NO_HUMAN_MESSAGE, PromptFiles, SessionSpec
from .owner import ClientClosed, ClientOwner, Operation
from .permissions import PermissionBroker
from .prompt import check_prompt
from .record import add_result, record_entry

log = logging.getLogger(__name__)

SessionStatus = Literal["connecting", "waking", "connected", "running", "waiting_permission", "hibernated", "closed"]
TITLE_LENGTH = 80
"""Characters of the first user message kept as the session's title."""


async def _user_message(content: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """One user message with ``content`` blocks, as the SDK's streaming prompt."""
    yield {"type": "user", "message": {"role": "user", "content": content}, "parent_tool_use_id": None}


class Session:
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
        self.permissions = PermissionBroker(self._publish, permission_timeout)
        if spec.permission_policy == "deny":
            self.permissions.refuse("policy", NO_HUMAN_MESSAGE)
        self._host = host
        self._owner: ClientOwner | None = None
        self._transition: asyncio.Task[None] | None = None
        self._close_task: asyncio.Task[None] | None = None
        self._starting: Literal["connecting", "waking"] | None = None
        self._stopping: tuple[str, str] | None = None
        self._turn_active = False
        self.turn_event_id: int | None = None
        """The id of the running turn's ``turn_started`` event; None while no turn runs."""
        self._closing = False
        self._closed = False
        self._uses = 0
        self._process_cost = 0.0
        self._reported_status: SessionStatus = self.status
        self._stderr: deque[str] = deque(maxlen=40)

    # -- state ---------------------------------------------------------------

    @property
    def status(self) -> SessionStatus:
        if self._closed:
            return "closed"
        if self._starting is not None:
            return self._starting
        if self._owner is None:
            return "hibernated"
        if not self._owner.connected:
            return "connecting"
        if self.permissions.pending():
            return "waiting_permission"
        return "running" if self._turn_active else "connected"

    @property
    def busy(self) -> bool:
        """True while a turn runs or a permission request waits (AgentCore ``HealthyBusy``)."""
        return self._turn_active or bool(self.permissions.pending())

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def live(self) -> bool:
        """True while the session holds (or is starting) a CLI process."""
        return self._owner is not None

    @property
    def idle(self) -> bool:
        """True when its process could be stopped now: connected, no turn, no caller inside."""
        return self.status == "connected" and self._uses == 0 and self._transition is None

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

    def snapshot(self) -> dict[str, Any]:
        """The session's list entry (see :func:`record_entry`)."""
        return record_entry(self.record, self.status)

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Start a process for a session that has none (new, revived): its status
        goes ``connecting`` → ``connected``.

        Raises:
            TooManySessions: No live slot can be had.
            SessionStartError: The CLI could not start; its stderr is in the error.
        """
        await self._run(self._start_process("connecting"))

    async def hibernate(self) -> bool:
        """Stop the CLI process; the session stays, and the next use wakes it.

        Returns:
            False if it was already hibernated.

        Raises:
            TurnInProgress: A turn runs, a permission request waits, or a call is using the CLI.
            SessionNotFound: The session is closed.
        """
        while self._transition is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._transition)
        self._ensure_open()
        if self.busy or self._uses:
            raise TurnInProgress(self.id)
        if self._owner is None:
            return False
        await self._run(self._stop_process("session_closed", "The session was hibernated"))
        return True

    def begin_hibernate(self, reason: str = "session_closed", message: str = "The session was hibernated") -> asyncio.Task[None]:
        """Start hibernating now (no await before the transition is claimed); the
        caller has checked :attr:`idle` or accepts that a running turn ends."""
        return self._begin(self._stop_process(reason, message))

    @property
    def closing(self) -> bool:
        """True from :meth:`begin_close` until the session is closed."""
        return self._closing and not self._closed

    def begin_close(self) -> asyncio.Task[None]:
        """Close for good in the background (see :meth:`close`); from now on the session
        takes no calls (SessionNotFound). Returns the closing task."""
        if self._close_task is None:
            self._closing = True
            self._close_task = asyncio.create_task(self.close(), name=f"close-{self.id[:8]}")
        return self._close_task

    async def close(self) -> None:
        """Close for good: deny pending permissions, stop the CLI, end the event log. Idempotent."""
        if self._closed:
            return
        self._closing = True
        while self._transition is not None:
            with contextlib.suppress(Exception):  # its own caller reports it; a cancel of ours propagates
                await asyncio.shield(self._transition)
        if self._owner is not None:
            await self._run(self._stop_process("session_closed", "The session was closed"))
        if not self._closed:
            self._finish_close()

    async def suspend(self, reason: str, message: str) -> None:
        """Stop the process whatever it is doing (server shutdown): pending permissions
        are denied with ``reason`` and a running turn ends; the session is hibernated."""
        while self._transition is not None:
            with contextlib.suppress(Exception):  # its own caller reports it; a cancel of ours propagates
                await asyncio.shield(self._transition)
        if self._owner is not None:
            await self._run(self._stop_process(reason, message))

    def refuse_permissions(self, reason: str, message: str) -> None:
        """Deny pending and future permission requests (server shutdown)."""
        self.permissions.refuse(reason, message)

    # -- operations (called by request handlers) -----------------------------

    async def send(self, message: str, content: list[dict[str, Any]] | None = None) -> Event:
        """Start a turn with ``message`` (waking the session first); returns its
        ``turn_started`` event. The turn's events follow it in :attr:`events`; it
        ends with a ``result`` or ``error`` event.

        Args:
            message: The prompt (also the title and the ``turn_started`` message).
            content: Send these Anthropic content blocks (text, image, tool_result)
                as the user message instead of ``message`` alone.

        Raises:
            PromptTooLarge: The prompt is longer than Claude Code takes (nothing is sent,
                the session stays as it was).
            TurnInProgress: A turn is already running.
            SessionNotFound: The session is closed.
            TooManySessions: It is hibernated and no live slot can be had.
        """
        check_prompt(message, content)
        self._ensure_open()
        self._host.admit(self)
        if self._turn_active:
            raise TurnInProgress(self.id)
        async with self._use():
            if self._turn_active:
                raise TurnInProgress(self.id)
            self._turn_active = True
            if self.record.title is None:
                self.record.title = " ".join(message.split())[:TITLE_LENGTH] or None
            started = self._publish("turn_started", message=message)
            self.turn_event_id = started.id
            self._host.changed(self, False)
            try:
                prompt: Any = message if content is None else _user_message(content)
                await self._call("query", lambda client: client.query(prompt))
            except SessionError as exc:
                self._end_turn("error", message=f"could not send the message: {exc.detail}", reason="send_failed")
                if isinstance(exc, SessionNotFound):
                    raise
        return started

    async def interrupt(self) -> bool:
        """Stop the running turn: deny pending permissions and interrupt the CLI.

        Returns:
            True if a turn was running.
        """
        self._ensure_open()
        if not self._turn_active:
            return False
        self.permissions.deny_all("interrupted", "The user interrupted the turn")
        await self._call("interrupt", lambda client: client.interrupt())
        return True

    async def set_model(self, model: str | None) -> None:
        """Switch the model for the next requests (None: the CLI's default); wakes the session."""
        async with self._use():
            await self._call("set_model", lambda client: client.set_model(model))
        self.spec.model = self.model = model
        self.record.spec = self.spec.to_json()
        self._host.changed(self, False)

    def set_title(self, title: str) -> None:
        """Rename the session (the registry keeps it; no wake needed)."""
        self.record.title = " ".join(title.split())[:1000] or None
        self._host.changed(self, False)

    async def set_permission_mode(self, mode: str) -> None:
        """Switch the permission mode (one of the SDK's ``PermissionMode`` values); wakes the session."""
        async with self._use():
            await self._call("set_permission_mode", lambda client: client.set_permission_mode(mode))
        self.spec.permission_mode = mode
        self.record.spec = self.spec.to_json()
        self._host.changed(self, False)

    async def server_info(self) -> dict[str, Any]:
        """The CLI's initialization info (commands, output styles, models, ...); wakes the session."""
        async with self._use():
            return dict(await self._call("server_info", lambda client: client.get_server_info()) or {})

    async def wait_turn_end(self) -> None:
        """Return once no turn runs (at once if none does)."""
        if not self._turn_active:
            return
        async for event in self.events.subscribe(after=self.events.last_id):
            if event.type in ("result", "error") or not self._turn_active:
                return

    # -- transitions ----------------------------------------------------------

    def _begin(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=f"session-{self.id[:8]}")
        self._transition = task

        def done(finished: asyncio.Task[None]) -> None:
            if self._transition is finished:
                self._transition = None
            if not finished.cancelled():
                finished.exception()  # retrieved: the waiters get it; no "never retrieved" warning

        task.add_done_callback(done)
        return task

    async def _run(self, work: Coroutine[Any, Any, None]) -> None:
        await asyncio.shield(self._begin(work))

    async def _ensure_live(self) -> None:
        """Wake the session unless its process is up; share a wake already under way."""
        while True:
            self._ensure_open()
            transition = self._transition
            if transition is None:
                if self._owner is not None and self._owner.running and self._owner.connected:
                    return
                await self._run(self._start_process("waking"))
                continue
            with contextlib.suppress(Exception):
                await asyncio.shield(transition)

    @contextlib.asynccontextmanager
    async def _use(self) -> AsyncIterator[None]:
        """Hold the session live for one operation (it is not hibernated meanwhile)."""
        self._uses += 1
        try:
            await self._ensure_live()
            yield
        finally:
            self._uses -= 1

    async def _start_process(self, phase: Literal["connecting", "waking"]) -> None:
        # The slot first: a refused start (TooManySessions) announces nothing and counts no wake.
        stopping = self._host.reserve(self)
        self._starting = phase
        self._status_changed()
        try:
            if stopping is not None:
                with contextlib.suppress(Exception):  # the other session's failure is its caller's to report
                    await asyncio.shield(stopping)
        except BaseException:  # cancelled while the other session stopped: give the slot back
            self._starting = None
            self._host.release(self)
            self._status_changed()
            raise
        files = PromptFiles()
        try:
            if phase == "waking":
                self.spec.resume = await self._host.has_transcript(self)
            self._stderr.clear()
            options = self._host.options(self, self.permissions.can_use_tool, self._stderr.append, files)
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
            stderr = self._stderr_text() or getattr(exc, "stderr", None)
            raise SessionStartError(str(exc).split("\n")[0], stderr, getattr(exc, "exit_code", None)) from exc
        except BaseException:
            if self._owner is not None:
                await self._owner.close()
            self._owner = None
            self._host.release(self)
            raise
        finally:
            files.remove()  # the CLI has read them (or never will)
            self._starting = None
        # A resumed CLI reports the transcript's cost so far in its running total.
        self._process_cost = self.record.cost_usd if self.spec.resume else 0.0
        self._status_changed()

    async def _stop_process(self, reason: str, message: str) -> None:
        owner = self._owner
        if owner is None:
            return
        self._stopping = (reason, message)
        await owner.close()
        self._process_gone(owner, None)

    def _process_gone(self, owner: ClientOwner, crash: str | None) -> None:
        """The process ended, asked to (``crash`` None) or not: deny what waits, end a
        running turn, free the slot; the session is hibernated (or closed)."""
        if self._owner is not owner:
            return
        reason, message = self._stopping or ("session_closed", "The session's process stopped")
        self._stopping = None
        if crash is not None:
            stderr = self._stderr_text()
            message = f"the agent process died ({crash}{': ' + stderr if stderr else ''})"
            reason = "process_exited"
            log.warning("session %s: %s", self.id, message)
        self.permissions.deny_all("session_closed" if crash else reason, message)
        if self._turn_active:
            self._end_turn("error", message=message, reason=reason)
        self._owner = None
        self._host.release(self)
        if self._closing:
            self._finish_close()
        else:
            self._status_changed()

    def _finish_close(self) -> None:
        self._closed = True
        self._status_changed()
        self.events.close()

    # -- internals ------------------------------------------------------------

    def _ensure_open(self) -> None:
        if self._closed or self._closing:
            raise SessionNotFound(self.id)

    async def _call(self, name: str, operation: Operation) -> Any:
        """Run an operation through the owner, in domain errors.

        Raises:
            SessionNotFound: The process stopped first.
            CommandRejected: The CLI answered the control request with an error.
        """
        owner = self._owner
        if owner is None:
            raise SessionNotFound(self.id)
        try:
            return await owner.call(operation)
        except ClientClosed:
            raise SessionNotFound(self.id) from None
        except Exception as exc:
            raise CommandRejected(name, str(exc) or type(exc).__name__) from exc

    def _publish(self, type: EventType, /, **data: Any) -> Event:
        event = self.events.append(type, **data)
        self.record.last_activity = datetime.now(UTC)
        self._status_changed()
        return event

    def _status_changed(self) -> None:
        status = self.status
        if status == self._reported_status:
            return
        self._reported_status = status
        self.record.status = status
        self.record.state = "closed" if status == "closed" else "hibernated" if status == "hibernated" else "live"
        self.events.append("status", status=status)
        try:
            self._host.changed(self, True)
        except Exception:  # a listener must never break the session
            log.exception("status listener failed")

    def _end_turn(self, type: EventType, /, **data: Any) -> None:
        self._turn_active = False
        self.turn_event_id = None
        if type == "result":
            self._process_cost, data["turn_cost_usd"] = add_result(self.record, data, self._process_cost)
            data["session_cost_usd"] = round(self.record.cost_usd, 6)
        self._publish(type, **data)
        self._host.changed(self, False)

    def _stderr_text(self) -> str:
        return "\n".join(self._stderr)

    def _on_message(self, message: Any) -> None:
        if isinstance(message, SystemMessage) and message.subtype == "init":
            self.model = message.data.get("model") or self.model
            return
        for type, data in events_for(message):
            if type == "result":
                self._end_turn("result", **data)
            else:
                self._publish(type, **data)  # type: ignore[arg-type]
