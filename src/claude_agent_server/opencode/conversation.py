"""One session's events → OpenCode messages, parts and bus events (one mapper for the live
stream, ``GET /session/{id}/message`` and the reply to ``POST /session/{id}/message``).

A turn (``turn_started`` … ``result``/``error``) becomes a user message (the
prompt, one text part without ``time``) and one assistant message whose parts are the turn's text
blocks and tool calls. Ids come from event ids (:mod:`.ids`), so feeding the same
events yields the same ids whether they arrive live or from the registry:

* user message: the client's ``messageID`` (and part id) when it sent one and the
  server still knows it (:attr:`Context.client_ids`), else derived from ``turn_started``;
* assistant message: from ``turn_started``'s id + 1;
* parts of an ``assistant_message`` event: from the *anchor*, the id of the last
  event before it other than ``text_delta`` and ``status`` (text deltas stream
  before the event that completes them and are never persisted), with the item's
  position as index (the first text item: 0, item *i* otherwise: *i* + 1).

Subagent events (``parent_tool_use_id`` set) are not shown. :meth:`Conversation.feed`
returns OpenCode events ``{type, properties}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..sessions import Event
from . import mapping
from .ids import derive, value_of_event
from .protocol import (
    Cache,
    ErrorInfo,
    MessagePath,
    MessageTime,
    MessageWithParts,
    ModelName,
    OpenCodeAssistantMessage,
    Part,
    PartTime,
    TextPart,
    Tokens,
    ToolPart,
    ToolStateCompleted,
    ToolStateError,
    ToolStateRunning,
    ToolTime,
    ToolTimeEnded,
    UserMessage,
    dump,
)

OcEvent = dict[str, Any]
"""``{"type": ..., "properties": {...}}``."""
AGENT = "build"
"""The one agent (OpenCode's default primary agent's name)."""


@dataclass
class Context:
    """What the mapper needs to know about the session besides its events."""

    session_id: str
    """Its ``ses_`` id."""
    cwd: str
    root: str
    provider_id: str
    model_id: str
    client_ids: Callable[[int], tuple[str | None, str | None]] = lambda event_id: (None, None)
    """``turn_started`` event id → the ``(messageID, part id)`` its client sent, if known."""


@dataclass
class Message:
    info: UserMessage | OpenCodeAssistantMessage
    parts: dict[str, Part] = field(default_factory=dict)

    def reply(self) -> MessageWithParts:
        """``{info, parts}`` as ``GET /session/{id}/message`` lists it (a copy)."""
        return MessageWithParts(info=self.info.model_copy(deep=True), parts=[part.model_copy(deep=True) for part in self.parts.values()])


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of the view: its ``turn_started`` event, prompt and user message."""

    start: int
    prompt: str
    user_id: str


def _event(type: str, **properties: Any) -> OcEvent:
    return {"type": type, "properties": properties}


class Conversation:
    """The OpenCode view of one session, built event by event."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.messages: dict[str, Message] = {}
        self._assistant: Message | None = None
        self._anchor = 0
        self._run: dict[str, Any] | None = None
        self._tools: dict[str, ToolPart] = {}
        self._permissions: dict[str, str] = {}
        self.turns: list[Turn] = []
        """The turns, oldest first."""
        self.turn_of: dict[str, Turn] = {}
        """Message id (user or assistant) → its turn."""

    @property
    def assistant(self) -> Message | None:
        """The current (or last) turn's assistant message."""
        return self._assistant

    def message_of_part(self, part_id: str) -> str | None:
        """The id of the message holding the part ``part_id``, if any."""
        return next((mid for mid, message in self.messages.items() if part_id in message.parts), None)

    def feed(self, event: Event) -> list[OcEvent]:
        """Take one event of the session; return the OpenCode events it makes."""
        data = event.data
        if event.type == "status":
            return []
        if event.type == "text_delta":
            return [] if data.get("parent_tool_use_id") else self._delta(event)
        anchor, self._anchor = self._anchor, event.id
        if data.get("parent_tool_use_id"):
            return []
        match event.type:
            case "turn_started":
                return self._turn_started(event)
            case "assistant_message":
                return self._assistant_message(event, anchor)
            case "tool_result":
                return self._tool_result(event)
            case "permission_request":
                return self._permission_request(event)
            case "permission_resolved":
                return self._permission_resolved(event)
            case "result" | "error":
                return self._turn_end(event)
        return []

    # -- helpers ---------------------------------------------------------------

    def _part(self, message: Message, part: Part, delta: str | None = None) -> OcEvent:
        message.parts[part.id] = part
        properties: dict[str, Any] = {"sessionID": self.context.session_id, "part": dump(part)}
        if delta is not None:
            properties["delta"] = delta
        return _event("message.part.updated", **properties)

    def _message(self, message: Message) -> OcEvent:
        return _event("message.updated", sessionID=self.context.session_id, info=dump(message.info))

    def _current(self, event: Event) -> Message:
        """The turn's assistant message (one is made up for events seen without their ``turn_started``)."""
        if self._assistant is None:
            self._assistant = self._new_assistant(event, parent="")
        return self._assistant

    def _new_assistant(self, event: Event, parent: str) -> Message:
        ctx = self.context
        info = OpenCodeAssistantMessage(
            id=derive("msg", value_of_event(event.id + 1), f"{ctx.session_id}:assistant:{event.id}"),
            sessionID=ctx.session_id,
            time=MessageTime(created=mapping.ms(event.created_at)),
            parentID=parent,
            modelID=ctx.model_id,
            providerID=ctx.provider_id,
            mode=AGENT,
            agent=AGENT,
            path=MessagePath(cwd=ctx.cwd, root=ctx.root),
        )
        message = self.messages[info.id] = Message(info)
        return message

    # -- events ----------------------------------------------------------------

    def _turn_started(self, event: Event) -> list[OcEvent]:
        ctx = self.context
        created = mapping.ms(event.created_at)
        client_message, client_part = ctx.client_ids(event.id)
        user = Message(
            UserMessage(
                id=client_message or derive("msg", value_of_event(event.id), f"{ctx.session_id}:user:{event.id}"),
                sessionID=ctx.session_id,
                time=MessageTime(created=created),
                agent=AGENT,
                model=ModelName(providerID=ctx.provider_id, modelID=ctx.model_id),
            )
        )
        self.messages[user.info.id] = user
        text = TextPart(
            id=client_part or derive("prt", value_of_event(event.id), f"{ctx.session_id}:prompt:{event.id}"),
            sessionID=ctx.session_id,
            messageID=user.info.id,
            text=str(event.data.get("message", "")),
        )  # no ``time``, as OpenCode's server sends it: ``opencode run`` prints text parts that have one
        self._assistant = self._new_assistant(event, parent=user.info.id)
        self._run, self._tools = None, {}
        turn = Turn(event.id, text.text, user.info.id)
        self.turns.append(turn)
        self.turn_of[user.info.id] = self.turn_of[self._assistant.info.id] = turn
        return [
            self._message(user),
            self._part(user, text),
            _event("session.status", sessionID=ctx.session_id, status={"type": "busy"}),
            self._message(self._assistant),
        ]

    def _text_part(self, message: Message, part_id: str, text: str, start: int, end: int | None) -> TextPart:
        return TextPart(id=part_id, sessionID=self.context.session_id, messageID=message.info.id, text=text, time=PartTime(start=start, end=end))

    def _delta(self, event: Event) -> list[OcEvent]:
        message = self._current(event)
        chunk = str(event.data.get("text", ""))
        if self._run is None:
            part_id = derive("prt", value_of_event(self._anchor), f"{self.context.session_id}:item:{self._anchor}", index=0)
            self._run = {"id": part_id, "text": "", "start": mapping.ms(event.created_at)}
        self._run["text"] += chunk
        part = self._text_part(message, self._run["id"], self._run["text"], self._run["start"], None)
        return [self._part(message, part, delta=chunk)]

    def _assistant_message(self, event: Event, anchor: int) -> list[OcEvent]:
        message = self._current(event)
        now = mapping.ms(event.created_at)
        out: list[OcEvent] = []
        first_text = True
        for position, item in enumerate(event.data.get("content") or []):
            kind = item.get("type")
            index = 0 if kind == "text" and first_text else position + 1
            part_id = derive("prt", value_of_event(anchor), f"{self.context.session_id}:item:{anchor}", index=min(index, 3843))
            if kind == "text":
                start = self._run["start"] if self._run is not None and first_text else now
                first_text = False
                out.append(self._part(message, self._text_part(message, part_id, str(item.get("content", "")), start, now)))
            elif kind == "tool_use":
                name = str(item.get("tool_name", ""))
                tool_input = item.get("tool_input") if isinstance(item.get("tool_input"), dict) else {}
                part = ToolPart(
                    id=part_id,
                    sessionID=self.context.session_id,
                    messageID=message.info.id,
                    callID=str(item.get("tool_use_id")),
                    tool=mapping.tool_name(name),
                    state=ToolStateRunning(
                        input=mapping.camel_input(tool_input),
                        title=mapping.tool_title(name, tool_input),
                        time=ToolTime(start=now),
                    ),
                )
                self._tools[str(item.get("tool_use_id"))] = part
                out.append(self._part(message, part))
        self._run = None
        return out

    def _tool_result(self, event: Event) -> list[OcEvent]:
        part = self._tools.pop(str(event.data.get("tool_use_id")), None)
        if part is None or self._assistant is None:
            return []
        return [self._part(self._assistant, self._finish_tool(part, event, str(event.data.get("content", "")), bool(event.data.get("is_error"))))]

    def _finish_tool(self, part: ToolPart, event: Event, output: str, is_error: bool) -> ToolPart:
        state = part.state
        assert isinstance(state, ToolStateRunning)
        time = ToolTimeEnded(start=state.time.start, end=mapping.ms(event.created_at))
        if is_error:
            part.state = ToolStateError(input=state.input, error=output, time=time)
        else:
            part.state = ToolStateCompleted(input=state.input, output=output, title=state.title, time=time)
        return part

    def _permission_request(self, event: Event) -> list[OcEvent]:
        asked = mapping.permission_request(event.data, self.context.session_id, self._assistant.info.id if self._assistant else None)
        self._permissions[str(event.data.get("request_id"))] = asked.id
        return [_event("permission.asked", **dump(asked))]

    def _permission_resolved(self, event: Event) -> list[OcEvent]:
        permission = self._permissions.pop(str(event.data.get("request_id")), None)
        if permission is None:
            return []
        reply = ("always" if event.data.get("applied_suggestions") else "once") if event.data.get("allowed") else "reject"
        return [_event("permission.replied", sessionID=self.context.session_id, requestID=permission, reply=reply)]

    def _turn_end(self, event: Event) -> list[OcEvent]:
        ctx = self.context
        message = self._current(event)
        now = mapping.ms(event.created_at)
        out: list[OcEvent] = []
        if self._run is not None:  # text that streamed but never completed (an interrupt)
            out.append(self._part(message, self._text_part(message, self._run["id"], self._run["text"], self._run["start"], now)))
            self._run = None
        for part in self._tools.values():
            out.append(self._part(message, self._finish_tool(part, event, "The tool call did not finish", True)))
        self._tools = {}
        info = message.info
        assert isinstance(info, OpenCodeAssistantMessage)
        info.time.completed = now
        data = event.data
        error: ErrorInfo | None = None
        if event.type == "result":
            usage = data.get("usage") or {}
            info.cost = float(data.get("turn_cost_usd") or 0.0)
            info.tokens = Tokens(
                input=int(usage.get("input_tokens") or 0),
                output=int(usage.get("output_tokens") or 0),
                cache=Cache(read=int(usage.get("cache_read_input_tokens") or 0), write=int(usage.get("cache_creation_input_tokens") or 0)),
            )
            info.finish = mapping.STOP_REASONS.get(str(data.get("stop_reason")), "stop")
            if str(data.get("terminal_reason") or "").startswith("aborted"):
                error = ErrorInfo(name="MessageAbortedError", data={"message": "The turn was interrupted"})
            elif data.get("is_error"):
                error = ErrorInfo(name="UnknownError", data={"message": str(data.get("result") or data.get("errors") or "the turn failed")})
        else:
            error = ErrorInfo(name="UnknownError", data={"message": str(data.get("message") or "the turn failed")})
        info.error = error
        out.append(self._message(message))
        if error is not None and error.name != "MessageAbortedError":
            out.append(_event("session.error", sessionID=ctx.session_id, error=dump(error)))
        out.append(_event("session.status", sessionID=ctx.session_id, status={"type": "idle"}))
        out.append(_event("session.idle", sessionID=ctx.session_id))
        return out
