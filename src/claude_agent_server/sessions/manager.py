"""The session manager: the registry of sessions and the cap on their processes.

Every session the server knows is a record in the registry (``live``,
``hibernated`` or ``closed``); a :class:`Session` object is loaded for the ones
in use. At most ``max_live_sessions`` Claude Code processes run: a session that
needs one when the cap is reached takes the slot of the least recently used
idle live session, which is hibernated; only when every live session is busy is
the answer :class:`TooManySessions`.

Ids are Claude Code's own session ids (UUIDs): a new session gets a fresh UUID
passed to the SDK as ``session_id``; a resumed or woken one keeps its id.

Every check that guards a reservation (the id is free, a slot is free) is made
in the same step as the reservation, with no ``await`` between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient

from ..store import Registry, SessionRecord, StoreError
from .capabilities import mcp_configs
from .config import ManagerConfig
from .cluster import NodeMembership
from .owners import OwnerLookup
from .errors import ServerShuttingDown, SessionNotFound
from .events import Event, EventClock, EventLog
from .fencing import ManagerFencing
from .journal import EventJournal
from .model_keys import ModelKeys
from .options import PromptFiles, SessionSpec, build_options
from .permissions import ParkedRequest
from .owner import ClientFactory, SDKClient
from .history import TranscriptQueries
from .idle import IdleHibernation
from .placement import Placement
from .sandbox import SANDBOX_CONFIG, tool_sandbox
from .pool import WarmPool
from .relay import EventRelay
from .record import record_entry
from .scratch import ScratchRoot
from .session import Session
from .slots import LiveSlots
from .ownership import Ownership
from .tenancy import owner_filter, sees
from .upkeep import drain, recover, resume_parked, resume_queues
from .transcripts import Transcripts
from .workspace import parse_session_id

__all__ = ["ManagerConfig", "SessionManager"]

log = logging.getLogger(__name__)

class SessionManager(Placement, Ownership, IdleHibernation, TranscriptQueries, ManagerFencing):
    """Owns every session of one server: the registry records, the loaded sessions,
    their processes under the live cap, and the global event stream.

    Args:
        config: Workspace root, limits and defaults.
        registry: Where sessions and events are kept (see :mod:`claude_agent_server.store`).
        client_factory: Makes SDK clients; defaults to ``ClaudeSDKClient``.

    Call :meth:`start` once before use and :meth:`shutdown` at the end.
    """

    def __init__(self, config: ManagerConfig, registry: Registry, client_factory: ClientFactory = ClaudeSDKClient) -> None:
        self.config = config
        self.registry = registry
        self.journal = EventJournal(
            registry, lambda session_id: session_id in self._sessions,
            buffer_size=config.event_buffer_size, buffer_bytes=config.event_buffer_bytes,
        )
        self._client_factory = client_factory
        self.transcripts = Transcripts(registry.transcripts, config.workspace, config.scratch_root, local_first=config.file_checkpointing)
        """Sessions' transcripts, in the registry's transcript store."""
        self._sessions: dict[str, Session] = {}
        """Loaded sessions (live or hibernated), by id; closed ones leave."""
        self._claims: dict[str, asyncio.Event] = {}
        """Ids being created or loaded; set when done."""
        self._owners: dict[str, str | None] = {}  # see Ownership
        self._model_keys = ModelKeys()
        self._scratch = ScratchRoot(config.scratch_root, self.transcripts)
        self._pool = WarmPool(config.warm_sessions, self._start_warm, self._has_room)
        self._slots = LiveSlots(config.max_live_sessions, config.retry_after, self._pool, self.live_sessions)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._draining: asyncio.Task[None] | None = None
        self.node_id = config.node_id
        self._leased: dict[str, Session] = {}  # see ManagerFencing
        self.node = NodeMembership(registry, self.journal, config.node_id, config.node_url, config.node_heartbeat,
                                   lambda: len(self._slots), config.permission_timeout, self._relayed_log, self._fence)
        self.lease_owners = OwnerLookup(registry, config.node_id)
        """Which other node holds a session's lease (cached briefly; the forwarder drops stale entries)."""
        self._heartbeat: asyncio.Task[None] | None = None
        self.relay = EventRelay(registry, self.journal, config.node_id, self._relayed_log)
        self._busy = False
        self.loop: asyncio.AbstractEventLoop | None = None
        """The event loop the manager runs on (set by :meth:`start`; signal handlers use it)."""
        self.busy_since = time.time()
        """Unix time (seconds) of the last change of :attr:`busy` (AgentCore ``time_of_last_update``)."""

    async def start(self) -> list[str]:
        """Recover the registry left by a previous server: sessions that were live
        are hibernated, and a turn that was running is ended in its event log with an
        ``error`` event (reason ``server_restart``). Both streams carry what recovery
        records: the session's own gets ``error`` and ``status`` hibernated, the global
        one ``error`` and ``session_status`` hibernated. Once the server's address is known,
        hibernated sessions' queued messages run, and turns whose parked permission requests
        were all answered continue (see :mod:`.parking`). Returns the recovered ids."""
        self.loop = asyncio.get_running_loop()
        await self.journal.resume()
        recovered = await recover(self.registry, self.journal, self.config.node_id, self.config.permission_timeout)
        await self.node.beat()
        self._heartbeat = asyncio.create_task(self.node.run(), name="node-heartbeat")
        await self.relay.start()
        self._pool.refill()
        self._spawn(resume_queues(self.get, self.registry, self.config.routes_known))
        self._spawn(resume_parked(self.get, self.registry, self.config.routes_known))
        return recovered

    # -- queries --------------------------------------------------------------

    @property
    def events(self) -> EventLog:
        """The global stream: every session's events (``status`` excepted) and lifecycle events."""
        return self.journal.events

    @property
    def observers(self) -> list[Callable[[Event], None]]:
        """Called with every event (session and lifecycle events), synchronously: keep them cheap."""
        return self.journal.observers

    @property
    def clock(self) -> EventClock:
        return self.journal.clock

    @property
    def busy(self) -> bool:
        """True while any session runs a turn or waits for a permission."""
        return self._busy

    @property
    def live_count(self) -> int:
        """Claude Code processes held (starting, live or stopping), warm ones included."""
        return len(self._slots)

    @property
    def warm_count(self) -> int:
        """Warm sessions ready to be taken by ``POST /sessions``."""
        return len(self._pool)

    def __len__(self) -> int:
        return len(self._slots)

    async def get(self, session_id: str) -> Session:
        """The session with this id, live or hibernated (loaded from the registry).

        Raises:
            InvalidSessionRequest: The id is not a UUID.
            SessionNotFound: No session has it, or it is closed.
            SessionElsewhere: Another node runs it (the web layer forwards the request there).
            RegistryUnavailable: This node cannot vouch for its lease now (it stalled; see :mod:`.fencing`).
        """
        sid = parse_session_id(session_id)
        while True:
            while (claim := self._claims.get(sid)) is not None:
                await claim.wait()
            session = self._sessions.get(sid)
            if session is None or not (session.closing or session.live):
                break
            if session.closing or not sees(session.record.owner):
                raise SessionNotFound(sid)
            if self.node.current(sid):
                session.touched = time.monotonic()
                return session
            await self.node.confirm(sid)  # a stale lease (this node stalled): renewed, or the session fenced; look again
        await self.node.elsewhere(sid, self.lease_owners)  # not live here: another node may run it (SessionElsewhere)
        record = await self._record(sid)
        if record is None or record.state == "closed" or not self.transcripts.visible(record.spec.get("cwd")):
            if session is not None and not session.live:
                self._sessions.pop(sid, None)  # closed through another node, or outside this workspace
            raise SessionNotFound(sid)
        if not sees(record.owner):  # another member's: not revealed
            raise SessionNotFound(sid)
        if (session := self._sessions.get(sid)) is None:
            session = self._load(record, SessionSpec.from_json(sid, record.spec))
        elif not session.live:  # another node may have run it since: take the registry's record
            session.record, session.spec = record, SessionSpec.from_json(sid, record.spec)
        await session.load_parked()  # its parked permission requests, as the registry has them now
        session.touched = time.monotonic()
        return session

    async def list(
        self, status: str | None = None, cwd: str | None = None, limit: int = 50, offset: int = 0, owner: str | None = None
    ) -> list[dict[str, Any]]:
        """Registry sessions (live and hibernated; with ``status``, in ``cwd``, of ``owner``), newest activity
        first, as list entries. ``owner`` applies to callers who see every session (a member sees their own only).

        Raises:
            InvalidSessionRequest: ``cwd`` lies outside the workspace or is not a directory.
        """
        directory = str(self.resolve_cwd(cwd)) if cwd else None
        await self.registry.flush()
        within = [str(root) for root in self.transcripts.roots]  # not one of another workspace (a restart with a new one)
        records = await self.registry.list(status=status, cwd=directory, within=within, limit=limit, offset=offset, owner=owner_filter(owner))
        nodes = await self.registry.cluster.holders([r.session_id for r in records if r.state == "live"])
        return [
            s.snapshot() if (s := self._sessions.get(r.session_id)) and (s.live or r.session_id not in nodes)
            else {**record_entry(r, r.status), "node": nodes.get(r.session_id)} for r in records
            if not self.closing(r.session_id)  # closed at once: its CLI may still be stopping
        ]

    async def counts(self) -> dict[str, int]:
        """``{"live": n, "hibernated": n, "warm": n}``: sessions with a CLI process, registry
        sessions without one, and warm clients waiting in the pool."""
        await self.registry.flush()
        counts = await self.registry.count_by_state()
        warm = self.warm_count
        return {"live": self.live_count - warm, "hibernated": counts.get("hibernated", 0), "warm": warm}

    # -- lifecycle ------------------------------------------------------------

    async def close(self, session_id: str, *, wait: bool = True) -> None:
        """Close a session for good: its CLI stops, its record is ``closed`` and it
        leaves ``GET /sessions``; its transcript stays (``resume_session_id`` revives it),
        except for a session run in a scratch directory (``scratch_cwd``): once its CLI
        has exited, the directory and its transcript are removed.

        Args:
            wait: Return only once the CLI has exited (and a scratch directory is gone);
                False: at once, the session already unreachable, its CLI stopping in the background.

        Raises:
            SessionNotFound: No open session has that id.
        """
        session = await self.get(session_id)
        closing = session.begin_close()
        self.journal.announce("session_deleted", session.id)
        directory = self._scratch.of(session.spec)
        if directory is not None:
            closing = self._spawn(self._scratch.remove_after(closing, session.id, directory))
        if wait:
            await asyncio.shield(closing)

    async def hibernate(self, session_id: str) -> bool:
        """Stop a session's CLI now; it wakes on its next use.

        Returns:
            False if it was already hibernated.

        Raises:
            SessionNotFound: No open session has that id.
            TurnInProgress: A turn runs or a permission request waits.
        """
        return await (await self.get(session_id)).hibernate()

    def begin_shutdown(self, grace: float) -> asyncio.Task[None]:
        """Stop taking new turns and sessions (:class:`ServerShuttingDown`), deny
        pending and new permission requests (reason ``server_shutdown``), let running
        turns finish for up to ``grace`` seconds, then interrupt them. Idempotent;
        returns the draining task."""
        if self._draining is None:
            self._draining = asyncio.create_task(drain(self.live_sessions, grace), name="drain-sessions")
        return self._draining

    async def shutdown(self, grace: float) -> None:
        """Drain (:meth:`begin_shutdown`), then hibernate every live session (every CLI
        exits) and write everything to the registry."""
        with contextlib.suppress(Exception):
            await self.begin_shutdown(grace)
        for task in list(self._tasks):
            task.cancel()
        await self._pool.close()
        await asyncio.gather(*(s.suspend("server_shutdown", "The server is shutting down") for s in self.live_sessions()), return_exceptions=True)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        with contextlib.suppress(Exception):
            await self.relay.close()
            await self.node.stop()  # leases released, the node marked stopped: other nodes wake its sessions
        try:
            await self.registry.flush()
        except (StoreError, RuntimeError) as exc:  # the registry's close reports what it could not keep
            log.error("the registry could not make the last events durable: %s", exc)

    # -- the session host (called by sessions) ---------------------------------

    def options(
        self, session: Session, can_use_tool: Callable[..., Any], stderr: Callable[[str], None], files: PromptFiles | None = None
    ) -> ClaudeAgentOptions:
        route = self.config.route_for(session.spec, self._model_keys.issue(session.id))
        cli_path = sandbox.launcher(session.id, session.cwd) if (sandbox := self.config.sandbox) else self.config.cli_path
        options = build_options(
            session.spec, can_use_tool=can_use_tool, stderr=stderr, route=route, cli_path=cli_path, files=files,
            file_checkpointing=self.config.file_checkpointing,
            mcp_servers=mcp_configs(session.spec.mcp_servers, self.config.mcp_allow, self.config.mcp_servers),
            transcripts=self.registry.transcripts,
            tool_sandbox=tool_sandbox(session.spec.sandbox, self.config.default_sandbox, nested=sandbox is not None),
        )
        if sandbox is not None:  # the sandboxed CLI's config dir (inside): the SDK mirrors transcript lines written there
            options.env["CLAUDE_CONFIG_DIR"] = str(SANDBOX_CONFIG)
        return options

    def model_key_valid(self, key: str) -> bool:
        """Whether ``key`` is the model key of a session whose CLI runs (it opens the model endpoints only)."""
        return self._model_keys.valid(key)

    def make_client(self, options: ClaudeAgentOptions) -> SDKClient:
        return self._client_factory(options)

    def admit(self, session: Session) -> None:
        self._admit()

    def reserve(self, session: Session) -> asyncio.Task[None] | None:
        self._admit()
        return self._slots.reserve(session)

    def release(self, session: Session) -> None:
        if session.fenced:
            return  # its slot was freed when it was fenced; the lease is not this node's to give back
        self.unlease(session)
        self._slots.release(session.id)
        self._model_keys.revoke(session.id)
        if self.config.sandbox is not None:  # a CLI that wrote no transcript leaves no trace
            self.config.sandbox.tidy(session.id, session.cwd)
        self._pool.refill()

    async def has_transcript(self, session: Session) -> bool:
        return await self.transcripts.exists(session.id, session.cwd)

    def changed(self, session: Session, status_changed: bool) -> None:
        if self._sessions.get(session.id) is not session:
            return  # not registered yet (starting) or already gone
        self.registry.update(session.record)
        if not status_changed:
            return
        status = session.status
        self.journal.announce("session_status", session.id, status=status, state=session.record.state)
        if status == "hibernated":
            session.events.trim()
        elif status == "closed":
            del self._sessions[session.id]
        busy = any(s.busy for s in self.live_sessions())
        if busy != self._busy:
            self._busy = busy
            self.busy_since = time.time()

    # -- internals ------------------------------------------------------------

    def _has_room(self) -> bool:
        return self._draining is None and self._slots.has_room() and self.config.routes_known()

    def refill_pool(self) -> None:
        """Top up the warm pool now (e.g. once the server's own address is known)."""
        self._pool.refill()

    def _admit(self) -> None:
        if self._draining is not None:
            raise ServerShuttingDown()

    async def _record(self, session_id: str) -> SessionRecord | None:
        """The registry's record, with every update enqueued so far written."""
        await self.registry.flush()
        return await self.registry.get(session_id)

    def _relayed_log(self, session_id: str) -> EventLog | None:
        return s.events if (s := self._sessions.get(session_id)) is not None and not s.live else None

    def live_sessions(self) -> list[Session]:
        """The sessions whose CLI runs on this node now."""
        return [s for sid in self._slots if (s := self._sessions.get(sid)) is not None]

    async def requests_elsewhere(self, session_id: str) -> list[ParkedRequest]:
        """The unanswered permission requests of a session whose CLI runs on another node, as the
        registry holds them (its main agent's: each is written there before it is listed)."""
        return [ParkedRequest(r.request) for r in await self.registry.parked.of_session(session_id) if r.decision is None]

    def _load(self, record: SessionRecord, spec: SessionSpec) -> Session:
        session = self._new_session(spec, record)
        self._sessions[record.session_id] = session
        return session

    def _spawn(self, work: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
