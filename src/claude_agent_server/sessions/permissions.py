"""The permission broker: Claude Code asks to use a tool, a human answers over HTTP.

The SDK calls :meth:`PermissionBroker.can_use_tool` (its ``can_use_tool``
callback) for every tool call that would prompt. The broker registers a
:class:`PermissionRequest`, publishes a ``permission_request`` event and waits on
a future. Several requests can be pending at once (parallel tool calls,
subagents). A request ends when it is answered (:meth:`respond`), times out,
or is cancelled by an interrupt or the session closing (:meth:`deny_all`); each
end publishes ``permission_resolved`` and removes the request, so a late answer
gets :class:`PermissionNotFound`. A wait the SDK cancels is resolved as
``cancelled``.

A request can also be *parked* (:meth:`PermissionBroker.park`): its CLI is stopped
without an answer, and the request stays pending as a :class:`ParkedRequest`, kept in the
registry (see :mod:`.parking`); an answer to it goes to the ``parked_answer`` callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from claude_agent_sdk import (
    PermissionResultAllow,
    PermissionResultDeny,
    PermissionUpdate,
    ToolPermissionContext,
)

from .errors import PermissionNotFound

EventSink = Callable[..., Any]
"""``sink(event_type, **data)``: where the broker publishes its events."""


@dataclass(frozen=True, slots=True)
class PermissionDecision:
    """A human's answer to a permission request."""

    allowed: bool
    apply_suggestions: bool = False
    message: str | None = None
    updated_input: dict[str, Any] | None = None
    reason: str = "user"


@dataclass(slots=True)
class PermissionRequest:
    """A tool call waiting for a human's decision."""

    request_id: str
    tool_name: str
    tool_input: dict[str, Any]
    suggestions: list[PermissionUpdate]
    tool_use_id: str | None
    created_at: str
    """UTC ISO-8601."""
    title: str | None = None
    description: str | None = None
    blocked_path: str | None = None
    decision_reason: str | None = None
    agent_id: str | None = None
    resolved: bool = False
    future: asyncio.Future[PermissionDecision] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ids, tool name and input, suggestions in wire form, and the CLI's prompt text."""
        return {
            "request_id": self.request_id,
            "tool_name": self.tool_name,
            "tool_input": self.tool_input,
            "suggestions": [_suggestion_dict(s) for s in self.suggestions],
            "tool_use_id": self.tool_use_id,
            "created_at": self.created_at,
            "title": self.title,
            "description": self.description,
            "blocked_path": self.blocked_path,
            "decision_reason": self.decision_reason,
            "agent_id": self.agent_id,
        }


@dataclass(slots=True)
class ParkedRequest:
    """A pending request whose CLI is gone: it waits in the registry for a person.

    Attributes:
        request: Its JSON form, as :meth:`PermissionRequest.to_dict` gave it.
        decision: The answer once given (the session's next CLI applies it).
    """

    request: dict[str, Any]
    decision: PermissionDecision | None = None
    marked: bool = False
    """The registry lists it as parked (else only this process knows it is)."""

    @property
    def request_id(self) -> str:
        return str(self.request["request_id"])

    @property
    def tool_use_id(self) -> str | None:
        return self.request.get("tool_use_id")

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as the live request had it."""
        return dict(self.request)


def _suggestion_dict(update: PermissionUpdate) -> dict[str, Any]:
    try:
        return update.to_dict()
    except ValueError:
        return {"type": update.type, "destination": update.destination}


class PermissionBroker:
    """Pending permission requests of one session.

    Args:
        sink: Called as ``sink("permission_request", **request)`` and
            ``sink("permission_resolved", request_id=..., allowed=..., reason=..., message=...)``.
        timeout: Seconds a request waits before it is denied; 0: it waits until answered.
        durable: Awaited with the request after its event is published and before :meth:`pending`
            lists it (the registry has written it), so a request anyone may act on, through any
            node, outlives this process; None: listed at once.
        resolved: Called with a request and its decision once it is answered, timed out or cancelled.
        parked_answer: Called with a parked request once :meth:`respond` gave it its decision.
    """

    def __init__(
        self, sink: EventSink, timeout: float, durable: Callable[[PermissionRequest], Awaitable[None]] | None = None,
        listed: Callable[[], None] | None = None,
        resolved: Callable[[PermissionRequest, PermissionDecision], None] | None = None,
        parked_answer: Callable[[ParkedRequest], None] | None = None,
    ) -> None:
        self._sink = sink
        self._on_listed = listed
        self._on_resolved = resolved
        self._on_parked_answer = parked_answer
        self._timeout = timeout
        self._durable = durable
        self._pending: dict[str, PermissionRequest] = {}
        self._listed: set[str] = set()
        self._refusal: PermissionDecision | None = None
        self.parked: dict[str, ParkedRequest] = {}
        """Parked requests by id, answered or not (kept until the session's CLI applied them)."""

    def find(self, request_id: str) -> PermissionRequest | ParkedRequest | None:
        """The unanswered request ``request_id``, listed yet or not, live or parked."""
        return self._pending.get(request_id) or self._waiting_parked().get(request_id)

    def unanswered(self) -> list[PermissionRequest | ParkedRequest]:
        """Every unanswered request, oldest first, listed yet or not (answers may come as soon as its
        event): parked ones, then live ones."""
        return [*self._waiting_parked().values(), *self._pending.values()]

    def pending(self) -> list[PermissionRequest | ParkedRequest]:
        """Pending requests, oldest first (each once it is durable): parked ones, then live ones."""
        live = [request for request in self._pending.values() if request.request_id in self._listed]
        return [*self._waiting_parked().values(), *live]

    def _waiting_parked(self) -> dict[str, ParkedRequest]:
        return {rid: parked for rid, parked in self.parked.items() if parked.decision is None}

    def park(self, parkable: Callable[[PermissionRequest], bool] = lambda request: True) -> list[PermissionRequest]:
        """Park every live request that is ``parkable`` (its CLI is being stopped without an answer):
        each stays pending as a :class:`ParkedRequest`, with no ``permission_resolved``; its wait ends.

        Returns:
            The requests parked, oldest first.
        """
        parked = [request for request in self._pending.values() if parkable(request)]
        for request in parked:
            request.resolved = True
            self._pending.pop(request.request_id, None)
            self._listed.discard(request.request_id)
            self.parked[request.request_id] = ParkedRequest(request.to_dict())
            if not request.future.done():
                request.future.set_result(PermissionDecision(False, message="The request was parked", reason="parked"))
        return parked

    async def can_use_tool(
        self, tool_name: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResultAllow | PermissionResultDeny:
        """The SDK's ``can_use_tool`` callback: wait for a human, the timeout or a cancel."""
        request = PermissionRequest(
            request_id=str(uuid.uuid4()),
            tool_name=tool_name,
            tool_input=tool_input,
            suggestions=list(context.suggestions or []),
            tool_use_id=context.tool_use_id,
            created_at=datetime.now(UTC).isoformat(),
            title=context.title,
            description=context.description,
            blocked_path=context.blocked_path,
            decision_reason=context.decision_reason,
            agent_id=context.agent_id,
        )
        self._pending[request.request_id] = request
        self._sink("permission_request", **request.to_dict())
        if self._refusal is not None:
            self._resolve(request, self._refusal)
        try:
            if self._durable is not None and not request.resolved:
                with contextlib.suppress(Exception):  # the registry is away: listed all the same
                    await self._durable(request)
            if not request.resolved:
                self._listed.add(request.request_id)
                if self._on_listed is not None:
                    self._on_listed()  # the session's status becomes "waiting for a permission" now
            async with asyncio.timeout(self._timeout or None):
                decision = await request.future
        except TimeoutError:
            decision = PermissionDecision(
                allowed=False,
                message=f"No answer to the permission request within {self._timeout:g} s",
                reason="timeout",
            )
            self._resolve(request, decision)
        finally:  # cancelled by the SDK: still resolve it, once
            self._resolve(request, PermissionDecision(False, message="The permission request was cancelled", reason="cancelled"))
        return _to_result(request, decision)

    def respond(self, request_id: str, decision: PermissionDecision) -> None:
        """Answer a pending request; ``permission_resolved`` is published before this returns.

        Raises:
            PermissionNotFound: The id is unknown, already answered or expired.
        """
        parked = self._waiting_parked().get(request_id)
        if parked is not None:
            parked.decision = decision
            self._sink("permission_resolved", **_resolution(parked.request_id, parked.tool_use_id, decision))
            if self._on_parked_answer is not None:
                self._on_parked_answer(parked)
            return
        request = self._pending.get(request_id)
        if request is None or request.resolved:
            raise PermissionNotFound(request_id)
        self._resolve(request, decision)

    def deny_all(self, reason: str, message: str) -> int:
        """Deny every pending request (interrupt, session close). Returns how many."""
        decision = PermissionDecision(allowed=False, message=message, reason=reason)
        return sum(self._resolve(request, decision) for request in list(self._pending.values()))

    def refuse(self, reason: str, message: str) -> None:
        """Deny every pending request and, from now on, every new one at once (server shutdown)."""
        self._refusal = PermissionDecision(allowed=False, message=message, reason=reason)
        self.deny_all(reason, message)

    def _resolve(self, request: PermissionRequest, decision: PermissionDecision) -> bool:
        if request.resolved:
            return False
        request.resolved = True
        self._pending.pop(request.request_id, None)
        self._listed.discard(request.request_id)
        if not request.future.done():
            request.future.set_result(decision)
        self._sink("permission_resolved", **_resolution(request.request_id, request.tool_use_id, decision))
        if self._on_resolved is not None:
            self._on_resolved(request, decision)
        return True


def _resolution(request_id: str, tool_use_id: str | None, decision: PermissionDecision) -> dict[str, Any]:
    """The data of a ``permission_resolved`` event."""
    return {
        "request_id": request_id,
        "tool_use_id": tool_use_id,
        "allowed": decision.allowed,
        "applied_suggestions": decision.allowed and decision.apply_suggestions,
        "reason": decision.reason,
        "message": decision.message,
    }


def _to_result(
    request: PermissionRequest, decision: PermissionDecision
) -> PermissionResultAllow | PermissionResultDeny:
    if not decision.allowed:
        message = decision.message or "The user denied this tool call"
        return PermissionResultDeny(message=message, interrupt=decision.reason == "interrupted")
    updates = request.suggestions if decision.apply_suggestions else None
    return PermissionResultAllow(updated_input=decision.updated_input, updated_permissions=updates or None)
