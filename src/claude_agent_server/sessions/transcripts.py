"""Transcripts on disk, read through the SDK's session functions in a worker thread.

Claude Code writes one JSONL transcript per session under
``$CLAUDE_CONFIG_DIR`` (default ``~/.claude``)``/projects/<cwd>/<id>.jsonl``.
The SDK's ``list_sessions`` / ``get_session_info`` / ``get_session_messages``
read them; scanning is blocking file I/O, so it never runs on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claude_agent_sdk import (
    SDKSessionInfo,
    delete_session,
    get_session_info,
    get_session_messages,
    list_sessions,
    project_key_for_directory,
)


def projects_dir() -> Path:
    """Where Claude Code keeps transcripts: ``$CLAUDE_CONFIG_DIR/projects`` or ``~/.claude/projects``."""
    config = os.environ.get("CLAUDE_CONFIG_DIR")
    return (Path(config) if config else Path.home() / ".claude") / "projects"


def transcript_path(session_id: str, cwd: Path) -> Path:
    """The transcript file a session run in ``cwd`` is resumed from."""
    return projects_dir() / project_key_for_directory(cwd) / f"{session_id}.jsonl"


def delete(session_id: str, cwd: Path) -> None:
    """Delete the transcript of a session run in ``cwd`` (with its subagent transcripts,
    through the SDK's ``delete_session``), and the project folder of ``cwd`` when nothing
    else is left in it. Nothing to delete is no error. Blocking file I/O.
    """
    path = transcript_path(session_id, cwd)
    if path.is_symlink():  # a sandboxed session's: the file itself is in its private config dir
        with contextlib.suppress(OSError):
            path.resolve().unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        return
    with contextlib.suppress(FileNotFoundError):
        delete_session(session_id, str(cwd))
    with contextlib.suppress(OSError):
        transcript_path(session_id, cwd).parent.rmdir()  # only if empty


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


def inside(path: str | None, root: Path) -> bool:
    """True when ``path`` resolves inside ``root``."""
    if not path:
        return False
    try:
        return Path(path).resolve().is_relative_to(root)
    except (OSError, ValueError):
        return False


async def list_available(workspace: Path, cwd: Path | None, limit: int, offset: int) -> list[SDKSessionInfo]:
    """Transcripts of sessions run inside ``workspace`` (or exactly ``cwd``), newest first.

    Args:
        workspace: Only sessions whose cwd lies inside it are listed.
        cwd: Only sessions of this project directory, when given.
        limit: Entries at most.
        offset: Entries to skip (pagination).
    """

    def scan() -> list[SDKSessionInfo]:
        if cwd is not None:
            found = list_sessions(directory=str(cwd), include_worktrees=False)
        else:
            found = [s for s in list_sessions() if inside(s.cwd, workspace)]
        return found[offset : offset + limit]

    return await asyncio.to_thread(scan)


async def find(session_id: str, directory: str | None = None) -> SDKSessionInfo | None:
    """The transcript's metadata, or None when no transcript has that id (in ``directory``'s project, if given)."""
    return await asyncio.to_thread(get_session_info, session_id, directory)


async def messages(session_id: str, directory: str | None = None) -> list[dict[str, Any]]:
    """The transcript's user and assistant messages, oldest first (SDK ``SessionMessage`` dicts)."""
    found = await asyncio.to_thread(get_session_messages, session_id, directory)
    return [asdict(m) for m in found]
