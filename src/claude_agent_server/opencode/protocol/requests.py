"""OpenCode's request bodies: they allow fields we do not use, so newer clients are not
refused, but no string anywhere in them may hold a lone surrogate (400, as on the REST routes)."""

from __future__ import annotations

from typing import Literal

from claude_agent_protocol.fields import UnicodeText
from pydantic import Field

from .base import Wire


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


class RevertBody(Body):
    """``POST /session/{id}/revert``."""

    message_id: str = Field(alias="messageID", max_length=200)
    part_id: str | None = Field(None, alias="partID", max_length=200)
