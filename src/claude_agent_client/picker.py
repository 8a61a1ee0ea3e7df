"""The session picker: the server's sessions (live and hibernated) and the transcripts on
disk, newest first, plus "new"."""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.text import Text

from . import render
from .api import AgentClient
from .inputs import UserInput
from .models import AvailableSession, LiveSession, SessionChoice

__all__ = ["choose_session", "merge_sessions", "recent_sessions"]


def merge_sessions(registry: Iterable[LiveSession], transcripts: Iterable[AvailableSession], limit: int) -> list[SessionChoice]:
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
        registry = [s for s in registry if _in_directory(s.cwd, cwd)]
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
