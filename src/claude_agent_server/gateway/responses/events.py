"""A turn's pieces (see :mod:`..mapping`) → the ``response`` object and OpenAI's typed stream events.

One :class:`ResponseBuilder` per call serves both paths, so streaming and non-streaming
say the same thing: :meth:`ResponseBuilder.feed` returns the stream events a piece
becomes (numbered by ``sequence_number``) and updates :attr:`ResponseBuilder.response`,
which is the non-streaming reply (and what is stored) once the turn has ended.

Event order: ``response.created``, ``response.in_progress``, ``response.output_item.added``,
``response.content_part.added``, ``response.output_text.delta``…, ``response.output_text.done``,
``response.content_part.done``, ``response.output_item.done``, ``response.completed``; or
``response.failed`` (with ``response.error``) when the turn fails.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..mapping import End, Failure, Piece, Text
from ..protocol import Usage
from .items import item_id
from .protocol import InputTokensDetails, OutputMessage, OutputText, Response, ResponseError, ResponseUsage


def response_usage(usage: Usage) -> ResponseUsage:
    """The Responses API's usage from the chat gateway's (same numbers, other names)."""
    return ResponseUsage(
        input_tokens=usage.prompt_tokens,
        input_tokens_details=InputTokensDetails(cached_tokens=usage.prompt_tokens_details.cached_tokens),
        output_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
        cost_usd=usage.cost_usd,
    )


def response_id() -> str:
    return item_id("resp")


@dataclass(slots=True)
class ResponseBuilder:
    """The response of one call as its turn goes on.

    Args:
        response: The response so far (``in_progress``, no output): id, model and the request's echoed fields.
    """

    response: Response
    message_id: str = field(default_factory=item_id)
    _text: list[str] = field(default_factory=list)
    _sequence: int = 0
    _opened: bool = False
    ended: bool = False

    @classmethod
    def start(cls, **fields: Any) -> ResponseBuilder:
        return cls(Response(id=response_id(), created_at=int(time.time()), status="in_progress", **fields))

    def opening(self) -> list[dict[str, Any]]:
        """``response.created`` and ``response.in_progress``."""
        return [self._event("response.created", response=self._dump()), self._event("response.in_progress", response=self._dump())]

    def feed(self, piece: Piece) -> list[dict[str, Any]]:
        """The stream events one piece becomes (and the response updated)."""
        if isinstance(piece, Text):
            self._text.append(piece.text)
            return [*self._open(), self._event("response.output_text.delta", **self._where(), delta=piece.text, logprobs=[])]
        self.ended = True
        if isinstance(piece, Failure):
            self.response.status = "failed"
            self.response.error = ResponseError(code=piece.error.code or piece.error.type, message=piece.error.message)
            return [self._event("response.failed", response=self._dump())]
        assert isinstance(piece, End)
        events = self._open()
        text = "".join(self._text)
        part = OutputText(text=text)
        message = OutputMessage(id=self.message_id, status="completed", content=[part])
        self.response.status = "completed"
        self.response.output = [message]
        self.response.usage = response_usage(piece.usage)
        return [
            *events,
            self._event("response.output_text.done", **self._where(), text=text, logprobs=[]),
            self._event("response.content_part.done", **self._where(), part=part.model_dump()),
            self._event("response.output_item.done", output_index=0, item=message.model_dump()),
            self._event("response.completed", response=self._dump()),
        ]

    def _open(self) -> list[dict[str, Any]]:
        """``output_item.added`` and ``content_part.added``, once, before the first text."""
        if self._opened:
            return []
        self._opened = True
        item = OutputMessage(id=self.message_id, status="in_progress").model_dump()
        return [
            self._event("response.output_item.added", output_index=0, item=item),
            self._event("response.content_part.added", **self._where(), part=OutputText(text="").model_dump()),
        ]

    def _where(self) -> dict[str, Any]:
        return {"item_id": self.message_id, "output_index": 0, "content_index": 0}

    def _dump(self) -> dict[str, Any]:
        return self.response.model_dump()

    def _event(self, type: str, **data: Any) -> dict[str, Any]:
        event = {"type": type, "sequence_number": self._sequence, **data}
        self._sequence += 1
        return event


__all__ = ["ResponseBuilder", "response_usage"]
