"""Fencing: a node that may have lost a session's lease stops its CLI before anyone else runs one.

On a registry other nodes share (see ``ClusterStore.shared``), a node that
stalls (SIGSTOP, a long pause, a hung database connection) for longer than the lease
loses its sessions to the node that claims them; when it resumes, its CLIs must not run
on. So each renewal returns the leases this node still holds
(:func:`~..store.nodes.beat`), and every session it runs whose lease is not among them
(and was taken before that renewal began) is *fenced*: its CLI is killed at once, nothing
of it is written (no event, no record, no lease released: the claimer owns them now) and
the session is dropped from this node's memory, so the next request for it goes to the
node that holds it. A node also fences itself before anyone can claim: a watchdog task,
independent of the heartbeat's own ``await`` (which may hang with the database), fences
every session whose lease it has not confirmed (renewed, or taken) for
:attr:`NodeFencing.fence_after` seconds, less than the lease; and a request for a
session running here runs a renewal first when that confirmation is as old
(:meth:`NodeFencing.confirm`), so a node resumed after a SIGSTOP serves nothing before
it has checked.

Clocks: a lease's ``expires_at`` is the renewing node's wall clock (``utcnow()`` taken
before its statement) plus the lease, and another node compares it with its own wall
clock. This node measures the age of a renewal on its monotonic clock from before the
statement was sent, so its own fencing never comes later than its leases' expiry by its
own clock. The assumption: the nodes' wall clocks differ by less than the lease minus
:attr:`~NodeFencing.fence_after` less one watchdog tick (NTP-synchronised hosts do, by
far); a node whose clock runs ahead of the others' by more may see a lease expired while
its holder still runs the CLI.

Three parts, one per class they join: :class:`NodeFencing` (the node's view of its leases:
their age, the watchdog), :class:`ManagerFencing` (the sessions whose lease this node took,
and forgetting one that is fenced) and :class:`SessionFencing` (a session's own stop).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from ..store import Registry, RegistryUnavailable
from .deferral import kill_process
from .errors import SessionError, SessionMoved
from .events import Event, EventLog
from .lifecycle import Phase

if TYPE_CHECKING:
    from .cluster import NodeMembership
    from .model_keys import ModelKeys
    from .owner import ClientOwner
    from .permissions import PermissionBroker
    from .pool import WarmPool
    from .session import Session
    from .slots import LiveSlots

__all__ = ["ManagerFencing", "NodeFencing", "SessionFencing"]

log = logging.getLogger(__name__)


class NodeFencing:
    """The node's side (mixed into :class:`~.cluster.NodeMembership`)."""

    _registry: Registry
    _heartbeat: float
    _held: dict[str, float]
    _renewed_at: float
    _forsaken: set[str]
    _fence: Callable[[str], None]
    node_id: str

    if TYPE_CHECKING:
        async def renew(self) -> None: ...

    @property
    def fencing(self) -> bool:
        """Whether this node fences its sessions (other nodes may claim its leases)."""
        return self._registry.cluster.shared

    @property
    def fence_after(self) -> float:
        """Seconds after which a lease this node has not confirmed is given up for lost: the
        lease less one heartbeat, but never less than half the lease (the settings keep the
        lease above two heartbeats, so renewals on time never reach it)."""
        lease = self._registry.cluster.lease
        return max(lease - self._heartbeat, lease / 2)

    def current(self, session_id: str) -> bool:
        """Whether this node confirmed the session's lease (renewed or took it) less than
        :attr:`fence_after` seconds ago (always, when it does not fence). No I/O."""
        return not self.fencing or self._age(session_id) <= self.fence_after

    async def confirm(self, session_id: str) -> None:
        """Before a request uses a session running here: nothing when :meth:`current`; else
        a renewal now, which fences the session if its lease moved (then it is gone from this node).

        Raises:
            RegistryUnavailable: The renewal failed or took too long (the session's lease
                cannot be vouched for; the watchdog fences it once its age passes :attr:`fence_after`).
        """
        if self.current(session_id):
            return
        try:
            async with asyncio.timeout(max(1.0, min(self._heartbeat, self._registry.cluster.lease))):
                await self.renew()
        except TimeoutError:
            raise RegistryUnavailable("this node's lease renewal timed out", retry_after=1) from None
        if session_id in self._held and not self.current(session_id):
            raise RegistryUnavailable("this node could not renew its leases", retry_after=1)

    def fence_stale(self) -> list[str]:
        """Fence every session whose lease this node has not confirmed for :attr:`fence_after`
        seconds (its renewals fail or hang): other nodes may claim it soon. Returns their ids."""
        if not self.fencing:
            return []
        stale = [sid for sid in self._held if self._age(sid) > self.fence_after]
        self._fence_all(stale, f"this node could not renew its lease for {self.fence_after:g} s")
        self._forsaken.update(stale)
        return stale

    async def _watch(self) -> None:
        """:meth:`fence_stale` four times per heartbeat (no I/O: it runs while the database hangs)."""
        while True:
            await asyncio.sleep(self._heartbeat / 4)
            try:
                self.fence_stale()
            except Exception:
                log.exception("node %s: fencing failed", self.node_id)

    def _age(self, session_id: str) -> float:
        """Seconds since this node last confirmed the session's lease (renewed it, or took it)."""
        return time.monotonic() - max(self._renewed_at, self._held.get(session_id, self._renewed_at))

    def _fence_all(self, session_ids: list[str], why: str) -> None:
        for sid in session_ids:
            if self._held.pop(sid, None) is None:
                continue
            log.warning("session %s: fenced: %s; its CLI is stopped here and the session forgotten", sid, why)
            try:
                self._fence(sid)
            except Exception:
                log.exception("session %s: fencing failed", sid)



class ManagerFencing:
    """The manager's side (mixed into :class:`~.manager.SessionManager`): the sessions whose
    lease this node took, and a fenced one forgotten."""

    node: NodeMembership
    _leased: dict[str, Session]
    """Sessions whose CLI runs or starts here under a lease this node took (warm ones included)."""
    _sessions: dict[str, Session]
    _pool: WarmPool
    _slots: LiveSlots
    _model_keys: ModelKeys

    if TYPE_CHECKING:
        def _spawn(self, work: Any) -> asyncio.Task[Any]: ...

    async def lease(self, session: Session) -> None:
        await self.node.acquire(session.id)
        self._leased[session.id] = session

    def lease_current(self, session: Session) -> bool:
        if session.id not in self._leased or self.node.current(session.id):
            return True
        self.node.fence_stale()  # as the watchdog would at its next tick: this one among them
        return False

    def unlease(self, session: Session) -> None:
        if session.fenced:
            return  # the lease is another node's now (or about to be)
        self._leased.pop(session.id, None)
        self.node.release(session.id)

    def _fence(self, session_id: str) -> None:
        """Another node holds (or is about to claim) the session's lease: stop its CLI at once,
        writing nothing, and forget it here (see :mod:`.cluster`); the next request for it goes
        to its holder."""
        session = self._leased.pop(session_id, None)
        if session is None:
            return
        if self._sessions.get(session_id) is session:
            del self._sessions[session_id]
        self._pool.discard(session)
        if (closing := session.fence()) is not None:
            self._spawn(closing)  # the SDK client's disconnect (its CLI is killed already)
        self._slots.release(session_id)
        self._model_keys.revoke(session_id)
        self._pool.refill()



class SessionFencing:
    """A session's side (mixed into :class:`~.session.Session`)."""

    id: str
    fenced: bool = False
    """Its CLI was stopped because another node holds its lease (see :meth:`fence`); it writes nothing more."""
    events: EventLog
    permissions: PermissionBroker
    _owner: ClientOwner | None
    _phase: Phase
    _turn_running: bool

    if TYPE_CHECKING:
        def stop_queue(self, error: SessionError | None = None) -> None: ...

    def fence(self) -> Coroutine[Any, Any, None] | None:
        """Another node holds the session's lease (this node stalled, see :mod:`.cluster`): kill the
        CLI at once and end here without writing anything — no event, no record, no lease or
        registry row touched (the node holding the lease records the turn's end). Callers inside
        get :class:`SessionMoved`; the log's subscribers here see a running turn end with an
        ``error`` (reason ``node_lost``, not stored) and the log close. Idempotent.

        Returns:
            The SDK client's disconnect, to run (None without a CLI).
        """
        if self.fenced:
            return None
        self.fenced = True  # from here on _publish, _status_changed and _enter write nothing
        owner, self._owner = self._owner, None  # its on_stop finds another owner: no events
        self._phase = Phase.CLOSED
        if owner is not None:
            owner.kill(kill_process)
        self.permissions.deny_all("node_lost", "This node lost the session to another node")
        self.stop_queue(SessionMoved(self.id))
        if self._turn_running:
            message = "this node lost the session to another node (it stalled); the turn ended here"
            self.events.relay(Event(self.events.clock.next(), "error", self.id, {"message": message, "reason": "node_lost"}))
        self.events.close()
        return None if owner is None else owner.close()
