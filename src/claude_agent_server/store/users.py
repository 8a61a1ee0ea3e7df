"""Users and their API keys (LiteLLM "virtual keys" style).

A key is ``cas_<key_id>_<secret>``: ``key_id`` (12 hex characters) is public and finds the
row; only the SHA-256 of the whole key is stored, compared in constant time. The key
itself is returned once, by :meth:`UserStore.create_key`, and never again. Revocation and
expiry are read from the database by :meth:`UserStore.authenticate` (the caller may cache
for a second at most; see ``web/identity.py``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar, get_args

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from .records import utcnow
from .tables import api_keys, users

T = TypeVar("T")
Run = Callable[..., Awaitable[Any]]
Role = Literal["admin", "member", "viewer"]
ROLES: tuple[str, ...] = get_args(Role)
KEY_PREFIX = "cas_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
LAST_USED_EVERY = timedelta(minutes=1)
"""A key's ``last_used_at`` is written at most this often (not on every request)."""


class UserError(ValueError):
    """A bad user name, role, limit or key id; or an unknown user or key (``missing``)."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    daily_usd: float | None
    monthly_usd: float | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key's row, without its hash."""

    key_id: str
    user_name: str
    name: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UserError(f"bad user name {name!r}: 1-128 of letters, digits and . _ @ + - (a letter or digit first)")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    return role


def _check_limit(value: float | None) -> float | None:
    if value is not None and not (value >= 0):
        raise UserError("a spending limit is a number of USD, 0 or more")
    return value


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str | None:
    """The id part of a key of ours, or None when ``key`` is not shaped like one."""
    if not key.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = key[len(KEY_PREFIX):].partition("_")
    return key_id if sep and secret and re.fullmatch(r"[0-9a-f]{12}", key_id) else None


_UNSET: Any = object()


class UserStore:
    """Users and keys on the registry's database.

    Args:
        run: The registry's transaction runner (``run(work, write=...)``).
    """

    def __init__(self, run: Run) -> None:
        self._run = run

    # -- users ---------------------------------------------------------------

    async def add_user(self, name: str, role: str = "member", daily_usd: float | None = None, monthly_usd: float | None = None) -> User:
        """Raises: UserError: a bad name or role, or the user exists."""
        user = User(check_name(name), check_role(role), _check_limit(daily_usd), _check_limit(monthly_usd), utcnow())

        def insert(conn: Connection) -> bool:
            if conn.execute(select(users.c.name).where(users.c.name == name)).first() is not None:
                return False
            conn.execute(users.insert().values(
                name=user.name, role=user.role, daily_usd=user.daily_usd, monthly_usd=user.monthly_usd, created_at=user.created_at
            ))
            return True

        if not await self._run(insert, write=True):
            raise UserError(f"user {name!r} exists")
        return user

    async def ensure_user(self, name: str, role: str) -> User:
        """The user ``name``, created with ``role`` when unknown (single sign-on: first sight)."""
        if (user := await self.get_user(name)) is not None:
            return user
        try:
            return await self.add_user(name, role)
        except UserError:
            user = await self.get_user(name)  # made by a concurrent request
            if user is None:
                raise
            return user

    async def get_user(self, name: str) -> User | None:
        query = select(users).where(users.c.name == name)
        row = await self._run(lambda conn: conn.execute(query).first())
        return None if row is None else User(**row._mapping)

    async def list_users(self) -> list[User]:
        query = select(users).order_by(users.c.name)
        return [User(**row._mapping) for row in await self._run(lambda conn: conn.execute(query).all())]

    async def set_user(self, name: str, *, role: str | None = None, daily_usd: float | None = _UNSET, monthly_usd: float | None = _UNSET) -> User:
        """Change a user's role or limits (a limit given as None is removed).

        Raises:
            UserError: a bad role or limit; ``missing`` when there is no such user.
        """
        values: dict[str, Any] = {}
        if role is not None:
            values["role"] = check_role(role)
        if daily_usd is not _UNSET:
            values["daily_usd"] = _check_limit(daily_usd)
        if monthly_usd is not _UNSET:
            values["monthly_usd"] = _check_limit(monthly_usd)
        if values:
            statement = update(users).where(users.c.name == name).values(**values)
            await self._run(lambda conn: conn.execute(statement), write=True)
        user = await self.get_user(name)
        if user is None:
            raise UserError(f"no user {name!r}", missing=True)
        return user

    async def count_users(self) -> int:
        query = select(func.count()).select_from(users)
        return int(await self._run(lambda conn: conn.execute(query).scalar_one()))

    # -- keys ----------------------------------------------------------------

    async def create_key(self, user_name: str, name: str | None = None, expires_at: datetime | None = None) -> tuple[ApiKey, str]:
        """A new key for ``user_name``: its row and the key itself (shown once, never stored).

        Raises:
            UserError: ``missing`` when there is no such user.
        """
        if await self.get_user(user_name) is None:
            raise UserError(f"no user {user_name!r}", missing=True)
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        row = ApiKey(key_id, user_name, name, utcnow(), expires_at, None, None)
        values = {"key_id": key_id, "user_name": user_name, "name": name, "key_hash": key_digest(key),
                  "created_at": row.created_at, "expires_at": expires_at}
        await self._run(lambda conn: conn.execute(api_keys.insert().values(**values)), write=True)
        return row, key

    async def list_keys(self, user_name: str | None = None) -> list[ApiKey]:
        query = select(*[c for c in api_keys.c if c.name != "key_hash"]).order_by(api_keys.c.created_at, api_keys.c.key_id)
        if user_name is not None:
            query = query.where(api_keys.c.user_name == user_name)
        return [ApiKey(**row._mapping) for row in await self._run(lambda conn: conn.execute(query).all())]

    async def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke a key (again: no change).

        Raises:
            UserError: ``missing`` when there is no such key.
        """
        statement = update(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=utcnow())
        await self._run(lambda conn: conn.execute(statement), write=True)
        found = [k for k in await self.list_keys() if k.key_id == key_id]
        if not found:
            raise UserError(f"no key {key_id!r}", missing=True)
        return found[0]

    async def authenticate(self, key: str) -> tuple[User, ApiKey] | None:
        """The user and key row of a valid key (right hash, not revoked, not expired), else None.
        Notes the use (``last_used_at``) at most every :data:`LAST_USED_EVERY`."""
        key_id = key_id_of(key)
        if key_id is None:
            return None
        query = (
            select(api_keys, users.c.role, users.c.daily_usd, users.c.monthly_usd, users.c.created_at.label("user_created_at"))
            .join(users, users.c.name == api_keys.c.user_name)
            .where(api_keys.c.key_id == key_id)
        )
        row = await self._run(lambda conn: conn.execute(query).first())
        if row is None or not secrets.compare_digest(row.key_hash, key_digest(key)):
            return None
        now = utcnow()
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return None
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
            statement = update(api_keys).where(api_keys.c.key_id == key_id).values(last_used_at=now)
            await self._run(lambda conn: conn.execute(statement), write=True)
        user = User(row.user_name, row.role, row.daily_usd, row.monthly_usd, row.user_created_at)
        return user, ApiKey(row.key_id, row.user_name, row.name, row.created_at, row.expires_at, row.last_used_at, row.revoked_at)


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``45m``, ``2w`` as a timedelta.

    Raises:
        UserError: Another shape.
    """
    match = re.fullmatch(r"(\d{1,6})([mhdw])", text.strip())
    if not match:
        raise UserError(f"bad duration {text!r}: a number and m, h, d or w (e.g. 30d)")
    unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})
