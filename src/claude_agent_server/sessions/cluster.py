"""This node's part in the cluster: its heartbeat, the leases of the sessions it runs,
and taking over what a dead node left.

A session's CLI runs only on the node holding its lease (see ``store/leases.py``):
:meth:`NodeMembership.acquire` takes it before a CLI starts or wakes (raising
:class:`~.errors.SessionElsewhere` when another live node holds it) and
:meth:`NodeMembership.release` gives it back once the CLI has exited. The heartbeat
(:meth:`NodeMembership.run`) renews every lease of this node.

A lease that expired belongs to a dead node. Whichever node meets it first (its heartbeat,
or a request for the session: :meth:`~NodeMembership.elsewhere`, :meth:`~NodeMembership.acquire`)
*claims* it in one statement, so exactly one node takes each session over
(:meth:`~NodeMembership.take_over`): a running turn ends with an ``error`` event and the
permission requests its CLI waited on are denied, both with reason ``node_lost`` (see
:mod:`.takeover`); the record becomes ``hibernated``, written after those events, and only
then is the lease released. Until then every other node sees the lease held by the
claimer and forwards requests to it, and the claimer answers them once the takeover is
done: no node ever sees the session hibernated before its events are written. On the
claimer itself the claimed lease is its own, which its lookups read as "no other node's"
(free) or "taken": a request that looked while its takeover began waits for it and looks again.

Fencing, the other side of a lease, is in :mod:`.fencing`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING

from ..store import Registry, RegistryUnavailable, SessionRecord, StoreError, utcnow
from .errors import SessionElsewhere
from .events import EventLog
from .journal import EventJournal
from .fencing import NodeFencing
from .takeover import end_lost_turn, recorder

if TYPE_CHECKING:
    from .owners import OwnerLookup

log = logging.getLogger(__name__)

NODE_LOST = "node_lost"


class NodeMembership(NodeFencing):
    """Leases and heartbeat of one node.

    Args:
        registry: The shared registry.
        journal: Where the events of taken-over sessions go.
        node_id: This node's id.
        url: This node's URL for other nodes (None while unknown).
        heartbeat: Seconds between heartbeats.
        live: How many CLIs this node runs now.
        permission_timeout: Seconds a permission request may wait (bounds the search for pending ones).
        loaded: The event log of a session loaded on this node without a CLI (its streams
            get the events of a takeover), or None.
        fence: Stops the CLI of a session whose lease this node no longer holds (or cannot
            vouch for), writing nothing, and forgets the session (see the module's docstring).
    """

    def __init__(
        self, registry: Registry, journal: EventJournal, node_id: str, url: Callable[[], str | None],
        heartbeat: float, live: Callable[[], int], permission_timeout: float,
        loaded: Callable[[str], EventLog | None] = lambda session_id: None,
        fence: Callable[[str], None] = lambda session_id: None,
    ) -> None:
        self._registry = registry
        self._journal = journal
        self._record = recorder(journal, loaded)
        self.node_id = node_id
        self._url = url
        self._heartbeat = heartbeat
        self._live = live
        self._permission_timeout = permission_timeout
        self._started_at = utcnow()
        self._settling: dict[str, asyncio.Task[bool]] = {}
        """The release or takeover of a session's lease under way (an acquire waits for it)."""
        self._fence = fence
        self._held: dict[str, float] = {}
        """Sessions whose lease :meth:`acquire` took (their CLI runs or starts here), with the
        monotonic time it was taken; a release forgets them."""
        self._renewed_at = time.monotonic()
        """Monotonic time at which the last successful renewal was sent."""
        self._forsaken: set[str] = set()
        """Sessions the watchdog fenced while their lease may still be this node's: what their CLI
        left is recorded by this node (:meth:`_reclaim`) unless another node claims them first."""

    async def acquire(self, session_id: str) -> None:
        """Take the session's lease for this node (before its CLI starts or wakes); a dead
        node's is taken over first (see :meth:`take_over`).

        Raises:
            SessionElsewhere: Another live node holds it.
            StoreError: The registry cannot be written now.
        """
        while True:
            await self._settled(session_id)  # a release under way must not delete the lease taken now
            if session_id in self._forsaken:
                await self._reclaimed(session_id)
                continue
            lease = await self._registry.cluster.take(session_id, self.node_id)
            if session_id in self._settling:
                continue  # this node's takeover (or release) of it began meanwhile: what was taken may be its claim
            if lease.acquired:
                self._held[session_id] = time.monotonic()
                return
            holder = lease.holder
            assert holder is not None
            if not holder.dead:
                raise SessionElsewhere(session_id, holder.node_id, holder.url)
            await self.take_over(session_id, holder.node_id)  # by this node, or another claimed it: look again

    def release(self, session_id: str) -> None:
        """Give the lease back (in the background; a later :meth:`acquire` waits for it)."""
        self._held.pop(session_id, None)

        async def release() -> bool:
            try:
                await self._registry.cluster.release(session_id, self.node_id)
            except Exception as exc:  # the lease expires with the heartbeat's end anyway
                log.warning("could not release the lease of session %s: %s", session_id, exc)
            return False

        self._settle(session_id, release())

    async def elsewhere(self, session_id: str, owners: OwnerLookup) -> None:
        """Raise :class:`SessionElsewhere` when another live node holds the session's lease; a
        dead node's is taken over first (so no node reads the record of a session that a dead
        node left ``live`` before the takeover's events are written).

        Raises:
            SessionElsewhere: Another live node holds it (maybe the one taking it over now).
            StoreError: The registry cannot be read or written now.
        """
        while True:
            await self._settled(session_id)  # a takeover by this node is finished first
            if session_id in self._forsaken:  # its record is read once what its CLI left is written
                await self._reclaimed(session_id)
                continue
            holder = await owners.owner(session_id)  # a live holder remembered for a moment; a dead one never
            if session_id in self._settling:
                continue  # this node's takeover of it began meanwhile: its claim reads as no other node's lease
            if holder is None:
                return
            if not holder.dead:
                raise SessionElsewhere(session_id, holder.node_id, holder.url)
            await self.take_over(session_id, holder.node_id)  # ours or another node's now: look again

    async def take_over(self, session_id: str, dead: str) -> bool:
        """Claim ``dead``'s expired lease of the session and record what it left (see the
        module's docstring); the lease is released once that is durable.

        Returns:
            True when this node claimed it; False when it was not ``dead``'s expired lease
            (another node claimed it, it was renewed or released).

        Raises:
            StoreError: The registry cannot be written now (the claim, if made, is given
                back expired: the next heartbeat of some node claims it again).
        """
        await self._settled(session_id)
        return await asyncio.shield(self._settle(session_id, self._take_over(session_id, dead)))

    async def beat(self) -> list[str]:
        """One heartbeat: this node's row and leases renewed (:meth:`renew`), dead nodes' sessions taken over.

        Returns:
            The ids of the sessions this node took over.
        """
        await self.renew()
        return await self._reap()

    async def _reap(self) -> list[str]:
        """Take over dead nodes' sessions (see :meth:`take_over`); the ids of those this node took."""
        expired = await self._registry.cluster.expired(self.node_id)
        results = await asyncio.gather(*(self.take_over(sid, node) for sid, node in expired), return_exceptions=True)
        for (sid, _), result in zip(expired, results):
            if isinstance(result, BaseException):
                log.warning("session %s: taking it over from a dead node failed: %s", sid, result)
        return [sid for (sid, _), result in zip(expired, results) if result is True]

    async def renew(self) -> None:
        """Renew this node's row and leases; fence every session it runs whose lease another
        node holds now (one taken before the renewal was sent and not renewed by it).

        Raises:
            StoreError: The registry cannot be written now.
        """
        url = self._url()
        if url is None:
            return
        sent = time.monotonic()
        held = await self._registry.cluster.beat(self.node_id, url, self._started_at, self._live())
        self._renewed_at = max(self._renewed_at, sent)
        if self.fencing:
            moved = [sid for sid, taken in self._held.items() if taken < sent and sid not in held]
            self._fence_all(moved, "its lease is held by another node now (this node stalled)")
            for sid in list(self._forsaken):
                if sid not in held:
                    self._forsaken.discard(sid)  # claimed by another node: it records what was left
                elif sid not in self._settling:
                    self._settle(sid, self._reclaim(sid))  # still this node's: it records it (acquire waits)

    async def run(self) -> None:
        """Heartbeat every ``heartbeat`` seconds, forever, with the watchdog that fences sessions
        whose leases are not renewed in time (a task; cancel it to stop)."""
        watchdog = asyncio.create_task(self._watch(), name="node-fencing")
        reaping: asyncio.Task[None] | None = None
        try:
            while True:
                started = time.monotonic()
                try:
                    await self.renew()
                    if reaping is None or reaping.done():  # takeovers may take a while: renewals stay on time
                        reaping = asyncio.create_task(self._logged(self._reap()), name="node-takeovers")
                except (StoreError, OSError) as exc:
                    log.warning("node %s: heartbeat failed: %s", self.node_id, exc)
                except Exception:
                    log.exception("node %s: heartbeat failed", self.node_id)
                await asyncio.sleep(max(0.0, self._heartbeat - (time.monotonic() - started)))
        finally:
            watchdog.cancel()
            if reaping is not None:
                reaping.cancel()

    async def _logged(self, work: Coroutine[object, object, object]) -> None:
        try:
            await work
        except (StoreError, OSError) as exc:
            log.warning("node %s: heartbeat failed: %s", self.node_id, exc)
        except Exception:
            log.exception("node %s: heartbeat failed", self.node_id)

    async def stop(self) -> None:
        """A clean stop: leases released, the node marked stopped."""
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._settling.values())
        await self._registry.cluster.stop(self.node_id)

    def _settle(self, session_id: str, work: Coroutine[object, object, bool]) -> asyncio.Task[bool]:
        """Run ``work`` as the session's settling task (registered with no ``await`` before it)."""
        task = asyncio.create_task(work, name=f"lease-{session_id[:8]}")
        self._settling[session_id] = task

        def done(_: asyncio.Task[bool]) -> None:
            if self._settling.get(session_id) is task:
                del self._settling[session_id]

        task.add_done_callback(done)
        return task

    async def _settled(self, session_id: str) -> None:
        """Wait until no release or takeover of the session's lease is under way on this node."""
        while (pending := self._settling.get(session_id)) is not None:
            if pending.done():  # its done callback has not run yet
                del self._settling[session_id]
            else:
                await asyncio.wait([pending])  # neither raises its error nor cancels it

    async def _take_over(self, session_id: str, dead: str) -> bool:
        claim = await self._registry.cluster.claim(session_id, dead, self.node_id)
        if claim is None:
            return False
        try:
            if claim.record is not None:
                await self._lost(claim.record, dead)
        except BaseException:
            with contextlib.suppress(Exception):
                await self._registry.cluster.unclaim(session_id, dead, self.node_id)
            raise
        await self._registry.cluster.release(session_id, self.node_id)
        return True

    async def _reclaimed(self, session_id: str) -> None:
        """Wait until what a session fenced by the watchdog left is recorded (see :meth:`_reclaim`)."""
        if session_id in self._forsaken and session_id not in self._settling:
            self._settle(session_id, self._reclaim(session_id))
        await self._settled(session_id)
        if session_id in self._forsaken:  # it failed
            raise RegistryUnavailable(f"what session {session_id} left on this node is not recorded yet", retry_after=1)

    async def _reclaim(self, session_id: str) -> bool:
        """A session the watchdog fenced (its CLI stopped while its lease was perhaps still this
        node's): when this node holds the lease, record what the CLI left as a takeover does
        (:meth:`_lost`) and release it; when another node does, that node records it."""
        self._forsaken.discard(session_id)
        try:
            lease = await self._registry.cluster.take(session_id, self.node_id)
            if not lease.acquired:
                return False
            await self._registry.flush()
            record = await self._registry.get(session_id)
            if record is not None:
                await self._lost(record, self.node_id, f"node {self.node_id} stopped its CLI: it could not renew its lease in time")
        except BaseException as exc:
            self._forsaken.add(session_id)  # tried again at the next renewal or use
            if not isinstance(exc, Exception):
                raise
            log.warning("session %s: recording what its fenced CLI left failed: %s", session_id, exc)
            return False
        try:
            await self._registry.cluster.release(session_id, self.node_id)
        except Exception as exc:  # the lease expires with the heartbeat's end anyway; the record is hibernated
            log.warning("could not release the lease of session %s: %s", session_id, exc)
        return True

    async def _lost(self, record: SessionRecord, node: str, message: str | None = None) -> None:
        """Record what a dead node left of a session: its turn's end (:func:`.takeover.end_lost_turn`:
        the event log tells whether one ran, whatever the record says), then the record
        ``hibernated``, both durable before this returns."""
        sid, message = record.session_id, message or f"node {node} was lost"
        log.warning("session %s: %s; its CLI is gone (record %s, status %s)", sid, message, record.state, record.status)
        ended = await end_lost_turn(self._registry, self._record, record, NODE_LOST, message, self._permission_timeout)
        if record.state == "live" or ended:  # (a closed record ends nothing and stays closed)
            self._record(sid, "status", status="hibernated")
            record.state, record.status = "hibernated", "hibernated"
            self._registry.update(record)  # queued after the events: written with them or after them
            self._journal.announce("session_status", sid, status="hibernated", state="hibernated")
        await self._registry.flush()
