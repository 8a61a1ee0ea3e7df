"""Who is calling, and what that caller may see: the session layer's side of tenancy.

The web layer resolves the caller of each request once (``web/identity.py``) and sets
:data:`current_caller` for the request's task; everything the session layer does for that
request then sees it: :meth:`~.manager.SessionManager.get` answers ``SessionNotFound``
for a session the caller may not see, lists hold only the caller's sessions, a new
session records the caller as its owner, a ``--workspace-per-user`` member's cwd is
confined to ``<workspace>/<user>/`` and a turn is refused once the owner's spending
limit is reached. No caller (None: auth off, or the server's own background work) means
no restriction.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .errors import SessionError

ADMIN, MEMBER, VIEWER = "admin", "member", "viewer"


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: a user, their role, and the key id (or token subject) used."""

    user: str
    role: str
    key_id: str | None = None

    @property
    def sees_all(self) -> bool:
        """Admins and viewers see every session; members only their own."""
        return self.role in (ADMIN, VIEWER)

    @property
    def may_change(self) -> bool:
        return self.role != VIEWER


current_caller: ContextVar[Caller | None] = ContextVar("current_caller", default=None)
"""The caller of the request being served (None: unrestricted)."""


def caller() -> Caller | None:
    return current_caller.get()


def sees(owner: str | None, who: Caller | None = None) -> bool:
    """Whether the caller (default: the current one) may see a session owned by ``owner``."""
    who = who if who is not None else current_caller.get()
    return who is None or who.sees_all or (owner is not None and owner == who.user)


def owner_filter(asked: str | None = None) -> str | None:
    """The owner a list must be limited to for the current caller (None: every session).

    Args:
        asked: The owner the caller asked for (``GET /sessions?owner=``): honoured for callers
            who see every session (admins, viewers, no sign-in); a member's list is always
            their own, whatever they ask for.
    """
    who = current_caller.get()
    return asked if who is None or who.sees_all else who.user


def new_owner() -> str | None:
    """The owner of a session created now: the current caller's user."""
    who = current_caller.get()
    return who.user if who is not None else None


class SpendingLimitReached(SessionError):
    """The owner's daily or monthly spend is at or over their limit: no new turn (429)."""

    def __init__(self, user: str, limit: str, limit_usd: float, spent_usd: float, resets_at: datetime) -> None:
        super().__init__(
            f"user {user} reached the {limit} spending limit: {spent_usd:.4f} of {limit_usd:.4f} USD spent; "
            f"it resets at {resets_at.isoformat()}"
        )
        self.user = user
        self.limit = limit
        self.limit_usd = limit_usd
        self.spent_usd = spent_usd
        self.resets_at = resets_at
        self.retry_after = max(1, int((resets_at - datetime.now(UTC)).total_seconds()) + 1)


def windows(now: datetime) -> dict[str, tuple[datetime, datetime]]:
    """``{"daily": (start, reset), "monthly": (start, reset)}``: the UTC windows holding ``now``."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return {"daily": (day, day + timedelta(days=1)), "monthly": (month, next_month)}
