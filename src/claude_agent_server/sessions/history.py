"""The manager's transcript queries: resumable transcripts and a session's history (from the
transcript store, whichever node ran the session)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..store import Registry, SessionRecord
from .errors import TranscriptNotFound
from .session import Session
from .slots import LiveSlots
from .tenancy import owner_filter, sees
from .transcripts import Transcripts, available_entry
from .workspace import parse_session_id


class TranscriptQueries:
    """A part of :class:`~.manager.SessionManager` (the attributes below are the manager's)."""

    registry: Registry
    transcripts: Transcripts
    _slots: LiveSlots
    _sessions: dict[str, Session]

    if TYPE_CHECKING:

        def resolve_cwd(self, cwd: str | None) -> Path: ...
        async def _record(self, session_id: str) -> SessionRecord | None: ...

    async def available(self, cwd: str | None = None, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Resumable transcripts inside the workspace, newest first, with ``live`` (a CLI
        runs it) and ``state`` (the registry's: live, hibernated, closed, or None); for a member,
        only their own sessions' transcripts."""
        directory = self.resolve_cwd(cwd) if cwd else None
        found = await self.transcripts.available(directory, limit, offset, skip=self._slots)
        await self.registry.flush()
        records = [await self.registry.get(info.session_id) for info in found]
        mine = owner_filter()
        return [
            {**available_entry(info), **self._liveness(info.session_id, record)}
            for info, record in zip(found, records, strict=True)
            if mine is None or (record is not None and record.owner == mine)
        ]

    def closing(self, session_id: str) -> bool:
        """Whether the session is being closed here (closed for callers; its CLI still stopping)."""
        session = self._sessions.get(session_id)
        return session is not None and session.closing

    def _liveness(self, session_id: str, record: SessionRecord | None) -> dict[str, Any]:
        """``live`` (a CLI runs it) and ``state``; a session being closed is closed already."""
        if self.closing(session_id):
            return {"live": False, "state": "closed"}
        return {"live": session_id in self._slots, "state": record.state if record else None}

    async def history(self, session_id: str) -> list[dict[str, Any]]:
        """A session's transcript messages, open or closed.

        Raises:
            InvalidSessionRequest: The id is not a UUID.
            TranscriptNotFound: No transcript of a session run inside the workspace has that id.
        """
        sid = parse_session_id(session_id)
        session = self._sessions.get(sid)
        if owner_filter() is not None:
            record = session.record if session is not None else await self._record(sid)
            if record is None or not sees(record.owner):
                raise TranscriptNotFound(sid)  # another member's (or nobody's): not revealed
        return await self.transcripts.history(sid, session.cwd if session else None, mirrored=sid in self._slots)
