"""What callers do with a session: turns (send, interrupt, wait for the end), model, mode and
title switches, and the CLI's info; and how the CLI's messages become the turn's events.

A part of :class:`~.session.Session` (the attributes below are the session's): each
operation that needs the CLI wakes the session first (:meth:`Session._use`).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from claude_agent_sdk import SystemMessage, ToolResultBlock, UserMessage

from ..store import SessionRecord
from .convert import events_for
from .errors import CommandRejected, SessionError, SessionMoved, SessionNotFound, TurnInProgress
from .events import Event, EventLog, EventType
from .host import SessionHost
from .options import SessionSpec
from .owner import ClientClosed, ClientOwner, Operation
from .permissions import PermissionBroker
from .prompt import check_prompt, user_message
from .record import add_result
from .request import normal_title

TITLE_LENGTH = 80
"""Characters of the first user message kept as the session's title."""


class SessionOperations:
    """The operations of a :class:`~.session.Session`."""

    id: str
    spec: SessionSpec
    record: SessionRecord
    events: EventLog
    model: str | None
    permissions: PermissionBroker
    _host: SessionHost
    _owner: ClientOwner | None
    _turn_running: bool
    turn_event_id: int | None
    turn_message: str | None
    turn_started: Event | None
    steering: list[str]
    sent_results: set[str]
    _process_cost: float
    fenced: bool

    if TYPE_CHECKING:  # the session's own methods these call

        def _ensure_open(self) -> None: ...
        def _use(self) -> contextlib.AbstractAsyncContextManager[None]: ...
        def _publish(self, type: EventType, /, **data: Any) -> Event: ...
        def run_queue(self) -> None: ...
        def parked_result(self, message: Any) -> bool: ...
        @property
        def parked_waiting(self) -> bool: ...

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
        await self._host.check_spend(self)
        if self._turn_running or self.parked_waiting:  # a parked request holds its turn
            raise TurnInProgress(self.id)
        async with self._use():
            if self._turn_running:
                raise TurnInProgress(self.id)
            self._turn_running = True
            if self.record.title is None:
                self.record.title = " ".join(message.split())[:TITLE_LENGTH] or None
            prompt_uuid = str(uuid4())  # the prompt's transcript uuid, known before the CLI has it
            started = self._publish("turn_started", message=message, user_message_uuid=prompt_uuid)
            self.turn_event_id = started.id
            self.turn_message = message
            self.turn_started = started
            self._host.changed(self, False)
            try:
                prompt = user_message(message if content is None else content, prompt_uuid)
                # The CLI echoes the prompt (replay-user-messages): tool results sent in it are not the turn's.
                self.sent_results |= {str(b.get("tool_use_id")) for b in content or [] if b.get("type") == "tool_result"}
                await self._call("query", lambda client: client.query(prompt))
                if self.spec.resume_at is not None:  # the turn continues from the rewound point: later wakes load it all
                    self.spec.resume_at = None
                    self._spec_changed()
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
        if not self._turn_running:
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
        self.record.title = normal_title(title)
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
        if not self._turn_running:
            return
        async for event in self.events.subscribe(after=self.events.last_id):
            if event.type in ("result", "error") or not self._turn_running:
                return

    # -- internals ------------------------------------------------------------

    async def _call(self, name: str, operation: Operation) -> Any:
        """Run an operation through the owner, in domain errors.

        Raises:
            SessionNotFound: The process stopped first.
            CommandRejected: The CLI answered the control request with an error.
        """
        owner = self._owner
        if owner is None:
            raise SessionMoved(self.id) if self.fenced else SessionNotFound(self.id)
        try:
            return await owner.call(operation)
        except ClientClosed:
            raise SessionMoved(self.id) if self.fenced else SessionNotFound(self.id) from None
        except Exception as exc:
            raise CommandRejected(name, str(exc) or type(exc).__name__) from exc

    def _end_turn(self, type: EventType, /, **data: Any) -> None:
        self._turn_running = False
        self.turn_event_id = None
        self.turn_message = None
        self.turn_started = None
        self.steering.clear()
        if type == "result":
            self._process_cost, data["turn_cost_usd"] = add_result(self.record, data, self._process_cost)
            data["session_cost_usd"] = round(self.record.cost_usd, 6)
        self._publish(type, **data)
        self._host.changed(self, False)
        self.run_queue()

    def _spec_changed(self) -> None:
        """Store the spec's current values with the record (the registry keeps both)."""
        self.record.spec = self.spec.to_json()
        self._host.changed(self, False)

    def _on_message(self, message: Any) -> None:
        if self.fenced:
            return  # its CLI was killed: what it still had to say is not this node's to record
        if self.parked_result(message):
            return
        if isinstance(message, SystemMessage) and message.subtype == "init":
            self.model = message.data.get("model") or self.model
            return
        if isinstance(message, UserMessage) and self.steering and (text := _prompt_text(message.content)) in self.steering:
            self.steering.remove(text)  # the CLI took the steered message (echoed: replay-user-messages)
        if isinstance(message, UserMessage) and self.sent_results and isinstance(message.content, list):
            echoed = {getattr(b, "tool_use_id", None) for b in message.content if isinstance(b, ToolResultBlock)}
            if echoed and echoed <= self.sent_results:
                self.sent_results -= echoed
                return  # the echo of tool results this server sent in a prompt
        for type, data in events_for(message):
            if type == "result" and self.steering and self._turn_running:
                continue  # a steered message still waits: the CLI runs it next, within this turn for us
            if type == "result":
                self._end_turn("result", **data)
            else:
                self._publish(type, **data)  # type: ignore[arg-type]


def _prompt_text(content: Any) -> str | None:
    """The text of an echoed user message (a string, or its text blocks joined)."""
    if isinstance(content, str):
        return content.strip()
    texts = [getattr(block, "text", None) for block in content or []]
    return "\n".join(t for t in texts if isinstance(t, str)).strip() or None
