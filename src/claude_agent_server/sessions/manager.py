"""The session manager: creates, finds, lists and closes live sessions.

Ids are Claude Code's own session ids (UUIDs): a new session gets a fresh
UUID passed to the SDK as ``session_id``; a resumed one keeps its id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claude_agent_sdk import ClaudeSDKClient, SDKSessionInfo

from . import transcripts
from .errors import (
    InvalidSessionRequest,
    SessionConflict,
    SessionNotFound,
    TooManySessions,
    TranscriptNotFound,
)
from .options import PERMISSION_MODES, ModelRoute, SessionSpec, build_options
from .owner import ClientFactory
from .session import Session

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ManagerConfig:
    """The parts of the server settings the session layer needs."""

    workspace: Path
    permission_timeout: float = 300.0
    max_sessions: int = 32
    idle_timeout: float = 0.0
    """Seconds a session may sit idle (no turn, no pending permission) before it is closed; 0: never."""
    event_buffer_size: int = 2000
    default_model: str | None = None
    default_permission_mode: str = "default"
    cli_path: Path | None = None


def parse_session_id(value: str) -> str:
    """The canonical form of a session id.

    Raises:
        InvalidSessionRequest: ``value`` is not a UUID (e.g. ``../../etc/passwd``).
    """
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, AttributeError, TypeError):
        raise InvalidSessionRequest(f"session id {str(value)[:80]!r} is not a UUID") from None


class SessionManager:
    """Owns every live session of one server.

    Args:
        config: Workspace root, limits and defaults.
        client_factory: Makes SDK clients; defaults to ``ClaudeSDKClient``.
    """

    def __init__(self, config: ManagerConfig, client_factory: ClientFactory = ClaudeSDKClient) -> None:
        self.config = config
        self._client_factory = client_factory
        self._sessions: dict[str, Session] = {}
        self._starting: set[str] = set()
        self._busy = False
        self.busy_since = time.time()
        """Unix time (seconds) of the last change of :attr:`busy` (AgentCore ``time_of_last_update``)."""

    # -- queries --------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while any session runs a turn or waits for a permission."""
        return self._busy

    def __len__(self) -> int:
        return len(self._sessions)

    def sessions(self) -> list[Session]:
        """Live sessions, oldest first."""
        return list(self._sessions.values())

    def get(self, session_id: str) -> Session:
        """The live session with this id.

        Raises:
            InvalidSessionRequest: The id is not a UUID.
            SessionNotFound: No live session has it.
        """
        session = self._sessions.get(parse_session_id(session_id))
        if session is None or session.closed:
            raise SessionNotFound(session_id)
        return session

    def resolve_cwd(self, cwd: str | None) -> Path:
        """``cwd`` resolved (symlinks followed) and checked to lie inside the workspace.

        Raises:
            InvalidSessionRequest: It escapes the workspace or is not a directory.
        """
        root = self.config.workspace
        if cwd is None or cwd == "":
            return root
        candidate = Path(cwd)
        resolved = (candidate if candidate.is_absolute() else root / candidate).resolve()
        if not resolved.is_relative_to(root):
            raise InvalidSessionRequest(f"cwd {cwd!r} is outside the workspace {root}")
        if not resolved.is_dir():
            raise InvalidSessionRequest(f"cwd {cwd!r} is not a directory")
        return resolved

    # -- lifecycle ------------------------------------------------------------

    async def create(
        self,
        *,
        resume_session_id: str | None = None,
        session_id: str | None = None,
        cwd: str | None = None,
        model: str | None = None,
        permission_mode: str | None = None,
        system_prompt: str | None = None,
        append_system_prompt: str | None = None,
        allowed_tools: list[str] | None = None,
        disallowed_tools: list[str] | None = None,
        max_turns: int | None = None,
        route: ModelRoute | None = None,
    ) -> Session:
        """Start a new session, or resume one from its transcript.

        Args:
            resume_session_id: Resume this transcript (same id, same history).
            session_id: Use this id for a new session (default: a fresh UUID).
            route: Redirect the CLI's model requests (the demo model, or this server's
                proxy with its background model).
            Other arguments: as in ``POST /sessions``.

        Raises:
            InvalidSessionRequest: Bad id, cwd or permission mode.
            TranscriptNotFound: ``resume_session_id`` has no transcript of a session
                run inside the workspace.
            SessionConflict: That session is already live.
            TooManySessions: The live-session limit is reached.
            SessionStartError: The CLI failed to start.
        """
        mode = permission_mode or self.config.default_permission_mode
        if mode not in PERMISSION_MODES:
            raise InvalidSessionRequest(f"unknown permission mode {mode!r}; one of {', '.join(PERMISSION_MODES)}")
        resume = resume_session_id is not None
        sid = parse_session_id(resume_session_id if resume else session_id or str(uuid.uuid4()))
        if sid in self._sessions or sid in self._starting:
            raise SessionConflict(sid)
        if len(self._sessions) + len(self._starting) >= self.config.max_sessions:
            raise TooManySessions(self.config.max_sessions)
        if resume:
            cwd = cwd or (await self._transcript(sid)).cwd
        directory = self.resolve_cwd(cwd)
        spec = SessionSpec(
            session_id=sid,
            cwd=directory,
            resume=resume,
            model=model or self.config.default_model,
            permission_mode=mode,
            system_prompt=system_prompt,
            append_system_prompt=append_system_prompt,
            allowed_tools=allowed_tools or [],
            disallowed_tools=disallowed_tools or [],
            max_turns=max_turns,
        )
        session = Session(
            sid,
            options_factory=lambda can_use_tool, stderr: build_options(
                spec, can_use_tool=can_use_tool, stderr=stderr, route=route, cli_path=self.config.cli_path
            ),
            client_factory=self._client_factory,
            cwd=str(directory),
            model=spec.model,
            permission_mode=mode,
            permission_timeout=self.config.permission_timeout,
            event_buffer_size=self.config.event_buffer_size,
            on_status=self._status_changed,
        )
        self._starting.add(sid)
        try:
            await session.start()
            self._sessions[sid] = session
        finally:
            self._starting.discard(sid)
        return session

    async def close(self, session_id: str) -> None:
        """Close a live session; its transcript stays on disk, ready to resume.

        Raises:
            SessionNotFound: No live session has that id.
        """
        session = self.get(session_id)
        try:
            await session.close()
        finally:
            self._sessions.pop(session.id, None)
            self._status_changed(session)

    async def close_idle(self, now: float | None = None) -> list[str]:
        """Close sessions idle for longer than ``idle_timeout`` (their transcripts stay, resumable).

        Returns:
            The ids closed.
        """
        if self.config.idle_timeout <= 0:
            return []
        now = time.time() if now is None else now
        idle = [
            s for s in self._sessions.values()
            if s.status == "connected" and now - s.last_activity > self.config.idle_timeout
        ]
        for session in idle:
            log.info("closing session %s: idle for more than %g s", session.id, self.config.idle_timeout)
            with contextlib.suppress(SessionNotFound):
                await self.close(session.id)
        return [s.id for s in idle]

    async def run_idle_closer(self, interval: float = 30.0) -> None:
        """Call :meth:`close_idle` every ``interval`` seconds, forever (a lifespan task)."""
        while True:
            await asyncio.sleep(min(interval, max(self.config.idle_timeout / 4, 0.5)))
            try:
                await self.close_idle()
            except Exception:
                log.exception("closing idle sessions failed")

    async def close_all(self) -> None:
        """Close every live session concurrently (server shutdown)."""
        sessions = list(self._sessions.values())
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
        self._sessions.clear()

    # -- transcripts ----------------------------------------------------------

    async def available(self, cwd: str | None = None, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Resumable transcripts inside the workspace, newest first, with a ``live`` flag."""
        directory = self.resolve_cwd(cwd) if cwd else None
        found = await transcripts.list_available(self.config.workspace, directory, limit, offset)
        return [{**transcripts.available_entry(info), "live": info.session_id in self._sessions} for info in found]

    async def history(self, session_id: str) -> list[dict[str, Any]]:
        """A session's transcript messages, live or closed.

        Raises:
            InvalidSessionRequest: The id is not a UUID.
            TranscriptNotFound: No live session has that id, and no transcript of a
                session run inside the workspace does.
        """
        sid = parse_session_id(session_id)
        live = self._sessions.get(sid)
        if live is None:
            await self._transcript(sid)
        return await transcripts.messages(sid, live.cwd if live else None)

    # -- internals ------------------------------------------------------------

    async def _transcript(self, session_id: str) -> SDKSessionInfo:
        """A transcript this server may show: one of a session run inside the workspace.

        Raises:
            TranscriptNotFound: None has that id; one outside the workspace does not
                exist as far as this server's clients can tell.
        """
        info = await transcripts.find(session_id)
        if info is None or not transcripts.inside(info.cwd, self.config.workspace):
            raise TranscriptNotFound(session_id)
        return info

    def _status_changed(self, session: Session) -> None:
        if session.closed:
            self._sessions.pop(session.id, None)
        busy = any(s.busy for s in self._sessions.values())
        if busy != self._busy:
            self._busy = busy
            self.busy_since = time.time()
