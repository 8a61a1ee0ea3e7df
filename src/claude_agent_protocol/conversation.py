"""Controlling a conversation: fork, queue and steer, rewind (request bodies and replies)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import WireModel
from .requests import StrictBody

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
"""A transcript message id (a UUID)."""



class ForkSession(StrictBody):
    """``POST /sessions/{id}/fork``."""

    at_message_id: str | None = Field(
        None, pattern=UUID_PATTERN, description="Copy the history up to and including this message (a transcript uuid; default: all of it)."
    )
    title: str | None = Field(None, max_length=1000, description="The fork's title (default: the original's + ' (fork)').")


class ForkPointView(WireModel):
    """The session and message a fork branches off."""

    session_id: str
    message_id: str


class ForkedSession(WireModel):
    """``POST /sessions/{id}/fork`` (201): the new session, connected."""

    session_id: str
    forked_from: ForkPointView


class QueuedMessage(WireModel):
    """A message waiting for the running turn to end (``/status``'s ``queued``, oldest first)."""

    queue_id: str
    message: str
    created_at: str


class QueueCancelReply(WireModel):
    """``DELETE /sessions/{id}/queue/{queue_id}``."""

    status: Literal["cancelled"] = "cancelled"
    queue_id: str


class RewindFiles(StrictBody):
    """``POST /sessions/{id}/rewind``."""

    message_id: str = Field(pattern=UUID_PATTERN, description="A user message's uuid: files go back to their state before it.")
    conversation: bool = Field(False, description="Also cut the conversation back to before that message.")


class RewindReply(WireModel):
    """``POST /sessions/{id}/rewind``: the files restored (as the CLI reports them) and whether
    the conversation was cut back too."""

    status: Literal["rewound"] = "rewound"
    message_id: str
    files: list[str] = Field(default_factory=list)
    conversation: bool = False
