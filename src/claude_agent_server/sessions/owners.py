"""Which other node runs a session: the registry's lease, remembered for a moment.

A request for a session that is not live here asks the registry whether another live node
holds its lease (:func:`~..store.leases.owner`); if so the request is forwarded there
(``web/forward.py``). :class:`OwnerLookup` keeps each answer "node X holds it" for
:data:`OWNER_TTL` seconds, so a burst of requests for one session (a turn, its events, a
permission answer) costs one database round trip, not one each.

A remembered owner may be stale (the session hibernated on X, or moved to Y). That never
misroutes a request: X re-checks its own lease when the forwarded request arrives and either
serves it (live there, or free: X wakes it) or answers that it is not the owner; the forwarder
then forgets the entry (:meth:`OwnerLookup.forget`) and asks the registry again, as it does
when X does not answer at all (so a dead node's entry is dropped at the first failure).
Only "another node holds it" is remembered: "no one does" is always asked afresh, since this
node then takes the lease itself, in the statement that checks it.
"""

from __future__ import annotations

import time

from ..store import Owner, Registry

__all__ = ["OWNER_TTL", "OwnerLookup"]

OWNER_TTL = 1.0
"""Seconds an owner read from the registry is used without asking again."""
MAX_ENTRIES = 10_000
"""Entries kept at most (the oldest are dropped first)."""


class OwnerLookup:
    """The registry's answer to "which other node holds this session's lease?", cached briefly.

    Args:
        registry: The shared registry.
        node_id: This node's id (its own leases are never "elsewhere").
        ttl: Seconds an answer is reused (0: always ask the registry).
    """

    def __init__(self, registry: Registry, node_id: str, ttl: float = OWNER_TTL) -> None:
        self._registry = registry
        self._node_id = node_id
        self._ttl = ttl
        self._known: dict[str, tuple[Owner, float]] = {}

    async def owner(self, session_id: str, fresh: bool = False) -> Owner | None:
        """The other node holding ``session_id``'s lease (``dead`` when its lease expired), or None
        (free or this node's).

        Args:
            fresh: Ask the registry even when an answer is remembered.

        Raises:
            StoreError: The registry cannot be read.
        """
        if not fresh and (known := self._known.get(session_id)) is not None:
            if known[1] > time.monotonic():
                return known[0]
            del self._known[session_id]
        holder = await self._registry.cluster.owner(session_id, self._node_id)
        if holder is None or holder.dead:  # a dead holder's lease is claimed next: never remembered
            self._known.pop(session_id, None)
        elif self._ttl > 0:
            if len(self._known) >= MAX_ENTRIES:
                del self._known[next(iter(self._known))]
            self._known[session_id] = (holder, time.monotonic() + self._ttl)
        return holder

    def forget(self, session_id: str) -> None:
        """Drop what is remembered of ``session_id`` (forwarding to it failed or was refused)."""
        self._known.pop(session_id, None)
