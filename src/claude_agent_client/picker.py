"""The session picker: the server's sessions (live and hibernated) and the transcripts on
disk, newest first, plus "new"."""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import Console
from rich.text import Text

from . import render
from .api import AgentClient
from .inputs import UserInput
from .wire import AvailableSession, SessionEntry, parse_time

__all__ = ["SessionChoice", "choose_session", "merge_sessions", "recent_sessions"]


@dataclass(frozen=True, slots=True)
class SessionChoice:
    """One row of the session picker: a session the server knows, a transcript on disk, or both.

    Attributes:
        session_id: The session.
        when: Its newest activity (UTC ISO-8601): the later of the registry's
            ``last_activity`` and the transcript's ``modified``.
        preview: The transcript's preview, else the registry's ``title``, else "".
        project: The project directory's name.
        cwd: The session's working directory.
        state: ``live`` or ``hibernated`` for a session the server holds (choosing it
            attaches); None for a transcript only, or a closed session (choosing it
            resumes the transcript).
    """

    session_id: str
    when: str
    preview: str
    project: str
    cwd: str
    state: str | None

    @property
    def moment(self) -> datetime:
        """``when`` as an aware datetime (the epoch when it is unparsable), for sorting."""
        return parse_time(self.when) or datetime(1970, 1, 1, tzinfo=UTC)

    @classmethod
    def from_registry(cls, session: SessionEntry) -> SessionChoice:
        cwd = session.cwd or ""
        return cls(session.session_id, session.last_activity or session.created_at, session.title or "",
                   _basename(cwd), cwd, session.state)

    @classmethod
    def from_transcript(cls, transcript: AvailableSession) -> SessionChoice:
        state = transcript.state if transcript.state in ("live", "hibernated") else None
        cwd = transcript.cwd or ""
        return cls(transcript.session_id, transcript.modified or "", transcript.preview,
                   transcript.project or _basename(cwd), cwd, state)

    def merged(self, transcript: SessionChoice) -> SessionChoice:
        """This registry row completed by the same session's transcript row."""
        newest = max(self, transcript, key=lambda row: row.moment).when
        return SessionChoice(self.session_id, newest, transcript.preview or self.preview,
                             transcript.project or self.project, self.cwd or transcript.cwd, self.state)


def _basename(path: str) -> str:
    return path.rstrip("/").rpartition("/")[2]


def merge_sessions(registry: Iterable[SessionEntry], transcripts: Iterable[AvailableSession], limit: int) -> list[SessionChoice]:
    """One list of the server's sessions and the transcripts on disk.

    A session in both is one row: the registry's state and title with the transcript's
    preview, at the later of the two times. Closed sessions are not in the registry's
    list, so their transcripts stay plain (resumable) rows.

    Args:
        registry: ``GET /sessions`` entries (live and hibernated sessions).
        transcripts: ``GET /sessions/available`` entries.
        limit: At most this many rows.

    Returns:
        The rows, newest activity first, one per session id.
    """
    rows = {s.session_id: SessionChoice.from_registry(s) for s in registry}
    for transcript in transcripts:
        row = SessionChoice.from_transcript(transcript)
        known = rows.get(row.session_id)
        rows[row.session_id] = known.merged(row) if known is not None else row
    ordered = sorted(rows.values(), key=lambda row: row.moment, reverse=True)
    return ordered[:limit]


def _in_directory(cwd: str, wanted: str) -> bool:
    """Whether a session's ``cwd`` is the directory ``wanted`` (absolute, or relative to
    the server's workspace, which the client does not know: then the path's tail must match)."""
    have, want = posixpath.normpath(cwd), posixpath.normpath(wanted)
    return have == want if posixpath.isabs(want) else have.endswith("/" + want)


async def recent_sessions(client: AgentClient, cwd: str | None, limit: int) -> list[SessionChoice]:
    """The picker's rows: the server's sessions and its transcripts (of ``cwd`` only, when
    given), merged by :func:`merge_sessions`."""
    registry, transcripts = await asyncio.gather(
        client.list_sessions(limit=limit), client.available_sessions(cwd=cwd, limit=limit)
    )
    if cwd is not None:
        registry = [s for s in registry if _in_directory(s.cwd or "", cwd)]
    return merge_sessions(registry, transcripts, limit)


async def choose_session(sessions: Sequence[SessionChoice], ui: UserInput, console: Console) -> SessionChoice | None:
    """Show ``sessions`` and ask for a number; returns the choice, or None for a new session
    (``n``, an empty answer, or end of input). Ctrl-C propagates as KeyboardInterrupt."""
    console.print(Text("Recent sessions", style="bold"))
    console.print(render.sessions_table(sessions))
    while True:
        try:
            reply = (await ui.ask(f"Resume which? [1-{len(sessions)}, n = new] ")).strip().lower()
        except EOFError:
            return None
        if reply in ("", "n", "new"):
            return None
        if reply.isdigit() and 1 <= int(reply) <= len(sessions):
            return sessions[int(reply) - 1]
        matches = [s for s in sessions if s.session_id.startswith(reply)]
        if len(matches) == 1:
            return matches[0]
        console.print(Text(f"  Type a number from 1 to {len(sessions)}, or n for a new session.", style="yellow"))
