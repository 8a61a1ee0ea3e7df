"""The manager's side of tenancy: who owns the sessions it loaded, where a member's sessions
may run, and whether an owner may start another turn (see :mod:`.tenancy` for the caller)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ..store import Registry
from .config import ManagerConfig
from .session import Session
from .tenancy import MEMBER, SpendingLimitReached, caller, windows
from .workspace import resolve_cwd


class Ownership:
    """A part of :class:`~.manager.SessionManager` (the attributes below are the manager's)."""

    config: ManagerConfig
    registry: Registry
    _owners: dict[str, str | None]
    """The owner of every session loaded since start-up (for filtering the global stream);
    :class:`~.placement.Placement` records each session it registers."""

    def owned_by(self, session_id: str | None, user: str) -> bool:
        """Whether a session loaded since start-up belongs to ``user`` (the global stream's filter
        for a member: only sessions with a live or recent process have events)."""
        return session_id is not None and self._owners.get(session_id) == user

    def resolve_cwd(self, cwd: str | None) -> Path:
        """``cwd`` inside the workspace (see :func:`~.workspace.resolve_cwd`); with
        ``workspace_per_user``, a member's inside ``<workspace>/<user>/`` (made on first use)."""
        return resolve_cwd(self.user_root(), cwd)

    def user_root(self) -> Path:
        """The directory the current caller's sessions are confined to."""
        who = caller()
        if not self.config.workspace_per_user or who is None or who.role != MEMBER:
            return self.config.workspace
        root = self.config.workspace / who.user  # user names are checked: no separator, no leading dot
        root.mkdir(mode=0o700, exist_ok=True)
        return root

    async def check_spend(self, session: Session) -> None:
        """Refuse a turn of a session whose owner is at or over a daily or monthly limit.

        Raises:
            SpendingLimitReached: With the limit, the spend and when it resets (``retry_after``).
        """
        owner = session.record.owner
        if owner is None:
            return
        user = await self.registry.users.get_user(owner)
        if user is None or (user.daily_usd is None and user.monthly_usd is None):
            return
        spans = windows(datetime.now(UTC))
        for name, limit in (("daily", user.daily_usd), ("monthly", user.monthly_usd)):
            if limit is None:
                continue
            start, reset = spans[name]
            spent = await self.registry.audit.spent_since(owner, start)
            if spent >= limit:
                raise SpendingLimitReached(owner, name, limit, spent, reset)
