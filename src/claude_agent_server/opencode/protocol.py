"""OpenCode's wire models (1.x, camelCase JSON), request bodies and the shapes we answer with.

The contract is OpenCode's ``packages/sdk/openapi.json`` and what its clients were
measured to send and read (``OPENCODE.md``); the Python SDK ``opencode-ai``
0.1.0a36 reads the older shapes (an ``AssistantMessage`` needs ``system``,
``path``, ``tokens``, ``cost``). Request bodies (:class:`Body`) allow fields we do
not use, so newer clients are not refused, but no string anywhere in them may hold
a lone surrogate (400, as on the REST routes); response models are dumped
``by_alias`` without ``None`` fields (:func:`dump`).
"""

from __future__ import annotations

from typing import Any, Literal

from claude_agent_protocol.fields import UnicodeText
from pydantic import BaseModel, ConfigDict, Field


class Wire(BaseModel):
    """Base of every OpenCode model: Python names, OpenCode's JSON names as aliases."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")


def dump(model: BaseModel) -> dict[str, Any]:
    """The JSON form: OpenCode's field names, ``None`` fields left out."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


# -- requests -------------------------------------------------------------------


class Body(Wire, UnicodeText):
    """A request body: refused when a string in it (unknown fields included) holds an
    unpaired UTF-16 surrogate (the shared check of :class:`~claude_agent_protocol.fields.UnicodeText`)."""


class ModelRef(Wire):
    """``{providerID, modelID}`` (the TUI's ``POST /session`` sends ``id`` for the model)."""

    provider_id: str = Field(alias="providerID", max_length=200)
    model_id: str | None = Field(None, alias="modelID", max_length=200)
    id: str | None = Field(None, max_length=200)

    @property
    def model(self) -> str:
        return self.model_id or self.id or ""


class SessionCreate(Body):
    """``POST /session``: every field optional (``permission`` rules are not applied)."""

    title: str | None = Field(None, max_length=1000)
    parent_id: str | None = Field(None, alias="parentID", max_length=200)
    agent: str | None = Field(None, max_length=200)
    model: ModelRef | None = None


class ForkBody(Body):
    """``POST /session/{id}/fork``."""

    message_id: str | None = Field(None, alias="messageID", max_length=200)


class SessionUpdate(Body):
    """``PATCH /session/{id}``."""

    title: str | None = Field(None, max_length=1000)


class InputPart(Wire):
    """A part of a prompt: ``{type: "text", text}`` is used; file parts are described in the text."""

    type: str = Field(max_length=50)
    id: str | None = Field(None, max_length=200)
    text: str | None = None
    filename: str | None = Field(None, max_length=4096)
    url: str | None = None


class PromptBody(Body):
    """``POST /session/{id}/message`` and ``/prompt_async``: 1.x sends ``model: {providerID, modelID}``,
    the Python SDK top-level ``providerID``/``modelID``."""

    parts: list[InputPart] = Field(min_length=1, max_length=1000)
    message_id: str | None = Field(None, alias="messageID", max_length=200)
    agent: str | None = Field(None, max_length=200)
    mode: str | None = Field(None, max_length=200)
    model: ModelRef | None = None
    provider_id: str | None = Field(None, alias="providerID", max_length=200)
    model_id: str | None = Field(None, alias="modelID", max_length=200)

    def model_ref(self) -> ModelRef | None:
        if self.model is not None:
            return self.model
        if self.provider_id and self.model_id:
            return ModelRef(providerID=self.provider_id, modelID=self.model_id)
        return None


Reply = Literal["once", "always", "reject"]


class PermissionReply(Body):
    """``POST /permission/{id}/reply``."""

    reply: Reply
    message: str | None = Field(None, max_length=10_000)


class LegacyPermissionReply(Body):
    """``POST /session/{id}/permissions/{permissionID}`` (older clients)."""

    response: Reply


# -- responses ------------------------------------------------------------------


class SessionTime(Wire):
    created: int
    updated: int


class RevertInfo(Wire):
    """A session's pending revert: clients hide the messages from ``messageID`` on; ``snapshot``
    names the files' state before it, ``diff`` the change back (both absent when no file changed)."""

    message_id: str = Field(alias="messageID")
    part_id: str | None = Field(None, alias="partID")
    snapshot: str | None = None
    diff: str | None = None


class RevertBody(Body):
    """``POST /session/{id}/revert``."""

    message_id: str = Field(alias="messageID", max_length=200)
    part_id: str | None = Field(None, alias="partID", max_length=200)


class SessionInfo(Wire):
    """A session: times in ms since the epoch; ``directory`` is its cwd."""

    id: str
    slug: str
    project_id: str = Field(alias="projectID")
    directory: str
    title: str
    version: str
    time: SessionTime
    parent_id: str | None = Field(None, alias="parentID")
    revert: RevertInfo | None = None


class MessageTime(Wire):
    created: int
    completed: int | None = None


class ModelName(Wire):
    provider_id: str = Field(alias="providerID")
    model_id: str = Field(alias="modelID")


class UserMessage(Wire):
    id: str
    session_id: str = Field(alias="sessionID")
    role: Literal["user"] = "user"
    time: MessageTime
    agent: str
    model: ModelName


class Cache(Wire):
    read: int = 0
    write: int = 0


class Tokens(Wire):
    input: int = 0
    output: int = 0
    reasoning: int = 0
    cache: Cache = Field(default_factory=Cache)


class MessagePath(Wire):
    cwd: str
    root: str


class ErrorInfo(Wire):
    """``{name, data: {message}}``: ``UnknownError``, ``MessageAbortedError``, ..."""

    name: str
    data: dict[str, Any]


class AssistantMessage(Wire):
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


class ErrorData(Wire):
    message: str


class NamedError(Wire):
    """OpenCode's error body: ``{name: "NotFoundError" | "BadRequestError" | ..., data: {message}}``."""

    name: str
    data: ErrorData
