"""Placing a session request: on a warm client when one can serve it, else on a CLI of its
own (new, resumed from a transcript, or revived from a closed record), and registering
the started session, the one place a session becomes known.

Every check that guards a reservation (the id is free) is made in the same step as the
reservation, with no ``await`` between them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from ..store import Registry, SessionRecord
from .config import ManagerConfig
from .errors import SessionConflict, SessionError, SessionNotFound, TranscriptNotFound
from .journal import EventJournal
from .capabilities import check as check_capabilities
from .options import SessionSpec
from .pool import WarmPool
from .request import SessionRequest, normal_title
from .scratch import ScratchRoot, remove as remove_scratch
from .session import Session
from .slots import LiveSlots
from .transcripts import Transcripts
from .tenancy import new_owner, sees
from .workspace import parse_session_id, visible_transcript

if TYPE_CHECKING:
    from .host import SessionHost

log = logging.getLogger(__name__)


class Placement:
    """The manager's placing of sessions (a part of :class:`~.manager.SessionManager`;
    the attributes below are the manager's)."""

    config: ManagerConfig
    registry: Registry
    journal: EventJournal
    _sessions: dict[str, Session]
    _owners: dict[str, str | None]
    _claims: dict[str, asyncio.Event]
    _pool: WarmPool
    _slots: LiveSlots
    transcripts: Transcripts
    _scratch: ScratchRoot

    if TYPE_CHECKING:  # the manager's methods this part calls

        def _admit(self) -> None: ...
        def resolve_cwd(self, cwd: str | None) -> Path: ...
        async def _record(self, session_id: str) -> SessionRecord | None: ...
        async def get(self, session_id: str) -> Session: ...

    def scratch_directory(self, session_id: str) -> Path:
        """The session's own working directory under ``scratch_root`` (created, empty
        at first; both mode 0700), for sessions created with ``scratch_cwd``.

        Raises:
            InvalidSessionRequest: The id is not a UUID, or the server has no scratch root.
        """
        return self._scratch.directory(parse_session_id(session_id))

    def discard_scratch(self, session_id: str) -> None:
        """Remove the scratch directory made for ``session_id`` and any transcript kept for
        it, when no session holds that id (its creation failed or never happened).
        Blocking file I/O, meant for a directory that is still empty.

        Raises:
            InvalidSessionRequest: The id is not a UUID.
        """
        sid = parse_session_id(session_id)
        if sid not in self._sessions and sid not in self._claims:
            self._scratch.discard(sid)

    async def create(self, request: SessionRequest | None = None) -> Session:
        """Start a new session, or resume one from its transcript (also a closed one):
        on a warm client when one can serve ``request`` (see
        :meth:`SessionRequest.can_use_warm`), else on a CLI of its own.

        Args:
            request: What the caller asks for (default: a new session with the server's defaults).

        Raises:
            InvalidSessionRequest: Bad cwd or extra directory; an MCP server not allowed.
            TranscriptNotFound: ``resume_session_id`` has no transcript of a session
                run inside the workspace.
            SessionConflict: The registry already holds that session (live or hibernated).
            TooManySessions: Every live session is busy.
            ServerShuttingDown: The server is stopping.
            SessionStartError: The CLI failed to start.
        """
        request = check_capabilities(request or SessionRequest(), self.config.workspace, self.config.mcp_allow, self.config.mcp_servers)
        self._admit()
        cwd = None if request.resumes or request.scratch_cwd else self.resolve_cwd(request.cwd)
        if request.fresh and (warm := self._pool.take(lambda spec: request.can_use_warm(spec, cwd))) is not None:
            adopted = await self._adopt(warm, request)
            if adopted is not None:
                return adopted
        sid = request.chosen_id() or str(uuid.uuid4())
        while (closing := self._sessions.get(sid)) is not None and closing.closing:
            await asyncio.shield(closing.begin_close())  # a DELETE still finishing: its CLI must be gone first
        if sid in self._sessions or sid in self._claims:
            raise SessionConflict(sid)
        claim = self._claims[sid] = asyncio.Event()  # reserved in the same step as the check
        directory: Path | None = None
        try:
            record = await self._record(sid)
            if record is not None and request.resumes and not self.transcripts.visible(record.spec.get("cwd")):
                raise TranscriptNotFound(sid)  # a session of another workspace does not exist here
            if record is not None and request.resumes and not sees(record.owner):
                raise SessionNotFound(sid)  # another member's: not revealed
            if record is not None and (record.state != "closed" or not request.resumes):
                raise SessionConflict(sid)
            if request.scratch_cwd:
                cwd = directory = self.scratch_directory(sid)
                # Its presence, not its metadata: the SDK's summary reader gives up on a first line over 64 KiB.
                if request.resumes and not await self.transcripts.exists(sid, directory):
                    raise TranscriptNotFound(sid)
            elif request.resumes:  # checked even with an explicit cwd: a transcript outside the workspace does not exist here
                ran_in = await visible_transcript(self.transcripts, sid)
                cwd = self.resolve_cwd(request.cwd or ran_in)
            assert cwd is not None  # every branch above placed it
            spec = request.spec(
                sid, cwd, default_model=self.config.default_model, default_permission_mode=self.config.default_permission_mode
            )
            session = self._new_session(spec, record or request.new_record(spec))
            try:
                await session.start()
            except BaseException:
                await session.close()  # a caller cancelled mid-start: no process may outlive this
                raise
            return await self._register(session, request)
        except BaseException:
            if directory is not None and sid not in self._sessions:
                remove_scratch(sid, directory)  # no session runs there: nothing of it may stay
            raise
        finally:
            del self._claims[sid]
            claim.set()

    async def open_agentcore(self, session_id: str, header: str) -> Session:
        """The session serving an AgentCore runtime session: the registry's (woken on
        use), else one resumed from its transcript, else a new one with that id.
        Concurrent calls for one header share one session.

        Raises:
            As :meth:`create`.
        """
        conflict: SessionConflict | None = None
        while True:
            try:
                return await self.get(session_id)
            except SessionNotFound:
                if conflict is not None:  # the id is held by a session this server does not serve (another workspace's)
                    raise conflict from None
            if (loaded := self._sessions.get(session_id)) is not None and not sees(loaded.record.owner):
                raise SessionNotFound(session_id)  # another caller's runtime session: not revealed, not taken
            if (record := await self._record(session_id)) is not None and not sees(record.owner):
                raise SessionNotFound(session_id)
            try:
                try:
                    return await self.create(SessionRequest(resume_session_id=session_id, agentcore_session_id=header, origin="agentcore"))
                except TranscriptNotFound:
                    return await self.create(SessionRequest(session_id=session_id, agentcore_session_id=header, origin="agentcore"))
            except SessionConflict as exc:
                conflict = exc  # another request made it first: use that one

    async def _start_warm(self) -> Session:
        sid = str(uuid.uuid4())
        spec = SessionSpec(
            sid, self.config.workspace, model=self.config.default_model, permission_mode=self.config.default_permission_mode
        )
        session = self._new_session(spec, SessionRecord(sid, spec.to_json()))
        self._slots.warm(sid)
        try:
            await session.start()
        except BaseException:
            self._slots.warm(sid, False)
            raise
        return session

    async def _adopt(self, session: Session, request: SessionRequest) -> Session | None:
        """Register a warm session for ``request``, with its model and mode applied; None
        (and the warm session closed) when the CLI refuses either."""
        self._slots.warm(session.id, False)
        model = request.model or self.config.default_model
        mode = request.permission_mode or self.config.default_permission_mode
        try:
            if model != session.spec.model:
                await session.set_model(model)
            if mode != session.spec.permission_mode:
                await session.set_permission_mode(mode)
        except SessionError as exc:
            log.info("a warm session could not take model %r / mode %r (%s); starting a new one", model, mode, exc.detail)
            session.begin_close()
            return None
        session.record = request.new_record(session.spec)
        return await self._register(session, request)

    def _new_session(self, spec: SessionSpec, record: SessionRecord) -> Session:
        """The one constructor of sessions: started (new, warm) or loaded (hibernated)."""
        host: SessionHost = self  # type: ignore[assignment]  # the manager is the host
        self._owners[spec.session_id] = record.owner
        return Session(spec, record, self.journal.session_log(spec.session_id), host, self.config.permission_timeout)

    async def _register(self, session: Session, request: SessionRequest) -> Session:
        """Make a started session known, the one place this happens: loaded, written to the
        registry (before this returns) and announced (``session_created``). Its record takes
        its spec and status; a title the request gives replaces any older one.

        Raises:
            StoreError: The registry could not write it (the session is closed; no CLI stays).
        """
        record = session.record
        record.spec, record.state, record.status = session.spec.to_json(), "live", session.status
        if record.owner is None:
            record.owner = new_owner()  # the caller of the request that made it
        self._owners[session.id] = record.owner
        if request.title is not None:
            record.title = normal_title(request.title)
        self._sessions[session.id] = session
        try:
            await self.registry.put(record)
        except BaseException:  # e.g. RegistryUnavailable: no session the registry does not know
            del self._sessions[session.id]
            await session.close()
            raise
        self.registry.update(record)  # anything that changed while it was written
        self.journal.announce("session_created", session.id, session=session.snapshot())
        return session
