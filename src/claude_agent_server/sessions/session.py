"""One live session: its state, its turns, its events and permissions.

A :class:`Session` is addressed by Claude Code's own session id. Its SDK
client lives in a :class:`~.owner.ClientOwner` task; every operation here
reaches the client only through that owner.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from claude_agent_sdk import ClaudeAgentOptions, SystemMessage

from .convert import events_for
from .errors import CommandRejected, SessionError, SessionNotFound, SessionStartError, TurnInProgress
from .events import Event, EventLog, EventType
from .owner import ClientClosed, ClientFactory, ClientOwner, Operation
from .permissions import PermissionBroker

log = logging.getLogger(__name__)

SessionStatus = Literal["connecting", "connected", "running", "waiting_permission", "closed"]
OptionsFactory = Callable[[Callable[..., Any], Callable[[str], None]], ClaudeAgentOptions]
"""``options_factory(can_use_tool, stderr) -> ClaudeAgentOptions``."""


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


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
        self.created_at = _iso(time.time())
        self.last_activity = time.time()
        """Unix time (seconds) of the session's last event."""
        self.message_count = 0
        self.events = EventLog(session_id, event_buffer_size)
        self.permissions = PermissionBroker(self._publish, permission_timeout)
        self._options_factory = options_factory
        self._client_factory = client_factory
        self._on_status = on_status
        self._owner: ClientOwner | None = None
        self._turn_active = False
        self._closed = False
        self._reported_status: SessionStatus = "connecting"
        self._stderr: deque[str] = deque(maxlen=40)

    # -- state ---------------------------------------------------------------

    @property
    def status(self) -> SessionStatus:
        if self._closed:
            return "closed"
        if self._owner is None or not self._owner.connected:
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
            "last_activity": _iso(self.last_activity),
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
        options = self._options_factory(self.permissions.can_use_tool, self._stderr.append)
        self._owner = ClientOwner(self._client_factory(options), on_message=self._on_message, on_stop=self._on_stop)
        try:
            await self._owner.start()
        except Exception as exc:
            self._on_stop(None)
            stderr = self._stderr_text() or getattr(exc, "stderr", None)
            raise SessionStartError(str(exc).split("\n")[0], stderr, getattr(exc, "exit_code", None)) from exc
        except BaseException:
            await self.close()
            raise
        self._status_changed()

    async def close(self) -> None:
        """Deny pending permissions, disconnect the CLI and end the event log. Idempotent."""
        if self._owner is not None:
            await self._owner.close()
        self._on_stop(None)

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
            await self._call("query", lambda client: client.query(message))
        except SessionError as exc:
            self._end_turn("error", message=f"could not send the message: {exc.detail}")
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
        """Switch the model for the next requests (None: the CLI's default)."""
        self._ensure_open()
        await self._call("set_model", lambda client: client.set_model(model))
        self.model = model

    async def set_permission_mode(self, mode: str) -> None:
        """Switch the permission mode (one of the SDK's ``PermissionMode`` values)."""
        self._ensure_open()
        await self._call("set_permission_mode", lambda client: client.set_permission_mode(mode))
        self.permission_mode = mode

    async def server_info(self) -> dict[str, Any]:
        """The CLI's initialization info (commands, output styles, models, ...)."""
        self._ensure_open()
        return dict(await self._call("server_info", lambda client: client.get_server_info()) or {})

    # -- internals ------------------------------------------------------------

    def _ensure_open(self) -> None:
        if self._closed:
            raise SessionNotFound(self.id)

    async def _call(self, name: str, operation: Operation) -> Any:
        """Run an operation through the owner, in domain errors.

        Raises:
            SessionNotFound: The session closed first.
            CommandRejected: The CLI answered the control request with an error.
        """
        assert self._owner is not None
        try:
            return await self._owner.call(operation)
        except ClientClosed:
            raise SessionNotFound(self.id) from None
        except Exception as exc:
            raise CommandRejected(name, str(exc) or type(exc).__name__) from exc

    def _publish(self, type: EventType, /, **data: Any) -> Event:
        self.last_activity = time.time()
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

    def _on_stop(self, reason: str | None) -> None:
        """The session ends: deny what waits, end a running turn, close the event log. Once."""
        if self._closed:
            return
        self._closed = True
        self.permissions.deny_all("session_closed", "The session was closed")
        if reason is not None:
            stderr = self._stderr_text()
            reason = f"{reason}: {stderr}" if stderr else reason
            log.warning("session %s: %s", self.id, reason)
        if self._turn_active:
            self._end_turn("error", message=reason or "the session was closed during the turn")
        self._status_changed()
        self.events.close()
