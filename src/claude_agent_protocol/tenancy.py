"""Users, keys, the audit log and spend: ``/admin/users``, ``/admin/keys``, ``/audit``, ``/usage``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import WireModel
from .capabilities import ServerFeatures

RoleName = Literal["admin", "member", "viewer"]
"""``admin``: everything; ``member``: their own sessions; ``viewer``: reads every session, changes nothing."""


class Me(WireModel):
    """``GET /me``: who the caller is and what the server offers.

    ``user`` None with role ``admin``: the server needs no sign-in (or the caller is the
    server's own key, user ``admin``); ``key_id`` the key used (``jwt:<subject>`` for a token);
    ``sees_all``: every session is listed (admins, viewers), not only the caller's own;
    ``may_change``: the caller may create and drive sessions (not a viewer)."""

    user: str | None = None
    role: RoleName
    key_id: str | None = None
    sees_all: bool
    may_change: bool
    features: ServerFeatures


class UserView(WireModel):
    """A user: role, spending limits (USD per UTC day and month; null: none), creation time (UTC ISO-8601)."""

    name: str
    role: RoleName
    daily_usd: float | None = None
    monthly_usd: float | None = None
    created_at: str


class UserList(WireModel):
    users: list[UserView]


class AddUser(WireModel):
    """``POST /admin/users``."""

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
    role: RoleName = "member"
    daily_usd: float | None = Field(None, ge=0, strict=True)
    monthly_usd: float | None = Field(None, ge=0, strict=True)


class ChangeUser(WireModel):
    """``PATCH /admin/users/{name}``: the fields given change (a limit given as null is removed)."""

    role: RoleName | None = None
    daily_usd: float | None = Field(None, ge=0, strict=True)
    monthly_usd: float | None = Field(None, ge=0, strict=True)


class KeyView(WireModel):
    """An API key, never the key itself: its id, owner, label, times (UTC ISO-8601)."""

    key_id: str
    user: str
    name: str | None = None
    created_at: str
    expires_at: str | None = None
    last_used_at: str | None = None
    revoked_at: str | None = None


class KeyList(WireModel):
    keys: list[KeyView]


class CreateKey(WireModel):
    """``POST /admin/keys``: a key for ``user``; ``expires`` like ``30d``, ``12h``, ``2w`` (none: never)."""

    user: str = Field(min_length=1, max_length=128)
    name: str | None = Field(None, max_length=128)
    expires: str | None = Field(None, pattern=r"^[0-9]{1,6}[mhdw]$")


class CreatedKey(KeyView):
    """The new key: ``key`` is shown this once and stored only as a hash."""

    key: str


class AuditEntryView(WireModel):
    """One audit row: time, user, key id (or ``jwt:<subject>``), client address, action
    (``<surface>.<route>`` or ``auth.failure``), method, path, session id, status code."""

    id: int
    at: str
    user: str | None = None
    key_id: str | None = None
    client: str | None = None
    action: str
    method: str
    path: str
    session_id: str | None = None
    status: int


class AuditPage(WireModel):
    """Newest first; ``next_before``: pass as ``before`` for the next page (null: no more)."""

    entries: list[AuditEntryView]
    next_before: int | None = None


class SpendLimit(WireModel):
    """One limit of a user: the window (``daily``/``monthly``, UTC), the limit, the spend in it, when it resets."""

    window: Literal["daily", "monthly"]
    limit_usd: float | None = None
    spent_usd: float
    resets_at: str


class DaySpend(WireModel):
    day: str
    cost_usd: float


class SessionSpend(WireModel):
    session_id: str
    cost_usd: float


class Usage(WireModel):
    """``GET /usage``: a user's spend this month by day and by session, and their limits."""

    user: str
    limits: list[SpendLimit]
    by_day: list[DaySpend]
    by_session: list[SessionSpend]
