"""Stored Responses-API responses: ``resp_…`` id → the session and turn that produced it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from .tables import responses


@dataclass(slots=True)
class ResponseRecord:
    """One stored response (see :class:`~.tables.ResponseRow`)."""

    id: str
    session_id: str
    turn: int
    message_uuid: str | None
    previous_response_id: str | None
    created_at: datetime
    body: dict[str, Any]
    input: list[dict[str, Any]]


Run = Callable[..., Awaitable[Any]]
"""The registry's ``_run(work, write=...)``: one transaction once the registry is available."""


class ResponseStore:
    """Responses in the registry's database (every call awaited; raises
    :class:`~.errors.RegistryUnavailable` while it cannot be reached)."""

    def __init__(self, run: Run) -> None:
        self._run = run

    async def put(self, record: ResponseRecord) -> None:
        """Insert a response (its id is new)."""
        row = asdict(record)
        await self._run(lambda conn: conn.execute(responses.insert(), row), write=True)

    async def get(self, response_id: str) -> ResponseRecord | None:
        """The response with this id, or None."""
        query = select(responses).where(responses.c.id == response_id)

        def read(conn: Connection) -> ResponseRecord | None:
            row = conn.execute(query).first()
            return None if row is None else ResponseRecord(**row._mapping)

        return await self._run(read)

    async def delete(self, response_id: str) -> bool:
        """Delete a response (not its session); False when there was none."""
        query = delete(responses).where(responses.c.id == response_id)
        return bool(await self._run(lambda conn: conn.execute(query).rowcount, write=True))


__all__ = ["ResponseRecord", "ResponseStore"]
