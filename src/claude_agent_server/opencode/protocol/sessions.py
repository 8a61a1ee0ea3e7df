"""OpenCode's sessions, messages and parts as this server answers them (1.x; field order is the
order on the wire).

Shapes follow OpenCode's ``Session``, ``UserMessage``, ``AssistantMessage``, ``TextPart`` and
``ToolPart`` (``packages/sdk/openapi.json``); the Python SDK ``opencode-ai`` 0.1.0a36 reads the
older shapes (an assistant message needs ``system``, ``path``, ``tokens``, ``cost``). Routes
answer these ``by_alias`` without ``None`` fields (``response_model_exclude_none``, as
:func:`~.base.dump`): a user's text part has no ``time`` (``opencode run`` prints text parts
that have one), a running text part's ``time`` has no ``end``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from .base import ReplyModel


class SessionTime(ReplyModel):
    created: int
    updated: int


class RevertInfo(ReplyModel):
    """A session's pending revert: clients hide the messages from ``messageID`` on; ``snapshot``
    names the files' state before it, ``diff`` the change back (both absent when no file changed)."""

    message_id: str = Field(alias="messageID")
    part_id: str | None = Field(None, alias="partID")
    snapshot: str | None = None
    diff: str | None = None


class SessionInfo(ReplyModel):
    """OpenCode's ``Session``: times in ms since the epoch; ``directory`` is its cwd."""

    id: str
    slug: str
    project_id: str = Field(alias="projectID")
    directory: str
    title: str
    version: str
    time: SessionTime
    parent_id: str | None = Field(None, alias="parentID")
    revert: RevertInfo | None = None


class SessionStatus(ReplyModel):
    """OpenCode's ``SessionStatus`` (``GET /session/status`` lists busy sessions only)."""

    type: Literal["idle", "busy", "retry"]


class Todo(ReplyModel):
    """An item of a session's todo list (this server keeps none: ``GET /session/{id}/todo`` is ``[]``)."""

    content: str
    status: str
    priority: str


class SnapshotFileDiff(ReplyModel):
    """A file a session changed (this server reports none: ``GET /session/{id}/diff`` is ``[]``)."""

    file: str | None = None
    patch: str | None = None
    additions: int
    deletions: int
    status: Literal["added", "deleted", "modified"] | None = None


# -- messages ---------------------------------------------------------------------


class MessageTime(ReplyModel):
    created: int
    completed: int | None = None


class ModelName(ReplyModel):
    provider_id: str = Field(alias="providerID")
    model_id: str = Field(alias="modelID")


class UserMessage(ReplyModel):
    id: str
    session_id: str = Field(alias="sessionID")
    role: Literal["user"] = "user"
    time: MessageTime
    agent: str
    model: ModelName


class Cache(ReplyModel):
    read: int = 0
    write: int = 0


class Tokens(ReplyModel):
    input: int = 0
    output: int = 0
    reasoning: int = 0
    cache: Cache = Field(default_factory=Cache)


class MessagePath(ReplyModel):
    cwd: str
    root: str


class ErrorInfo(ReplyModel):
    """``{name, data: {message}}``: ``UnknownError``, ``MessageAbortedError``, ..."""

    name: str
    data: dict[str, Any]


class OpenCodeAssistantMessage(ReplyModel):
    """OpenCode's ``AssistantMessage`` (one per turn here)."""

    id: str
    session_id: str = Field(alias="sessionID")
    role: Literal["assistant"] = "assistant"
    time: MessageTime
    parent_id: str = Field(alias="parentID")
    model_id: str = Field(alias="modelID")
    provider_id: str = Field(alias="providerID")
    mode: str
    agent: str
    path: MessagePath
    cost: float = 0.0
    tokens: Tokens = Field(default_factory=Tokens)
    system: list[str] = Field(default_factory=list)
    finish: str | None = None
    error: ErrorInfo | None = None


Message = Annotated[UserMessage | OpenCodeAssistantMessage, Field(discriminator="role")]


# -- parts ------------------------------------------------------------------------


class PartBase(ReplyModel):
    id: str
    session_id: str = Field(alias="sessionID")
    message_id: str = Field(alias="messageID")


class PartTime(ReplyModel):
    start: int
    end: int | None = None


class TextPart(PartBase):
    """Text: a user's prompt (no ``time``) or an assistant's text (``time.end`` once complete)."""

    type: Literal["text"] = "text"
    text: str
    time: PartTime | None = None


class ToolTime(ReplyModel):
    start: int


class ToolTimeEnded(ReplyModel):
    start: int
    end: int


class ToolStateRunning(ReplyModel):
    status: Literal["running"] = "running"
    input: dict[str, Any]
    title: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    time: ToolTime


class ToolStateCompleted(ReplyModel):
    status: Literal["completed"] = "completed"
    input: dict[str, Any]
    output: str
    title: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    time: ToolTimeEnded


class ToolStateError(ReplyModel):
    status: Literal["error"] = "error"
    input: dict[str, Any]
    error: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    time: ToolTimeEnded


ToolState = Annotated[ToolStateRunning | ToolStateCompleted | ToolStateError, Field(discriminator="status")]


class ToolPart(PartBase):
    """A tool call: OpenCode's tool name (``bash``, ``read``, ...) and camelCase input."""

    type: Literal["tool"] = "tool"
    call_id: str = Field(alias="callID")
    tool: str
    state: ToolState


Part = Annotated[TextPart | ToolPart, Field(discriminator="type")]
"""The parts this server makes (OpenCode has more kinds: reasoning, file, step-start, ...)."""


class MessageWithParts(ReplyModel):
    """``{info, parts}``: a message as ``GET /session/{id}/message`` lists it."""

    info: Message
    parts: list[Part]


class PromptReply(OpenCodeAssistantMessage):
    """The reply to ``POST /session/{id}/message``: ``{...info, info, parts}`` (1.x clients read
    ``{info, parts}``, the Python SDK reads the assistant message itself)."""

    info: OpenCodeAssistantMessage
    parts: list[Part]


# -- errors -----------------------------------------------------------------------


class ErrorData(ReplyModel):
    message: str


class NamedError(ReplyModel):
    """OpenCode's error body: ``{name: "NotFoundError" | "BadRequestError" | ..., data: {message}}``."""

    name: str
    data: ErrorData
