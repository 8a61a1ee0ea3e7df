"""The registry writer's part while the database is away (mixed into :class:`~.writer.Writer`):
move what waits in memory to the spill file, drop the oldest events beyond ``buffer_bytes``
when there is no usable spill file, and wait between retries (see the writer's docstring)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import TYPE_CHECKING

from .batches import Item
from .health import Outage
from .spill import SpillFile

__all__ = ["Spilling"]


class Spilling:
    """Spilling and shedding for :class:`~.writer.Writer` (whose attributes these are)."""

    _spill: SpillFile | None
    _events: deque[Item]
    _records: dict[str, Item]
    _bytes: int
    _limit: int
    _outage: Outage
    _wake: asyncio.Event
    _writing: asyncio.Lock
    spilled: int

    if TYPE_CHECKING:
        def _waiting(self) -> bool: ...
        def _drop(self, what: str, why: str, count: int = 1) -> None: ...
        def _update_durable(self) -> None: ...
        def _update_caught_up(self) -> None: ...

    async def _pause(self) -> None:
        """Wait before the next attempt (the delay doubles up to ``max_retry_delay``); spill
        meanwhile whenever a flush waits or memory is over its bound."""
        loop = asyncio.get_running_loop()
        retry_at = self._outage.next_retry()
        while True:
            self._wake.clear()  # before the check: a flush during the spill wakes the wait below
            if (self._waiting() or self._bytes > self._limit) and (self._events or self._records):
                async with self._writing:
                    await self._spill_memory()
            if (left := retry_at - loop.time()) <= 0:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await self._wake.wait()

    async def _spill_memory(self) -> None:
        """Move everything in memory to the spill file (after what it holds), or, without a
        usable one, drop the oldest events beyond ``buffer_bytes``."""
        spill = self._spill
        if spill is None or not (self._events or self._records):
            self._shed("there is no spill file")
            return
        events, records = list(self._events), list(self._records.values())
        if error := await asyncio.to_thread(spill.try_append, [i.row for i in events], [i.row for i in records]):
            self._shed(f"the spill file cannot be written ({error})")
            return
        for _ in events:
            self._bytes -= self._events.popleft().size
        for item in records:
            if self._records.get(item.row["session_id"]) is item:
                self._bytes -= self._records.pop(item.row["session_id"]).size
        self.spilled += len(events)
        self._update_durable()
        self._update_caught_up()

    def _shed(self, why: str) -> None:
        count = 0
        while self._bytes > self._limit and self._events:
            self._bytes -= self._events.popleft().size
            count += 1
        if count:
            self._drop(f"{count} events beyond the {self._limit} bytes kept in memory", why, count)
            self._update_durable()
