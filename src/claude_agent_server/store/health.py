"""The database as the registry's writer sees it: reachable or not since when, when to retry,
and what it reports (for ``/health`` and the metrics)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from .errors import RegistryUnavailable, one_line

log = logging.getLogger(__name__)

DatabaseStatus = Literal["ok", "unavailable", "catching_up"]


@dataclass(frozen=True, slots=True)
class WriterHealth:
    """The writer's view of the database, for ``/health`` and the metrics.

    ``status``: ``ok``; ``unavailable`` (writes fail; ``since`` when they began to,
    ``error`` the last failure); ``catching_up`` (it answers again, the spill file
    is being written). ``pending_events``: accepted, not yet in the database (in
    memory or spilled); ``spilled_bytes``: bytes of the spill file not yet written.
    Counted since the registry opened: ``persisted`` events written, ``spilled`` events
    moved to the spill file (written later), ``dropped`` events lost (neither written nor
    spilled; should stay 0), ``batches`` write transactions committed.
    """

    status: DatabaseStatus
    since: datetime | None
    error: str | None
    pending_events: int
    spilled_bytes: int
    persisted: int
    spilled: int
    dropped: int
    batches: int

    def to_dict(self) -> dict[str, Any]:
        """The database's state as ``/health`` reports it (the counters are the metrics')."""
        return {
            "status": self.status,
            "since": self.since.isoformat() if self.since else None,
            "error": self.error,
            "pending_events": self.pending_events,
            "spilled_bytes": self.spilled_bytes,
        }


class Outage:
    """Whether the database answers: since when it does not, the last error, and when to retry.

    Args:
        first_delay: Seconds before the first retry of a failed write, doubling each time...
        max_delay: ...up to this many.
        name: Whose writes, for the log.
    """

    def __init__(self, first_delay: float, max_delay: float, *, name: str = "registry") -> None:
        self.name = name
        self.since: datetime | None = None
        """When writes began to fail (UTC); None while the database answers."""
        self.error: str | None = None
        """The last failure, in one line."""
        self.retry_at = 0.0
        """Loop time of the next attempt while down."""
        self._first = first_delay
        self._max = max_delay
        self._delay = first_delay

    def went_down(self, exc: BaseException) -> None:
        """A write or a read met ``exc`` (the database cannot be reached)."""
        self.error = one_line(exc)
        if self.since is None:
            self.since = datetime.now(UTC)
            self.retry_at = asyncio.get_running_loop().time()
            log.error("%s: the database cannot be reached (%s); keeping what waits and retrying", self.name, self.error)

    def next_retry(self) -> float:
        """Schedule the next attempt (the delay doubles up to ``max_delay``); its loop time."""
        self.retry_at = asyncio.get_running_loop().time() + self._delay
        self._delay = min(self._delay * 2, self._max)
        return self.retry_at

    def answered(self, waiting: int, what: str = "spilled events") -> None:
        """A write succeeded (``waiting``: ``what`` still waits to be written, e.g. events in the spill file)."""
        if self.since is not None:
            downtime = (datetime.now(UTC) - self.since).total_seconds()
            log.warning("%s: the database answers again after %.1f s; writing %d %s", self.name, downtime, waiting, what)
            self.since = None
            self.error = None
        self._delay = self._first

    def refusal(self, reason: str | None = None) -> RegistryUnavailable:
        """The error for a caller refused now, with the seconds until the next attempt."""
        if self.since is not None:
            wait = self.retry_at - asyncio.get_running_loop().time()
            return RegistryUnavailable(reason or self.error or "unreachable", since=self.since, retry_after=wait)
        return RegistryUnavailable(reason or "catching up with what was written while it was unreachable", retry_after=1)
