"""Scratch working directories: a session's own empty directory under the server's
scratch root (sessions created with ``scratch_cwd``, e.g. the gateway's chat sessions),
removed with its transcript once the session is closed or was never made."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

from ..datadir import private_directory
from .transcripts import Transcripts, delete_local
from .errors import InvalidSessionRequest
from .options import SessionSpec

log = logging.getLogger(__name__)


class ScratchRoot:
    """The scratch directories under ``root`` (None: the server offers none).

    Session ids given here are canonical UUIDs (checked by the caller).
    """

    def __init__(self, root: Path | None, transcripts: Transcripts) -> None:
        self.root = root
        self._transcripts = transcripts

    def directory(self, session_id: str) -> Path:
        """The session's directory (created, empty at first; it and the root mode 0700), resolved.

        Raises:
            InvalidSessionRequest: The server has no scratch root.
        """
        if self.root is None:
            raise InvalidSessionRequest("this server offers no scratch working directories")
        private_directory(self.root)
        return private_directory(self.root / session_id).resolve()

    def of(self, spec: SessionSpec) -> Path | None:
        """The session's scratch directory, if it runs in one."""
        if self.root is None or spec.cwd.name != spec.session_id:
            return None
        return spec.cwd if spec.cwd.parent == self.root.resolve() else None

    def discard(self, session_id: str) -> None:
        """Remove the directory of ``session_id`` and Claude Code's local copy of its transcript
        (blocking I/O; the caller knows no session holds that id)."""
        if self.root is not None:
            remove(session_id, (self.root / session_id).resolve())

    async def remove_after(self, closing: asyncio.Task[None], session_id: str, directory: Path) -> None:
        """Once ``closing`` is done (the CLI has exited), remove the session's directory and
        transcript (the store's copy and the local one)."""
        try:
            await asyncio.shield(closing)
            await self._transcripts.delete(session_id, directory)
            await asyncio.to_thread(remove, session_id, directory)
        except Exception:
            log.exception("removing the scratch directory of closed session %s failed", session_id)


def remove(session_id: str, directory: Path) -> None:
    """Delete a scratch directory, with what is in it, and Claude Code's local copy of the
    session's transcript (blocking I/O; the store's copy is the caller's)."""
    delete_local(session_id, directory)
    shutil.rmtree(directory, ignore_errors=True)
