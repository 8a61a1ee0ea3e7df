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
        timeout: Seconds a request waits before it is denied.
        durable: Awaited after a request's event is published and before :meth:`pending` lists
            it (the registry has written it), so a request anyone may act on, through any node,
            outlives this process; None: listed at once.
    """

    def __init__(
        self, sink: EventSink, timeout: float, durable: Callable[[], Awaitable[None]] | None = None,
        listed: Callable[[], None] | None = None,
    ) -> None:
        self._sink = sink
        self._on_listed = listed
        self._timeout = timeout
        self._durable = durable
        self._pending: dict[str, PermissionRequest] = {}
        self._listed: set[str] = set()
        self._refusal: PermissionDecision | None = None

    def find(self, request_id: str) -> PermissionRequest | None:
        """The unanswered request ``request_id``, listed yet or not."""
        return self._pending.get(request_id)

    def unanswered(self) -> list[PermissionRequest]:
        """Every unanswered request, oldest first, listed yet or not (answers may come as soon as its event)."""
        return list(self._pending.values())

    def pending(self) -> list[PermissionRequest]:
        """Pending requests, oldest first (each once it is durable)."""
        return [request for request in self._pending.values() if request.request_id in self._listed]

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
                    await self._durable()
            if not request.resolved:
                self._listed.add(request.request_id)
                if self._on_listed is not None:
                    self._on_listed()  # the session's status becomes "waiting for a permission" now
            async with asyncio.timeout(self._timeout):
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
        self._sink(
            "permission_resolved",
            request_id=request.request_id,
            tool_use_id=request.tool_use_id,
            allowed=decision.allowed,
            applied_suggestions=decision.allowed and decision.apply_suggestions,
            reason=decision.reason,
            message=decision.message,
        )
        return True


def _to_result(
    request: PermissionRequest, decision: PermissionDecision
) -> PermissionResultAllow | PermissionResultDeny:
    if not decision.allowed:
        message = decision.message or "The user denied this tool call"
        return PermissionResultDeny(message=message, interrupt=decision.reason == "interrupted")
    updates = request.suggestions if decision.apply_suggestions else None
    return PermissionResultAllow(updated_input=decision.updated_input, updated_permissions=updates or None)
