"""What the server's clients may name: session ids, directories inside the workspace,
and transcripts of sessions run there."""

from __future__ import annotations

import uuid
from pathlib import Path

from .errors import InvalidSessionRequest, TranscriptNotFound
from .transcripts import Transcripts, inside


def parse_session_id(value: str) -> str:
    """The canonical form of a session id.

    Raises:
        InvalidSessionRequest: ``value`` is not a UUID (e.g. ``../../etc/passwd``).
    """
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, AttributeError, TypeError):
        raise InvalidSessionRequest(f"session id {str(value)[:80]!r} is not a UUID") from None


def resolve_cwd(root: Path, cwd: str | None) -> Path:
    """``cwd`` resolved (symlinks followed) and checked to lie inside ``root`` (None: ``root``).

    Raises:
        InvalidSessionRequest: It escapes the workspace, is not a directory, or is no usable path.
    """
    if cwd is None or cwd == "":
        return root
    shown = repr(cwd[:200])
    try:
        candidate = Path(cwd)
        resolved = (candidate if candidate.is_absolute() else root / candidate).resolve()
        if not resolved.is_relative_to(root):
            raise InvalidSessionRequest(f"cwd {shown} is outside the workspace {root}")
        if not resolved.is_dir():
            raise InvalidSessionRequest(f"cwd {shown} is not a directory")
    except (OSError, ValueError) as exc:  # a NUL, a name too long for the file system, ...
        raise InvalidSessionRequest(f"cwd {shown} is not a usable path: {exc}") from None
    return resolved


async def visible_transcript(transcripts: Transcripts, session_id: str) -> str:
    """The directory the session of a transcript this server may show ran in: one of a
    session run inside the workspace.

    Raises:
        TranscriptNotFound: None has that id; one outside the workspace does not
            exist as far as this server's clients can tell.
    """
    directory = await transcripts.directory_of(session_id)
    if directory is None or not inside(directory, transcripts.workspace):  # a scratch session's is not named by id
        raise TranscriptNotFound(session_id)
    return directory
