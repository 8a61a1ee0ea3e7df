"""Sessions' transcripts: in the registry's transcript store, read with the SDK's ``*_from_store`` helpers.

Every session's CLI mirrors its transcript into the store (``ClaudeAgentOptions.session_store``,
see :func:`~.options.build_options`), and a resumed or woken CLI is started from the
store's copy (the SDK writes it to a temporary config dir), so a session continues on a
machine whose disk never saw it. The store is keyed by the SDK's project key (the
session's ``cwd``, see ``project_key_for_directory``) and session id.

Claude Code still writes its own copy under ``$CLAUDE_CONFIG_DIR`` (default
``~/.claude``)``/projects/<project key>/<id>.jsonl``. A transcript found only there
(sessions older than the store, a transcript the ``claude`` CLI made by itself) is
imported into the store once, with the SDK's ``import_session_to_store``, the first
time it is used: resumed, woken, read or listed. From then on the store's copy is the
one read. Disk scans are blocking file I/O and run in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Container, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claude_agent_sdk import (
    SDKSessionInfo,
    delete_session,
    delete_session_via_store,
    get_session_info,
    get_session_messages_from_store,
    import_session_to_store,
    list_sessions,
    list_sessions_from_store,
    project_key_for_directory,
)

from ..store import WriteBehindStore
from .errors import TranscriptNotFound

log = logging.getLogger(__name__)


def projects_dir() -> Path:
    """Where Claude Code keeps its local copies: ``$CLAUDE_CONFIG_DIR/projects`` or ``~/.claude/projects``."""
    config = os.environ.get("CLAUDE_CONFIG_DIR")
    return (Path(config) if config else Path.home() / ".claude") / "projects"


def transcript_path(session_id: str, cwd: Path) -> Path:
    """The local copy Claude Code writes for a session run in ``cwd``."""
    return projects_dir() / project_key_for_directory(cwd) / f"{session_id}.jsonl"


def _iso(ms: int | None) -> str | None:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat() if ms else None


def available_entry(info: SDKSessionInfo) -> dict[str, Any]:
    """A transcript's list entry: ``{session_id, modified, created_at, preview, project, cwd, ...}``."""
    preview = info.custom_title or info.first_prompt or info.summary or ""
    return {
        "session_id": info.session_id,
        "modified": _iso(info.last_modified),
        "created_at": _iso(info.created_at),
        "preview": preview[:200],
        "project": Path(info.cwd).name if info.cwd else None,
        "cwd": info.cwd,
        "git_branch": info.git_branch,
        "file_size": info.file_size,
    }


def inside(path: str | Path | None, root: Path) -> bool:
    """True when ``path`` resolves inside ``root``."""
    if not path:
        return False
    try:
        return Path(path).resolve().is_relative_to(root)
    except (OSError, ValueError):
        return False


class Transcripts:
    """The transcripts of sessions run inside ``workspace`` (or ``scratch_root``), in ``store``.

    Args:
        store: The registry's transcript store.
        workspace: This server's workspace; a transcript of a session run elsewhere
            does not exist as far as this server's clients can tell.
        scratch_root: Where sessions' own scratch directories are (None: no such sessions).
        local_first: CLIs do not mirror their transcripts (file checkpointing is on: the SDK
            refuses a store with it), so a transcript on this machine's disk is copied into
            the store again before each read (idempotent: entries are keyed by their uuid).
    """

    def __init__(self, store: WriteBehindStore, workspace: Path, scratch_root: Path | None = None, *, local_first: bool = False) -> None:
        self.store = store
        self.local_first = local_first
        self.workspace = workspace.resolve()
        self.roots = (self.workspace,) if scratch_root is None else (self.workspace, scratch_root.resolve())
        """The directories a session of this server runs in or below (resolved)."""

    def visible(self, cwd: str | Path | None) -> bool:
        """Whether a session run in ``cwd`` belongs to this server: inside its workspace
        or its scratch root, as they are now (they may differ from the last run's)."""
        return any(inside(cwd, root) for root in self.roots)

    async def directory_of(self, session_id: str) -> str | None:
        """The directory the session ran in, if its transcript is one of this server's (see
        :meth:`visible`), or None; one only on disk is imported first."""
        for place in await self.store.locate(session_id):
            if place.cwd and self.visible(place.cwd):
                return place.cwd
        info = await asyncio.to_thread(get_session_info, session_id)
        if info is None or not info.cwd or not self.visible(info.cwd) or not await self._import(session_id, info.cwd):
            return None
        return info.cwd

    async def exists(self, session_id: str, cwd: Path) -> bool:
        """Whether the store holds the transcript of the session run in ``cwd`` (a CLI
        started with ``resume`` continues it); one only on disk is imported first."""
        key = project_key_for_directory(cwd)
        if self.local_first and await self._import(session_id, str(cwd)):
            return True
        if any(place.project_key == key for place in await self.store.locate(session_id)):
            return True
        return await self._import(session_id, str(cwd))

    async def messages(self, session_id: str, cwd: Path | str) -> list[dict[str, Any]]:
        """The transcript's user and assistant messages, oldest first (SDK ``SessionMessage`` dicts)."""
        if self.local_first:
            await self._import(session_id, str(cwd))
        return [asdict(m) for m in await get_session_messages_from_store(self.store, session_id, str(cwd))]

    async def history(self, session_id: str, cwd: Path | None, *, mirrored: bool) -> list[dict[str, Any]]:
        """The messages of the session run in ``cwd`` (None: found by id), oldest first.

        Args:
            mirrored: A CLI runs the session now (the SDK mirrors it: nothing to import).

        Raises:
            TranscriptNotFound: No transcript of a session run inside the workspace has that id.
        """
        if cwd is None or not self.visible(cwd):
            directory = await self.directory_of(session_id)
            if directory is None:
                raise TranscriptNotFound(session_id)
            return await self.messages(session_id, directory)
        if not mirrored and not self.local_first:  # (local_first: messages() copies it)
            await self.exists(session_id, cwd)  # imported if it is only on disk
        return await self.messages(session_id, cwd)

    async def available(self, cwd: Path | None, limit: int, offset: int, skip: Container[str] = ()) -> list[SDKSessionInfo]:
        """Transcripts of sessions run inside the workspace (or exactly in ``cwd``), newest first.

        Transcripts only on disk are imported first, but not those in ``skip`` (sessions
        whose CLI runs now: the SDK is mirroring them).
        """
        await self._import_local(cwd, skip)
        if cwd is not None:
            directories = {str(cwd)}
        else:
            directories = {c for c in await self._directories(None) if inside(c, self.workspace)}  # not scratch ones
        found: dict[str, SDKSessionInfo] = {}
        for directory in sorted(directories):
            for info in await list_sessions_from_store(self.store, directory):
                found.setdefault(info.session_id, info)
        ordered = sorted(found.values(), key=lambda info: info.last_modified or 0, reverse=True)
        return ordered[offset : offset + limit]

    async def seed(self, session_id: str, cwd: Path, entries: list[dict[str, Any]]) -> None:
        """Store a transcript for a new session run in ``cwd``, which a CLI started with
        ``resume=session_id`` then continues; written (not queued) before this returns.

        Raises:
            StoreError: The database refused it (nothing is kept).
        """
        await self.store.write_now({"project_key": project_key_for_directory(cwd), "session_id": session_id}, entries)

    async def catch_up(self, session_id: str, cwd: Path | str) -> bool:
        """Copy into the store the lines of the session's local transcript it lacks (a CLI
        killed before it mirrored its last lines); False when there is no local copy."""
        return await self._import(session_id, str(cwd))

    async def delete(self, session_id: str, cwd: Path) -> None:
        """Delete the session's transcript from the store and Claude Code's local copy (with
        its subagents' transcripts and, when nothing else is left in it, the project folder)."""
        await delete_session_via_store(self.store, session_id, str(cwd))
        await asyncio.to_thread(delete_local, session_id, cwd)

    # -- internals ------------------------------------------------------------

    async def _directories(self, session_id: str | None) -> list[str]:
        return [place.cwd for place in await self.store.locate(session_id) if place.cwd]

    async def _import(self, session_id: str, directory: str) -> bool:
        """Copy the local transcript of the session run in ``directory`` into the store; False when there is none."""
        try:
            await import_session_to_store(session_id, self.store, directory=directory)
        except (FileNotFoundError, ValueError):
            return False
        await self.store.flush()
        log.info("transcripts: imported %s (%s) from the local disk into the store", session_id, directory)
        return True

    async def _import_local(self, cwd: Path | None, skip: Container[str]) -> None:
        def scan() -> list[SDKSessionInfo]:
            if cwd is not None:
                return list_sessions(directory=str(cwd), include_worktrees=False)
            return [s for s in list_sessions() if inside(s.cwd, self.workspace)]

        local = await asyncio.to_thread(scan)
        if not local:
            return
        stored = {(place.project_key, place.session_id) for place in await self.store.locate()}
        for info in _missing(local, stored, skip):
            await self._import(info.session_id, info.cwd or str(cwd))


def _missing(local: Iterable[SDKSessionInfo], stored: set[tuple[str, str]], skip: Container[str]) -> list[SDKSessionInfo]:
    return [
        info
        for info in local
        if info.cwd and info.session_id not in skip and (project_key_for_directory(info.cwd), info.session_id) not in stored
    ]


def delete_local(session_id: str, cwd: Path) -> None:
    """Delete Claude Code's local copy of a session's transcript (with its subagents'
    transcripts, through the SDK's ``delete_session``) and the project folder of ``cwd``
    when nothing else is left in it. Nothing to delete is no error. Blocking file I/O.

    A sandboxed session's local path is a link to the file in its private config dir: both go."""
    path = transcript_path(session_id, cwd)
    if path.is_symlink():
        with contextlib.suppress(OSError):
            path.resolve().unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only if empty
        return
    with contextlib.suppress(FileNotFoundError):
        delete_session(session_id, str(cwd))
    with contextlib.suppress(OSError):
        transcript_path(session_id, cwd).parent.rmdir()  # only if empty
