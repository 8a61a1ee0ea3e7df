"""Parked permission requests: tool calls that wait for a person across restarts and nodes.

A row is written when a permission request becomes pending (before it is listed), and
deleted once the request is answered while its CLI still waits (the live path) or once a
woken CLI has applied the stored answer (the parked path). A row whose session has no
CLI waiting on it is *parked*: its ``decision`` is filled in by whoever answers it, on
any node, and the session's next CLI applies it (see
:mod:`claude_agent_server.sessions.parking`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update

from .tables import parked_permissions


@dataclass(slots=True)
class ParkedRecord:
    """One permission request kept in the registry (see :class:`~.tables.ParkedPermissionRow`)."""

    request_id: str
    session_id: str
    tool_use_id: str | None
    created_at: datetime
    request: dict[str, Any]
    """The request's JSON form (``PermissionRequest.to_dict()``: tool name and input, suggestions, ...)."""
    decision: dict[str, Any] | None = None
    """The answer once given: ``{allowed, message, updated_input, apply_suggestions, reason}``; None while unanswered."""
    parked_at: datetime | None = None
    """When its CLI stopped without answering it (it is *parked*); None while a CLI waits on it."""


Run = Callable[..., Awaitable[Any]]
"""The registry's ``_run(work, write=...)``: one transaction once the registry is available."""


class ParkedStore:
    """Permission requests in the registry's database (every call awaited; raises
    :class:`~.errors.RegistryUnavailable` while it cannot be reached)."""

    def __init__(self, run: Run) -> None:
        self._run = run

    async def put(self, record: ParkedRecord) -> None:
        """Record a pending request (its id is new)."""
        row = asdict(record)
        await self._run(lambda conn: conn.execute(parked_permissions.insert(), row), write=True)

    async def of_session(self, session_id: str, parked_only: bool = False) -> list[ParkedRecord]:
        """A session's requests (with ``parked_only``, the parked ones), oldest first."""
        query = (
            select(parked_permissions)
            .where(parked_permissions.c.session_id == session_id)
            .order_by(parked_permissions.c.created_at, parked_permissions.c.request_id)
        )
        if parked_only:
            query = query.where(parked_permissions.c.parked_at.is_not(None))
        return await self._run(lambda conn: [ParkedRecord(**row._mapping) for row in conn.execute(query)])

    async def park(self, request_ids: list[str], at: datetime) -> int:
        """Mark requests parked at ``at`` (their CLI stopped without answering them); returns how many."""
        if not request_ids:
            return 0
        query = update(parked_permissions).where(parked_permissions.c.request_id.in_(request_ids)).values(parked_at=at)
        return int(await self._run(lambda conn: conn.execute(query).rowcount, write=True))

    async def sessions(self, *, answered: bool = False, limit: int = 1000) -> list[str]:
        """Ids of sessions with parked requests (at most ``limit``).

        Args:
            answered: False: those with at least one parked request unanswered. True: those
                whose parked requests are all answered: their turn goes on once a CLI applies
                the answers (see :mod:`claude_agent_server.sessions.parking`).
        """
        row = parked_permissions.c
        unanswered = func.sum(case((row.decision.is_(None), 1), else_=0))
        query = (
            select(row.session_id)
            .where(row.parked_at.is_not(None))
            .group_by(row.session_id)
            .having(unanswered == 0 if answered else unanswered > 0)
            .limit(limit)
        )
        return await self._run(lambda conn: list(conn.scalars(query).all()))

    async def answer(self, request_id: str, decision: dict[str, Any]) -> bool:
        """Store the answer of an unanswered request; False when it is unknown or already answered."""
        query = (
            update(parked_permissions)
            .where(parked_permissions.c.request_id == request_id, parked_permissions.c.decision.is_(None))
            .values(decision=decision)
        )
        return bool(await self._run(lambda conn: conn.execute(query).rowcount, write=True))

    async def delete(self, request_ids: list[str]) -> int:
        """Forget requests (answered live, or applied by a woken CLI); returns how many were there."""
        if not request_ids:
            return 0
        query = delete(parked_permissions).where(parked_permissions.c.request_id.in_(request_ids))
        return int(await self._run(lambda conn: conn.execute(query).rowcount, write=True))

    async def forget_waiting(self, session_id: str) -> list[str]:
        """Forget a session's requests that a CLI waited on (not parked) once that CLI is gone
        without answering them (its node died, its server restarted); parked ones stay.

        Returns:
            The ids of the requests forgotten.
        """
        query = (
            delete(parked_permissions)
            .where(parked_permissions.c.session_id == session_id, parked_permissions.c.parked_at.is_(None))
            .returning(parked_permissions.c.request_id)
        )
        return await self._run(lambda conn: list(conn.scalars(query)), write=True)

    async def delete_session(self, session_id: str) -> int:
        """Forget every request of a session (it is closed)."""
        query = delete(parked_permissions).where(parked_permissions.c.session_id == session_id)
        return int(await self._run(lambda conn: conn.execute(query).rowcount, write=True))


__all__ = ["ParkedRecord", "ParkedStore"]
