"""Users, keys, the audit log and spend over HTTP: ``/admin/users``, ``/admin/keys`` and
``/audit`` (admins only: the auth gate answers 403 to anyone else), ``/usage`` (own spend;
admins: any user's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from claude_agent_protocol import (
    AddUser,
    AuditEntryView,
    AuditPage,
    ChangeUser,
    CreateKey,
    CreatedKey,
    DaySpend,
    KeyList,
    KeyView,
    SessionSpend,
    SpendLimit,
    Usage,
    UserList,
    UserView,
)
from fastapi import APIRouter, HTTPException, Path, Query, Request, status

from ..sessions.tenancy import ADMIN, windows
from ..store.users import ApiKey, User, UserError, parse_duration
from ..store import utcnow
from ..web.auth import caller_of
from ..web.deps import StateDep
from ..web.responses import server_errors

router = APIRouter(tags=["users and keys"])
UserName = Annotated[str, Path(max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")]
KeyId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
MAX_PAGE = 1000


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def user_view(user: User) -> UserView:
    return UserView(name=user.name, role=user.role, daily_usd=user.daily_usd, monthly_usd=user.monthly_usd,  # type: ignore[arg-type]
                    created_at=_iso(user.created_at) or "")


def key_view(key: ApiKey) -> KeyView:
    return KeyView(key_id=key.key_id, user=key.user_name, name=key.name, created_at=_iso(key.created_at) or "",
                   expires_at=_iso(key.expires_at), last_used_at=_iso(key.last_used_at), revoked_at=_iso(key.revoked_at))


def _refused(exc: UserError) -> HTTPException:
    return HTTPException(404 if exc.missing else 409 if "exists" in str(exc) else 400, str(exc))


@router.get("/admin/users", responses=server_errors(403, 503))
async def list_users(state: StateDep) -> UserList:
    """Every user with their role and limits (admins only)."""
    return UserList(users=[user_view(u) for u in await state.manager.registry.users.list_users()])


@router.post("/admin/users", status_code=status.HTTP_201_CREATED, responses=server_errors(403, 409, 503, body=True))
async def add_user(body: AddUser, state: StateDep) -> UserView:
    """Add a user (409 when the name is taken)."""
    try:
        user = await state.manager.registry.users.add_user(body.name, body.role, body.daily_usd, body.monthly_usd)
    except UserError as exc:
        raise _refused(exc) from None
    state.identities.forget()
    return user_view(user)


@router.patch("/admin/users/{name}", responses=server_errors(403, 404, 503, body=True))
async def change_user(name: UserName, body: ChangeUser, state: StateDep) -> UserView:
    """Change a user's role or limits; a limit sent as null is removed (effective on the next request)."""
    changes = {k: getattr(body, k) for k in ("daily_usd", "monthly_usd") if k in body.model_fields_set}
    try:
        user = await state.manager.registry.users.set_user(name, role=body.role, **changes)
    except UserError as exc:
        raise _refused(exc) from None
    state.identities.forget()
    return user_view(user)


@router.get("/admin/keys", responses=server_errors(403, 503))
async def list_keys(state: StateDep, user: Annotated[str | None, Query(max_length=128)] = None) -> KeyList:
    """Keys (never the keys themselves), of one user or all."""
    return KeyList(keys=[key_view(k) for k in await state.manager.registry.users.list_keys(user)])


@router.post("/admin/keys", status_code=status.HTTP_201_CREATED, responses=server_errors(403, 404, 503, body=True))
async def create_key(body: CreateKey, state: StateDep) -> CreatedKey:
    """A new key for a user: ``key`` is in this reply only."""
    try:
        expires = utcnow() + parse_duration(body.expires) if body.expires else None
        row, key = await state.manager.registry.users.create_key(body.user, body.name, expires)
    except UserError as exc:
        raise _refused(exc) from None
    return CreatedKey(**key_view(row).model_dump(), key=key)


@router.delete("/admin/keys/{key_id}", responses=server_errors(403, 404, 503))
async def revoke_key(key_id: KeyId, state: StateDep) -> KeyView:
    """Revoke a key: refused from the next request on (at once here; within a second on other nodes)."""
    try:
        row = await state.manager.registry.users.revoke_key(key_id)
    except UserError as exc:
        raise _refused(exc) from None
    state.identities.forget()
    return key_view(row)


@router.get("/audit", responses=server_errors(403, 503))
async def audit_log(
    state: StateDep,
    user: Annotated[str | None, Query(max_length=128)] = None,
    session_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=40, description="ISO-8601 with a time zone; rows at or after it")] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO-8601 with a time zone; rows before it")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="Only rows with a smaller id (the next page)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> AuditPage:
    """The audit log, newest first, filtered by user, session, action and time (admins only)."""
    start, end = _moment(since), _moment(until)
    rows = await state.manager.registry.audit.entries(
        user=user, session_id=session_id, action=action, since=start, until=end, limit=limit, before=before
    )
    entries = [
        AuditEntryView(id=r.id, at=_iso(r.at) or "", user=r.user_name, key_id=r.key_id, client=r.client, action=r.action,
                       method=r.method, path=r.path, session_id=r.session_id, status=r.status)
        for r in rows
    ]
    return AuditPage(entries=entries, next_before=entries[-1].id if len(entries) == limit else None)


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise HTTPException(400, "since and until are ISO-8601 times with a time zone (e.g. 2026-12-06T00:00:00Z)")
    return moment


@router.get("/usage", responses=server_errors(403, 404, 503))
async def usage(request: Request, state: StateDep, user: Annotated[str | None, Query(max_length=128)] = None) -> Usage:
    """Spend this month (UTC) by day and by session, and the limits: your own; admins: any ``user``'s."""
    who = caller_of(request)
    name = user or (who.user if who is not None else None)
    if name is None:
        raise HTTPException(400, "name a user: ?user=NAME (the server has no sign-in, so there is no 'you')")
    if who is not None and name != who.user and who.role != ADMIN:
        raise HTTPException(403, "only admins read another user's usage")
    registry = state.manager.registry
    found = await registry.users.get_user(name)
    if found is None and name != "admin":
        raise HTTPException(404, f"no user {name!r}")
    spans = windows(utcnow())
    limits = []
    for window, limit in (("daily", found.daily_usd if found else None), ("monthly", found.monthly_usd if found else None)):
        start, reset = spans[window]
        spent = await registry.audit.spent_since(name, start)
        limits.append(SpendLimit(window=window, limit_usd=limit, spent_usd=round(spent, 6), resets_at=reset.isoformat()))  # type: ignore[arg-type]
    month = spans["monthly"][0]
    return Usage(
        user=name,
        limits=limits,
        by_day=[DaySpend(day=d, cost_usd=round(c, 6)) for d, c in await registry.audit.spend_by_day(name, month)],
        by_session=[SessionSpend(session_id=s, cost_usd=round(c, 6)) for s, c in await registry.audit.spend_by_session(name, month)],
    )
