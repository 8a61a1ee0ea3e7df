"""One live session: the task that owns its Claude Agent SDK client, and its handle.

The SDK requires that one task connects, uses and disconnects a
``ClaudeSDKClient`` (its task group lives from ``connect()`` to
``disconnect()``). So each :class:`Session` runs an *owner task* that connects
the client, then loops over three things at once: commands from request
handlers (through a queue, answered through futures), the next SDK message,
and control calls in flight. Control calls (``query``, ``interrupt``,
``set_model``, ...) run as children of the owner while it keeps reading
messages: the SDK buffers only 100 messages, so a control call waiting for its
reply while nobody reads would deadlock. The owner disconnects the client in
its ``finally``, on every path, so no CLI process is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from claude_agent_sdk import ClaudeAgentOptions, ProcessError, SystemMessage

from .convert import events_for
from .errors import CommandRejected, SessionError, SessionNotFound, SessionStartError, TurnInProgress
from .events import Event, EventLog, EventType
from .permissions import PermissionBroker, PermissionDecision

log = logging.getLogger(__name__)

SessionStatus = Literal["connecting", "connected", "running", "waiting_permission", "closed"]
DISCONNECT_TIMEOUT = 10.0
"""Seconds the owner waits for the CLI to exit on close."""


class SDKClient(Protocol):
    """What the server uses of ``claude_agent_sdk.ClaudeSDKClient`` (fakes implement this)."""

    async def connect(self, prompt: Any = None) -> None: ...
    async def disconnect(self) -> None: ...
    async def query(self, prompt: str, session_id: str = "default") -> None: ...
    def receive_messages(self) -> AsyncIterator[Any]: ...
    async def interrupt(self) -> None: ...
    async def set_model(self, model: str | None = None) -> None: ...
    async def set_permission_mode(self, mode: Any) -> None: ...
    async def get_server_info(self) -> dict[str, Any] | None: ...


ClientFactory = Callable[[ClaudeAgentOptions], SDKClient]
OptionsFactory = Callable[[Callable[..., Any], Callable[[str], None]], ClaudeAgentOptions]
"""``options_factory(can_use_tool, stderr) -> ClaudeAgentOptions``."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(slots=True)
class _Command:
    name: str
    args: tuple[Any, ...] = ()
    future: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


async def _next(messages: AsyncIterator[Any]) -> Any:
    return await anext(messages)


class Session:
    """A live Claude Code session, addressed by Claude Code's own session id.

    Args:
        session_id: The UUID the CLI uses (new or resumed).
        options_factory: Builds the SDK options given the broker's callback and a stderr sink.
        client_factory: Makes the SDK client (``ClaudeSDKClient``, or a fake in tests).
        cwd: The session's working directory.
        model: The requested model, or None for the CLI's default.
        permission_mode: The initial permission mode.
        permission_timeout: Seconds a permission request waits.
        event_buffer_size: Events kept for replay.
        on_status: Called with the session whenever its status changes.
    """

    def __init__(
        self,
        session_id: str,
        *,
        options_factory: OptionsFactory,
        client_factory: ClientFactory,
        cwd: str,
        model: str | None,
        permission_mode: str,
        permission_timeout: float,
        event_buffer_size: int = 2000,
        on_status: Callable[[Session], None] = lambda session: None,
    ) -> None:
        self.id = session_id
        self.cwd = cwd
        self.model = model
        self.permission_mode = permission_mode
        self.created_at = _now()
        self.last_activity = self.created_at
        self.idle_since = time.monotonic()
        """Monotonic seconds of the last event (for idle closing)."""
        self.message_count = 0
        self.events = EventLog(session_id, event_buffer_size)
        self.permissions = PermissionBroker(self._publish, permission_timeout)
        self._options_factory = options_factory
        self._client_factory = client_factory
        self._on_status = on_status
        self._commands: asyncio.Queue[_Command] = asyncio.Queue()
        self._owner: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._turn_active = False
        self._closed = False
        self._reported_status: SessionStatus = "connecting"
        self._stderr: deque[str] = deque(maxlen=40)

    # -- state ---------------------------------------------------------------

    @property
    def status(self) -> SessionStatus:
        if self._closed:
            return "closed"
        if self._ready is None or not self._ready.done():
            return "connecting"
        if self.permissions.pending():
            return "waiting_permission"
        return "running" if self._turn_active else "connected"

    @property
    def busy(self) -> bool:
        """True while a turn runs or a permission request waits (AgentCore ``HealthyBusy``)."""
        return self.status in ("running", "waiting_permission")

    @property
    def closed(self) -> bool:
        return self._closed

    def snapshot(self) -> dict[str, Any]:
        """The session's list entry: ids, times (UTC ISO-8601), status, counts, cwd, model."""
        return {
            "session_id": self.id,
            "created_at": self.created_at,
            "last_activity": self.last_activity,
            "status": self.status,
            "message_count": self.message_count,
            "cwd": self.cwd,
            "model": self.model,
            "permission_mode": self.permission_mode,
        }

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Start the owner task and wait until the CLI is connected.

        Raises:
            SessionStartError: The CLI could not start; its stderr is in the error.
        """
        self._ready = asyncio.get_running_loop().create_future()
        self._owner = asyncio.create_task(self._own(), name=f"session-owner-{self.id}")
        try:
            await asyncio.shield(self._ready)
        except asyncio.CancelledError:
            await self.close()
            raise
        self._status_changed()

    async def close(self) -> None:
        """Deny pending permissions, disconnect the CLI and end the event log. Idempotent."""
        owner = self._owner
        if owner is None or owner.done():
            self._mark_closed()
            return
        await self._commands.put(_Command("close"))
        done, _ = await asyncio.wait({owner}, timeout=DISCONNECT_TIMEOUT + 5)
        if not done:
            owner.cancel()
            with contextlib.suppress(BaseException):
                await owner

    # -- operations (called by request handlers) -----------------------------

    async def send(self, message: str) -> Event:
        """Start a turn with ``message``; returns its ``turn_started`` event.

        The turn's events follow that event in :attr:`events`; it ends with a
        ``result`` or ``error`` event.

        Raises:
            TurnInProgress: A turn is already running.
            SessionNotFound: The session is closed.
        """
        self._ensure_open()
        if self._turn_active:
            raise TurnInProgress(self.id)
        self._turn_active = True
        self.message_count += 1
        started = self._publish("turn_started", message=message)
        try:
            await self._call("query", message)
        except Exception as exc:
            self._end_turn("error", message=f"could not send the message: {exc}")
            if isinstance(exc, SessionNotFound):
                raise
        return started

    async def interrupt(self) -> bool:
        """Stop the running turn: deny pending permissions and interrupt the CLI.

        Returns:
            True if a turn was running.
        """
        self._ensure_open()
        return bool(await self._call("interrupt"))

    async def set_model(self, model: str | None) -> None:
        """Switch the model for the next requests (None: the CLI's default)."""
        self._ensure_open()
        await self._call("set_model", model)
        self.model = model

    async def set_permission_mode(self, mode: str) -> None:
        """Switch the permission mode (one of the SDK's ``PermissionMode`` values)."""
        self._ensure_open()
        await self._call("set_permission_mode", mode)
        self.permission_mode = mode

    async def server_info(self) -> dict[str, Any]:
        """The CLI's initialization info (commands, output styles, models, ...)."""
        self._ensure_open()
        return dict(await self._call("server_info") or {})

    def respond(self, request_id: str, decision: PermissionDecision) -> None:
        """Answer a pending permission request (raises ``PermissionNotFound``)."""
        self.permissions.respond(request_id, decision)

    # -- internals ------------------------------------------------------------

    def _ensure_open(self) -> None:
        if self._closed or self._owner is None or self._owner.done():
            raise SessionNotFound(self.id)

    async def _call(self, name: str, *args: Any) -> Any:
        command = _Command(name, args)
        await self._commands.put(command)
        owner = self._owner
        assert owner is not None
        done, _ = await asyncio.wait({command.future, owner}, return_when=asyncio.FIRST_COMPLETED)
        if command.future not in done:
            raise SessionNotFound(self.id)
        try:
            return command.future.result()
        except SessionError:
            raise
        except Exception as exc:  # the CLI answered the control request with an error
            raise CommandRejected(name, str(exc) or type(exc).__name__) from exc

    def _publish(self, type: EventType, /, **data: Any) -> Event:
        self.last_activity = _now()
        self.idle_since = time.monotonic()
        event = self.events.append(type, **data)
        self._status_changed()
        return event

    def _status_changed(self) -> None:
        status = self.status
        if status == self._reported_status:
            return
        self._reported_status = status
        self.events.append("status", status=status)
        try:
            self._on_status(self)
        except Exception:  # a listener must never break the session
            log.exception("status listener failed")

    def _end_turn(self, type: EventType, /, **data: Any) -> None:
        self._turn_active = False
        self._publish(type, **data)

    def _stderr_text(self) -> str:
        return "\n".join(self._stderr)

    def _on_message(self, message: Any) -> None:
        if isinstance(message, SystemMessage) and message.subtype == "init":
            self.model = message.data.get("model") or self.model
            self.permission_mode = message.data.get("permissionMode") or self.permission_mode
            return
        for type, data in events_for(message):
            if type == "result":
                self._end_turn("result", **data)
            else:
                if type == "assistant_message" and data.get("parent_tool_use_id") is None:
                    self.message_count += 1
                self._publish(type, **data)  # type: ignore[arg-type]

    async def _execute(self, client: SDKClient, command: _Command) -> None:
        try:
            if command.name == "query":
                result: Any = await client.query(command.args[0])
            elif command.name == "interrupt":
                result = self._turn_active
                if result:
                    self.permissions.deny_all("interrupted", "The user interrupted the turn")
                    await client.interrupt()
            elif command.name == "set_model":
                result = await client.set_model(command.args[0])
            elif command.name == "set_permission_mode":
                result = await client.set_permission_mode(command.args[0])
            elif command.name == "server_info":
                result = await client.get_server_info()
            else:  # pragma: no cover - programming error
                raise ValueError(f"unknown command {command.name}")
        except asyncio.CancelledError:  # the session is closing under this call
            if not command.future.done():
                command.future.set_exception(SessionNotFound(self.id))
            raise
        except Exception as exc:
            if not command.future.done():
                command.future.set_exception(exc)
        else:
            if not command.future.done():
                command.future.set_result(result)

    async def _own(self) -> None:
        """The owner task: connect, serve commands while pumping messages, disconnect."""
        assert self._ready is not None
        options = self._options_factory(self.permissions.can_use_tool, self._stderr.append)
        client = self._client_factory(options)
        try:
            await client.connect()
        except Exception as exc:
            stderr = self._stderr_text() or getattr(exc, "stderr", None)
            error = SessionStartError(str(exc).split("\n")[0], stderr, getattr(exc, "exit_code", None))
            self._ready.set_exception(error)
            self._mark_closed()
            return
        except asyncio.CancelledError:
            self._ready.cancel()
            self._mark_closed()
            raise
        self._ready.set_result(None)
        messages = client.receive_messages().__aiter__()
        next_message: asyncio.Task[Any] | None = None
        next_command: asyncio.Task[_Command] | None = None
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while True:
                if next_message is None:
                    next_message = asyncio.create_task(_next(messages))
                if next_command is None:
                    next_command = asyncio.create_task(self._commands.get())
                done, _ = await asyncio.wait(
                    {next_message, next_command, *in_flight}, return_when=asyncio.FIRST_COMPLETED
                )
                in_flight -= done
                if next_message in done:
                    task, next_message = next_message, None
                    try:
                        self._on_message(task.result())
                    except StopAsyncIteration:
                        self._cli_gone("Claude Code exited")
                        break
                    except ProcessError as exc:
                        self._cli_gone(f"Claude Code failed: {exc}")
                        break
                    except Exception as exc:
                        log.exception("session %s: bad message from the CLI", self.id)
                        self._cli_gone(f"Claude Code stream failed: {exc}")
                        break
                if next_command in done:
                    command, next_command = next_command.result(), None
                    if command.name == "close":
                        break
                    in_flight.add(asyncio.create_task(self._execute(client, command)))
        finally:
            self._closed = True
            self.permissions.deny_all("session_closed", "The session was closed")
            for task in (next_message, next_command, *in_flight):
                if task is not None:
                    task.cancel()
            if self._turn_active:
                self._end_turn("error", message="the session was closed during the turn")
            try:
                async with asyncio.timeout(DISCONNECT_TIMEOUT):
                    await client.disconnect()
            except BaseException:
                log.warning("session %s: disconnect failed", self.id, exc_info=True)
            self._mark_closed()
            while not self._commands.empty():
                pending = self._commands.get_nowait()
                if not pending.future.done():
                    pending.future.set_exception(SessionNotFound(self.id))

    def _cli_gone(self, reason: str) -> None:
        stderr = self._stderr_text()
        message = f"{reason}: {stderr}" if stderr else reason
        log.warning("session %s: %s", self.id, message)
        if self._turn_active:
            self._end_turn("error", message=message)

    def _mark_closed(self) -> None:
        if self._closed and self.events.closed:
            return
        self._closed = True
        self._status_changed()
        self.events.close()
